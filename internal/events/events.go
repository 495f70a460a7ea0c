package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// IDKind prefixes event ids: webhook-event-<env>-<uuid>, the form of
// Stytch's event_id.
const IDKind = "webhook-event"

// The event types. Stytch emits the user events; the others are Latch's own.
const (
	UserCreate                = "direct.user.create"
	UserUpdate                = "direct.user.update"
	UserDelete                = "direct.user.delete"
	SessionCreate             = "direct.session.create"
	SessionRevoke             = "direct.session.revoke"
	SessionUpdate             = "direct.session.update"
	MagicLinkSend             = "direct.magic_link.send"
	MagicLinkRevokeInvite     = "direct.magic_link.revoke_invite"
	OTPSend                   = "direct.otp.send"
	PasswordUpdate            = "direct.password.update"
	PasswordStrengthCheckFail = "direct.password.strength_check_fail"
	ConnectedAppCreate        = "direct.connected_app.create"
	ConnectedAppUpdate        = "direct.connected_app.update"
	ConnectedAppDelete        = "direct.connected_app.delete"
	ConnectedAppConsentGrant  = "direct.connected_app_consent.grant"
	ConnectedAppConsentRevoke = "direct.connected_app_consent.revoke"
	ConnectedAppTokenRevoke   = "direct.connected_app_token.revoke"
)

// TypeInfo documents one event type.
type TypeInfo struct {
	Name string
	// When says what triggers it.
	When string
	// Object says what the body carries under the object_type key; empty
	// when the body carries no object (only its id).
	Object string
}

// Types lists every event type, in documentation order.
var Types = []TypeInfo{
	{UserCreate, "a user is created (users.create, or a login that creates the user)", "the user, as users.get returns it"},
	{UserUpdate, "a user's fields, emails or phone numbers change", "the user after the change"},
	{UserDelete, "a user is deleted", ""},
	{SessionCreate, "a session starts (any authenticate call that creates one)", "the session, without token or JWT"},
	{SessionRevoke, "a session is revoked", "the revoked session, without token or JWT"},
	{SessionUpdate, "an authenticate call adds or refreshes a factor on an existing session (not sessions.authenticate extending it)", "the session after the change, without token or JWT"},
	{MagicLinkSend, "a magic link email is queued", "user_id, email_id and email of the recipient"},
	{MagicLinkRevokeInvite, "the pending invites to an email are revoked (magic_links.email.revokeInvite)", "user_id, email_id, email and the number of invites revoked"},
	{OTPSend, "a one-time passcode is queued by SMS, WhatsApp or email", "user_id, the method id and the channel, never the code"},
	{PasswordUpdate, "a user's password is set, reset or migrated", "user_id and password_id"},
	{PasswordStrengthCheckFail, "a password is refused for strength (strength_check, create, reset)", "user_id if known and the feedback, never the password"},
	{ConnectedAppCreate, "a Connected Apps client is created", "the client, as connectedApp.clients.get returns it (never a secret)"},
	{ConnectedAppUpdate, "a Connected Apps client is updated or its secret rotation starts, completes or is cancelled", "the client after the change (never a secret)"},
	{ConnectedAppDelete, "a Connected Apps client is deleted", ""},
	{ConnectedAppConsentGrant, "idp.oauth.authorize records a user's consent to a client and issues a code (every consented call, a first grant or a repeat)", "user_id, connected_app_id and scopes_granted (all scopes now granted, space-separated)"},
	{ConnectedAppConsentRevoke, "a user's grant to a client is revoked (users.revoke), with every code and token issued under it", "user_id and connected_app_id"},
	{ConnectedAppTokenRevoke, "a replayed authorization code or rotated-out refresh token revokes the tokens of its authorization", "user_id, connected_app_id and reason (authorization_code_reuse or refresh_token_reuse)"},
}

// Known reports whether name is an event type.
func Known(name string) bool {
	for _, t := range Types {
		if t.Name == name {
			return true
		}
	}
	return false
}

// Names returns every event type name.
func Names() []string {
	out := make([]string, len(Types))
	for i, t := range Types {
		out[i] = t.Name
	}
	return out
}

// Appender is what Append needs of the store: any store.Store, usually
// the one bound to the caller's transaction.
type Appender interface {
	AppendEvent(ctx context.Context, e *store.Event) error
}

