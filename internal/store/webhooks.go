package store

import (
	"context"
	"encoding/json"
	"time"
)

// Event is one entry of a project's durable event log. It is appended in
// the same transaction as the state change it records.
type Event struct {
	ProjectID  string
	ID         string // webhook-event-<env>-<uuid>
	Type       string // source.object_type.action, e.g. direct.user.create
	ObjectType string // user, session, ...
	Action     string // CREATE, UPDATE, DELETE, ...
	ObjectID   string
	Payload    json.RawMessage // the full webhook body, exactly as sent
	CreatedAt  time.Time
}

// WebhookEndpoint is a receiver registered for a project environment.
type WebhookEndpoint struct {
	ProjectID string
	ID        string // webhook-<env>-<uuid>
	URL       string
	// Events is the filter of event types delivered; empty means all.
	Events []string
	// Secret is the signing key sealed with secrets.Sealer (aad
	// "<project_id>/<webhook_id>"); the plaintext is never stored.
	Secret    []byte
	CreatedAt time.Time
}

// Webhook delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliverySending   = "sending"   // leased by a dispatcher
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // gave up after the attempt cap
	DeliveryCanceled  = "canceled"  // the endpoint was deleted first
)

// WebhookDelivery is one event bound for one endpoint.
type WebhookDelivery struct {
	// ID is a database sequence: per endpoint, deliveries go out in ID
	// order. A replay is a new delivery with a new ID.
	ID          int64
	ProjectID   string
	WebhookID   string
	EventID     string
	EventType   string // filled by reads from the event
	Status      string // one of the Delivery* constants
	Attempts    int    // attempts started (a lease counts as one)
	NextAttempt time.Time
	LeaseUntil  *time.Time
	LastError   string
	LastStatus  int // HTTP status of the last attempt, 0 if none answered
	CreatedAt   time.Time
	DeliveredAt *time.Time
}

// LeasedDelivery is a delivery claimed by LeaseDeliveries together with
// what sending it needs.
type LeasedDelivery struct {
	WebhookDelivery
	URL     string
	Secret  []byte // sealed, as in WebhookEndpoint
	Payload json.RawMessage
}

// WebhookStore holds the event log, webhook endpoints and deliveries.
type WebhookStore interface {
	// AppendEvent stores e and, in the same transaction, queues one pending
	// delivery (due at e.CreatedAt) to every live endpoint of the project
	// whose filter matches e.Type. Endpoints are read from the database on
	// every call, so one registered a moment ago by another process gets
	// the next event. Call it inside the Tx of the change it records.
	AppendEvent(ctx context.Context, e *Event) error
	// DeleteEventsBefore deletes up to limit events created before before,
	// across projects, with their delivery records; an event with a
	// delivery still pending or sending is kept until that settles.
	DeleteEventsBefore(ctx context.Context, before time.Time, limit int) (int64, error)
	GetEvent(ctx context.Context, projectID, eventID string) (*Event, error)
	// ListEvents lists a project's events newest first.
	ListEvents(ctx context.Context, projectID string, limit int) ([]Event, error)

	CreateWebhook(ctx context.Context, w *WebhookEndpoint) error
	// GetWebhook returns a live endpoint; deleted ones are ErrNotFound.
	GetWebhook(ctx context.Context, projectID, webhookID string) (*WebhookEndpoint, error)
	// ListWebhooks lists a project's live endpoints, oldest first.
	ListWebhooks(ctx context.Context, projectID string) ([]WebhookEndpoint, error)
	// DeleteWebhook retires an endpoint: it gets no new deliveries, its
	// pending and in-flight ones become canceled, and its sealed secret is
	// erased. Its delivery history stays listable.
	DeleteWebhook(ctx context.Context, projectID, webhookID string, at time.Time) error

	// LeaseDeliveries claims up to n deliveries due at now until now+lease.
	// Only the head of each endpoint's queue is ever claimed: the lowest-ID
	// delivery that is pending or sending. A delivery is due when it is
	// pending with NextAttempt <= now, or sending with an expired lease
	// (its dispatcher died). Leasing counts an attempt. Concurrent callers,
	// in any process, never claim the same delivery under one lease.
	// Failed and canceled deliveries no longer block their endpoint.
	LeaseDeliveries(ctx context.Context, now time.Time, lease time.Duration, n int) ([]LeasedDelivery, error)
	// MarkDelivered records success of the given attempt. It fails with
	// ErrConsumed when that attempt no longer holds the lease (it expired
	// and another dispatcher took it, or the endpoint was deleted).
	MarkDelivered(ctx context.Context, id int64, attempt int, httpStatus int, at time.Time) error
	// MarkDeliveryFailed records a failed attempt: pending again from next,
	// or failed for good when final. ErrConsumed as for MarkDelivered.
	MarkDeliveryFailed(ctx context.Context, id int64, attempt int, errText string, httpStatus int, next time.Time, final bool) error
	// ListDeliveries lists a project's deliveries newest first, of one
	// endpoint when webhookID is not empty.
	ListDeliveries(ctx context.Context, projectID, webhookID string, limit int) ([]WebhookDelivery, error)
	// RequeueEvent queues the event again, due at now, as new deliveries
	// at the back of each endpoint's queue: to webhookID if given (a live
	// endpoint, whatever its filter), else to every live endpoint that
	// already had a delivery of it. ErrNotFound if the event or the named
	// endpoint does not exist.
	RequeueEvent(ctx context.Context, projectID, eventID, webhookID string, now time.Time) ([]WebhookDelivery, error)
}
