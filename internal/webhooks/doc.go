// Package webhooks owns webhook endpoints and their delivery. Service
// registers, lists and deletes endpoints (each with its own signing
// secret, sealed at rest), lists deliveries and replays events. Dispatcher
// leases due deliveries from the store and POSTs each event's body, signed
// the Standard Webhooks / Svix way and Stytch's way, retrying with
// exponential backoff. Per endpoint, deliveries go out one at a time in
// the order their events were appended, from any number of dispatchers in
// any number of processes.
//
// The events themselves are written by package events, inside the
// transaction of the change they record.
package webhooks
