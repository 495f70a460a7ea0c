// Package events is Latch's event vocabulary and the one call services
// make to record a state change: Append, inside the transaction of the
// change. Each event is stored in the project's durable event log
// (store.WebhookStore) with the exact webhook body Stytch sends, and the
// store queues it in the same transaction for every webhook endpoint of the
// project whose filter matches; package webhooks delivers it.
//
// Names follow Stytch's source.object_type.action convention, with the
// action segment always the lower case of the payload's "action" field
// (direct.user.create has "action":"CREATE"). Events never carry secrets:
// Append strips token, code, secret and hash fields from the object at any
// depth, so a careless caller cannot leak one.
package events