// Append records an event of type typ (one of the constants) about
// objectID in p's event log, through st: pass the transaction-bound store
// of the change so the event commits or rolls back with it. now is the
// change's time. object is put in the body under its object type ("user":
// {...}) when not nil: a struct, a map or json.RawMessage; pass nil for
// deletions. Secret-bearing fields are stripped from it.
func Append(ctx context.Context, st Appender, p tenant.Project, now time.Time, typ, objectID string, object any) error {
	e, err := Build(p, now, typ, objectID, object)
	if err != nil {
		return err
	}
	return st.AppendEvent(ctx, e)
}

// Build makes the event Append stores, with its id and its webhook body:
//
//	{"action":"CREATE","event_id":"webhook-event-test-...","id":"user-test-...",
//	 "object_type":"user","project_id":"project-test-...","source":"DIRECT",
//	 "timestamp":"2024-11-21T06:47:49.555247073Z","user":{...},"vertical":"CONSUMER"}
func Build(p tenant.Project, now time.Time, typ, objectID string, object any) (*store.Event, error) {
	if !Known(typ) {
		return nil, fmt.Errorf("events: unknown event type %q", typ)
	}
	parts := strings.SplitN(typ, ".", 3)
	source, objectType, action := strings.ToUpper(parts[0]), parts[1], strings.ToUpper(parts[2])
	now = now.UTC()
	id := ids.New(IDKind, p.Environment)
	body := map[string]any{
		"action":      action,
		"event_id":    id,
		"id":          objectID,
		"object_type": objectType,
		"project_id":  p.ID,
		"source":      source,
		"timestamp":   now.Format(time.RFC3339Nano),
		"vertical":    vertical(p.Vertical),
	}
	if object != nil {
		raw, err := objectJSON(object)
		if err != nil {
			return nil, fmt.Errorf("events: %s object: %w", typ, err)
		}
		if raw != nil {
			body[objectType] = raw
		}
	}
	payload, err := marshal(body)
	if err != nil {
		return nil, err
	}
	return &store.Event{
		ProjectID:  p.ID,
		ID:         id,
		Type:       typ,
		ObjectType: objectType,
		Action:     action,
		ObjectID:   objectID,
		Payload:    payload,
		CreatedAt:  now,
	}, nil
}

func vertical(v tenant.Vertical) string {
	if strings.EqualFold(string(v), string(tenant.B2B)) {
		return "B2B"
	}
	return "CONSUMER"
}

func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// objectJSON encodes object and strips secrets from it; nil for a JSON null.
func objectJSON(object any) (json.RawMessage, error) {
	var raw []byte
	switch o := object.(type) {
	case json.RawMessage:
		raw = o
	case []byte:
		raw = o
	default:
		b, err := marshal(object)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if !mentionsSecret(raw) {
		if !json.Valid(raw) {
			return nil, fmt.Errorf("invalid JSON")
		}
		return json.RawMessage(raw), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return marshal(scrub(v))
}

// secretKeys are field names whose values are credentials; they are
// removed at any depth. "password" goes only when it holds a string (a
// plaintext), since Stytch's user object has a password object of ids.
var secretKeys = map[string]bool{
	"session_token": true, "session_jwt": true, "intermediate_session_token": true,
	"token": true, "token_hash": true, "code": true, "code_hash": true, "otp": true,
	"secret": true, "client_secret": true, "secret_sealed": true, "private_key": true,
	"hash": true, "password_hash": true, "recovery_codes": true, "backup_codes": true,
	"qr_code": true, "link": true, "magic_link_url": true, "access_token": true,
	"refresh_token": true, "id_token": true,
}

func mentionsSecret(raw []byte) bool {
	for k := range secretKeys {
		if bytes.Contains(raw, []byte(`"`+k+`"`)) {
			return true
		}
	}
	return bytes.Contains(raw, []byte(`"password"`))
}

func scrub(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if _, isString := val.(string); secretKeys[k] || (k == "password" && isString) {
				delete(t, k)
				continue
			}
			t[k] = scrub(val)
		}
	case []any:
		for i := range t {
			t[i] = scrub(t[i])
		}
	}
	return v
}
