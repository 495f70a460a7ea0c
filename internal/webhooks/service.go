package webhooks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/projects"
	"github.com/latchhq/latch/internal/secrets"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// IDKind prefixes endpoint ids: webhook-<env>-<uuid>.
const IDKind = "webhook"

// ErrInvalid marks a request the operator must fix (URL, event filter).
var ErrInvalid = errors.New("webhooks: invalid")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Service manages webhook endpoints.
type Service struct {
	Store  store.Store
	Sealer *secrets.Sealer
	Clock  clock.Clock
	// Notify, if set, wakes a dispatcher in this process after a replay.
	Notify func()
}

// NewService returns a service sealing secrets with sealer.
func NewService(st store.Store, sealer *secrets.Sealer, c clock.Clock) *Service {
	return &Service{Store: st, Sealer: sealer, Clock: c}
}

// Created is a new endpoint with its secret, shown this once.
type Created struct {
	WebhookID string    `json:"webhook_id"`
	Secret    string    `json:"secret"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	ProjectID string    `json:"project_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Webhook is an endpoint as listed: never its secret.
type Webhook struct {
	WebhookID string    `json:"webhook_id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"` // empty: every event
	ProjectID string    `json:"project_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is a delivery as listed.
type Delivery struct {
	DeliveryID  int64      `json:"delivery_id"`
	WebhookID   string     `json:"webhook_id"`
	EventID     string     `json:"event_id"`
	EventType   string     `json:"event_type"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	NextAttempt time.Time  `json:"next_attempt"`
	LastError   string     `json:"last_error"`
	LastStatus  int        `json:"last_status"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
}

// Event is an event as listed.
type Event struct {
	EventID   string    `json:"event_id"`
	Type      string    `json:"type"`
	ObjectID  string    `json:"object_id"`
	CreatedAt time.Time `json:"created_at"`
}

// secretAAD binds a sealed secret to its endpoint.
func secretAAD(projectID, webhookID string) []byte {
	return []byte(projectID + "/" + webhookID)
}

// ValidateURL checks an endpoint URL for a project environment: https
// always; plain http only for a test environment's loopback receiver
// (localhost, 127.0.0.0/8, ::1).
func ValidateURL(env tenant.Environment, raw string) error {
	if err := projects.CheckOutboundURL(raw, env); err != nil {
		return fmt.Errorf("%w: webhook %v", ErrInvalid, err)
	}
	return nil
}

// normalizeEvents checks a filter against the known event types and drops
// duplicates; empty means every event.
func normalizeEvents(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, e := range in {
		e = strings.TrimSpace(e)
		if e == "" || seen[e] {
			continue
		}
		if !events.Known(e) {
			return nil, invalid("unknown event type %q (known: %s)", e, strings.Join(events.Names(), ", "))
		}
		seen[e] = true
		out = append(out, e)
	}
	return out, nil
}

// Create registers an endpoint for a project environment and returns its
// secret, which is stored only sealed.
func (s *Service) Create(ctx context.Context, projectID, rawURL string, eventTypes []string) (*Created, error) {
	p, err := s.Store.GetProject(ctx, projectID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("project %s not found", projectID)
		}
		return nil, err
	}
	env := tenant.Environment(p.Environment)
	if err := ValidateURL(env, rawURL); err != nil {
		return nil, err
	}
	filter, err := normalizeEvents(eventTypes)
	if err != nil {
		return nil, err
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	id := ids.New(IDKind, env)
	w := &store.WebhookEndpoint{
		ProjectID: p.ID,
		ID:        id,
		URL:       rawURL,
		Events:    filter,
		Secret:    s.Sealer.Seal(key, secretAAD(p.ID, id)),
		CreatedAt: s.Clock.Now(),
	}
	if err := s.Store.CreateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return &Created{WebhookID: id, Secret: EncodeSecret(key), URL: rawURL, Events: filter, ProjectID: p.ID, CreatedAt: w.CreatedAt}, nil
}

// List lists a project's endpoints, oldest first.
func (s *Service) List(ctx context.Context, projectID string) ([]Webhook, error) {
	list, err := s.Store.ListWebhooks(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]Webhook, len(list))
	for i, w := range list {
		out[i] = Webhook{WebhookID: w.ID, URL: w.URL, Events: w.Events, ProjectID: w.ProjectID, CreatedAt: w.CreatedAt}
	}
	return out, nil
}

// Delete removes an endpoint; its queued deliveries are canceled.
func (s *Service) Delete(ctx context.Context, projectID, webhookID string) error {
	err := s.Store.DeleteWebhook(ctx, projectID, webhookID, s.Clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("webhook %s not found in project %s", webhookID, projectID)
	}
	return err
}

// Deliveries lists deliveries newest first, of one endpoint if webhookID
// is set. limit <= 0 means 100.
func (s *Service) Deliveries(ctx context.Context, projectID, webhookID string, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	list, err := s.Store.ListDeliveries(ctx, projectID, webhookID, limit)
	if err != nil {
		return nil, err
	}
	return toDeliveries(list), nil
}

func toDeliveries(list []store.WebhookDelivery) []Delivery {
	out := make([]Delivery, len(list))
	for i, d := range list {
		out[i] = Delivery{DeliveryID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: d.EventType, Status: d.Status,
			Attempts: d.Attempts, NextAttempt: d.NextAttempt, LastError: d.LastError, LastStatus: d.LastStatus,
			CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt}
	}
	return out
}

// Events lists a project's events newest first. limit <= 0 means 100.
func (s *Service) Events(ctx context.Context, projectID string, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 100
	}
	list, err := s.Store.ListEvents(ctx, projectID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(list))
	for i, e := range list {
		out[i] = Event{EventID: e.ID, Type: e.Type, ObjectID: e.ObjectID, CreatedAt: e.CreatedAt}
	}
	return out, nil
}

// Replay queues an event again, now: to webhookID if set (whatever its
// filter), else to every live endpoint that had it. The receiver sees the
// same event id (webhook-id) as before.
func (s *Service) Replay(ctx context.Context, projectID, eventID, webhookID string) ([]Delivery, error) {
	list, err := s.Store.RequeueEvent(ctx, projectID, eventID, webhookID, s.Clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		if webhookID != "" {
			return nil, fmt.Errorf("event %s or webhook %s not found in project %s", eventID, webhookID, projectID)
		}
		return nil, fmt.Errorf("event %s not found in project %s", eventID, projectID)
	}
	if err != nil {
		return nil, err
	}
	if s.Notify != nil && len(list) > 0 {
		s.Notify()
	}
	return toDeliveries(list), nil
}
