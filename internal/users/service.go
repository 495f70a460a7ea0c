// Package users owns consumer users: create, read, update, delete, search,
// and removing an email or phone number. Emails and phones are normalised
// by package contact; every operation is scoped to the calling project.
package users

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/clock"
	"github.com/latchhq/latch/internal/contact"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/wire"
)

const (
	maxMetadataBytes = 4096
	maxNameLen       = 255
	maxRoles         = 100
)

var externalIDPattern = regexp.MustCompile(`^[A-Za-z0-9._|-]{1,128}$`)

// Service implements users.
type Service struct {
	store store.Store
	clock clock.Clock
	// Changed is told after a user is changed or deleted, so caches of it
	// (the sessions hot path) drop it.
	Changed func(projectID, userID string)
}

func (s *Service) changed(projectID, userID string) {
	if s.Changed != nil {
		s.Changed(projectID, userID)
	}
}

// New returns a users service.
func New(st store.Store, c clock.Clock) *Service { return &Service{store: st, clock: c} }

// NameInput is a partial name: nil fields are left as they are.
type NameInput struct {
	FirstName  *string `json:"first_name"`
	MiddleName *string `json:"middle_name"`
	LastName   *string `json:"last_name"`
}

// Apply writes the given name parts onto u.
func (n *NameInput) Apply(u *store.User) error {
	if n == nil {
		return nil
	}
	for _, f := range []struct {
		v   *string
		dst *string
	}{{n.FirstName, &u.FirstName}, {n.MiddleName, &u.MiddleName}, {n.LastName, &u.LastName}} {
		if f.v == nil {
			continue
		}
		v := strings.TrimSpace(*f.v)
		if len(v) > maxNameLen {
			return apierr.InvalidName
		}
		*f.dst = v
	}
	return nil
}

// CreateInput is users.create.
type CreateInput struct {
	Email               string
	PhoneNumber         string
	Name                *NameInput
	CreateUserAsPending bool
	TrustedMetadata     json.RawMessage
	UntrustedMetadata   json.RawMessage
	ExternalID          string
	Roles               []string
}

// Created is the users.create result.
type Created struct {
	User    *store.User
	EmailID string
	PhoneID string
}

// CheckMetadata requires a JSON object (or null) within the size limit.
func CheckMetadata(field string, m json.RawMessage) (json.RawMessage, error) {
	if len(m) == 0 || string(m) == "null" {
		return nil, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(m, &obj); err != nil {
		return nil, apierr.InvalidArgument.Withf("%s must be a JSON object.", field)
	}
	if len(m) > maxMetadataBytes {
		return nil, apierr.MetadataTooLarge.Withf("%s may hold at most 4 KB of JSON.", field)
	}
	b, _ := json.Marshal(obj)
	return b, nil
}

// CheckExternalID validates an external_id ("" is none).
func CheckExternalID(id string) error {
	if id != "" && !externalIDPattern.MatchString(id) {
		return apierr.InvalidExternalID
	}
	return nil
}

// CheckRoles validates a user's roles.
func CheckRoles(roles []string) error { return checkRoles(roles) }

func checkRoles(roles []string) error {
	if len(roles) > maxRoles {
		return apierr.InvalidRoles.With("A user may hold at most 100 roles.")
	}
	for _, r := range roles {
		if strings.TrimSpace(r) == "" || len(r) > 128 {
			return apierr.InvalidRoles
		}
	}
	return nil
}

// NormalizeEmail maps contact's error to Stytch's.
func NormalizeEmail(s string) (string, error) {
	e, err := contact.NormalizeEmail(s)
	if err != nil {
		return "", apierr.InvalidEmail
	}
	return e, nil
}

// NormalizePhone maps contact's error to Stytch's.
func NormalizePhone(s string) (string, error) {
	p, err := contact.NormalizePhone(s)
	if err != nil {
		return "", apierr.InvalidPhoneNumber
	}
	return p, nil
}

// Create makes a user, active unless asked to stay pending.
func (s *Service) Create(ctx context.Context, p tenant.Project, in CreateInput) (*Created, error) {
	now := s.clock.Now()
	u := &store.User{
		ProjectID: p.ID,
		ID:        ids.New(ids.User, p.Environment),
		Status:    "active",
		Roles:     in.Roles,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if in.CreateUserAsPending {
		u.Status = "pending"
	}
	if err := in.Name.Apply(u); err != nil {
		return nil, err
	}
	var err error
	if u.TrustedMetadata, err = CheckMetadata("trusted_metadata", in.TrustedMetadata); err != nil {
		return nil, err
	}
	if u.UntrustedMetadata, err = CheckMetadata("untrusted_metadata", in.UntrustedMetadata); err != nil {
		return nil, err
	}
	if in.ExternalID != "" {
		if !externalIDPattern.MatchString(in.ExternalID) {
			return nil, apierr.InvalidExternalID
		}
		u.ExternalID = in.ExternalID
	}
	if err := checkRoles(in.Roles); err != nil {
		return nil, err
	}
	res := &Created{User: u}
	if in.Email != "" {
		addr, err := NormalizeEmail(in.Email)
		if err != nil {
			return nil, err
		}
		e := store.Email{ID: ids.New(ids.Email, p.Environment), UserID: u.ID, Address: addr, CreatedAt: now}
		u.Emails = []store.Email{e}
		res.EmailID = e.ID
	}
	if in.PhoneNumber != "" {
		num, err := NormalizePhone(in.PhoneNumber)
		if err != nil {
			return nil, err
		}
		ph := store.Phone{ID: ids.New(ids.PhoneNumber, p.Environment), UserID: u.ID, Number: num, CreatedAt: now}
		u.Phones = []store.Phone{ph}
		res.PhoneID = ph.ID
	}
	err = s.store.Tx(ctx, func(tx store.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return conflict(err)
		}
		return Event(ctx, tx, p, u, now, events.UserCreate)
	})
	if err != nil {
		return nil, err
	}
	if u.Emails == nil {
		u.Emails = []store.Email{}
	}
	if u.Phones == nil {
		u.Phones = []store.Phone{}
	}
	return res, nil
}

// conflict turns a store uniqueness error into Stytch's error type.
func conflict(err error) error {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		switch ce.Field {
		case "email":
			return apierr.DuplicateEmail
		case "phone_number":
			return apierr.DuplicatePhoneNumber
		case "external_id":
			return apierr.DuplicateUserExternalID
		}
	}
	return err
}

// Get finds a user by user_id or external_id.
func (s *Service) Get(ctx context.Context, p tenant.Project, id string) (*store.User, error) {
	return Lookup(ctx, s.store, p, id)
}

// Lookup resolves a user_id or, failing the id shape, an external_id.
func Lookup(ctx context.Context, st store.Store, p tenant.Project, id string) (*store.User, error) {
	var u *store.User
	var err error
	switch {
	case ids.Valid(ids.User, id):
		u, err = st.GetUser(ctx, p.ID, id)
	case externalIDPattern.MatchString(id):
		u, err = st.GetUserByExternalID(ctx, p.ID, id)
	default:
		return nil, apierr.InvalidUserID
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.UserNotFound
	}
	return u, err
}

// UpdateInput is users.update; nil fields are left unchanged.
type UpdateInput struct {
	Name              *NameInput
	TrustedMetadata   json.RawMessage
	UntrustedMetadata json.RawMessage
	ExternalID        *string
	Roles             *[]string
}

// mergeMetadata applies Stytch's metadata update rule: top-level keys are
// replaced, a null value deletes its key.
func mergeMetadata(field string, cur, update json.RawMessage) (json.RawMessage, error) {
	if len(update) == 0 {
		return cur, nil
	}
	if string(update) == "null" {
		return nil, nil
	}
	var up map[string]any
	if err := json.Unmarshal(update, &up); err != nil {
		return nil, apierr.InvalidArgument.Withf("%s must be a JSON object.", field)
	}
	m := map[string]any{}
	_ = json.Unmarshal(cur, &m)
	for k, v := range up {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	if len(b) > maxMetadataBytes {
		return nil, apierr.MetadataTooLarge.Withf("%s may hold at most 4 KB of JSON.", field)
	}
	return b, nil
}

// Update changes a user's name, metadata, external id or roles.
func (s *Service) Update(ctx context.Context, p tenant.Project, id string, in UpdateInput) (*store.User, error) {
	var out *store.User
	err := s.store.Tx(ctx, func(tx store.Store) error {
		u, err := Lookup(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := in.Name.Apply(u); err != nil {
			return err
		}
		if u.TrustedMetadata, err = mergeMetadata("trusted_metadata", u.TrustedMetadata, in.TrustedMetadata); err != nil {
			return err
		}
		if u.UntrustedMetadata, err = mergeMetadata("untrusted_metadata", u.UntrustedMetadata, in.UntrustedMetadata); err != nil {
			return err
		}
		if in.ExternalID != nil {
			if *in.ExternalID != "" && !externalIDPattern.MatchString(*in.ExternalID) {
				return apierr.InvalidExternalID
			}
			u.ExternalID = *in.ExternalID
		}
		if in.Roles != nil {
			if err := checkRoles(*in.Roles); err != nil {
				return err
			}
			u.Roles = *in.Roles
		}
		u.UpdatedAt = s.clock.Now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return conflict(err)
		}
		out = u
		return Event(ctx, tx, p, u, u.UpdatedAt, events.UserUpdate)
	})
	if err == nil {
		s.changed(p.ID, out.ID)
	}
	return out, err
}

// Delete removes a user with its emails, phones, sessions and tokens.
func (s *Service) Delete(ctx context.Context, p tenant.Project, id string) (string, error) {
	var userID string
	err := s.store.Tx(ctx, func(tx store.Store) error {
		u, err := Lookup(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, p.ID, u.ID); errors.Is(err, store.ErrNotFound) {
			return apierr.UserNotFound
		} else if err != nil {
			return err
		}
		userID = u.ID
		return events.Append(ctx, tx, p, s.clock.Now(), events.UserDelete, u.ID, nil)
	})
	if err != nil {
		return "", err
	}
	s.changed(p.ID, userID)
	return userID, nil
}

// DeleteEmail removes one email from its user.
func (s *Service) DeleteEmail(ctx context.Context, p tenant.Project, emailID string) (*store.User, error) {
	return s.deleteFactor(ctx, p, ids.Valid(ids.Email, emailID), apierr.InvalidEmailID, apierr.EmailNotFound,
		func(tx store.Store) (string, error) {
			e, err := tx.GetEmail(ctx, p.ID, emailID)
			if err != nil {
				return "", err
			}
			return e.UserID, tx.DeleteEmail(ctx, p.ID, emailID)
		})
}

// DeletePhone removes one phone number from its user.
func (s *Service) DeletePhone(ctx context.Context, p tenant.Project, phoneID string) (*store.User, error) {
	return s.deleteFactor(ctx, p, ids.Valid(ids.PhoneNumber, phoneID), apierr.InvalidPhoneID, apierr.PhoneNumberNotFound,
		func(tx store.Store) (string, error) {
			ph, err := tx.GetPhone(ctx, p.ID, phoneID)
			if err != nil {
				return "", err
			}
			return ph.UserID, tx.DeletePhone(ctx, p.ID, phoneID)
		})
}

// DeleteTOTP removes a TOTP registration (and its recovery codes).
func (s *Service) DeleteTOTP(ctx context.Context, p tenant.Project, totpID string) (*store.User, error) {
	return s.deleteFactor(ctx, p, ids.Valid(ids.TOTP, totpID), apierr.TOTPNotFound, apierr.TOTPNotFound,
		func(tx store.Store) (string, error) {
			t, err := tx.GetTOTP(ctx, p.ID, totpID)
			if err != nil {
				return "", err
			}
			return t.UserID, tx.DeleteTOTP(ctx, p.ID, totpID)
		})
}

// DeletePassword removes a user's password.
func (s *Service) DeletePassword(ctx context.Context, p tenant.Project, passwordID string) (*store.User, error) {
	return s.deleteFactor(ctx, p, ids.Valid(ids.Password, passwordID), apierr.PasswordNotFound, apierr.PasswordNotFound,
		func(tx store.Store) (string, error) {
			pw, err := tx.GetPasswordByID(ctx, p.ID, passwordID)
			if err != nil {
				return "", err
			}
			return pw.UserID, tx.DeletePassword(ctx, p.ID, passwordID)
		})
}

// deleteFactor runs del (which finds the factor's user and deletes it) in a
// transaction and returns the user as it is afterwards.
func (s *Service) deleteFactor(ctx context.Context, p tenant.Project, valid bool, invalid, notFound *apierr.Error,
	del func(tx store.Store) (userID string, err error)) (*store.User, error) {
	if !valid {
		return nil, invalid
	}
	var out *store.User
	err := s.store.Tx(ctx, func(tx store.Store) error {
		userID, err := del(tx)
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		if out, err = tx.GetUser(ctx, p.ID, userID); err != nil {
			return err
		}
		return Event(ctx, tx, p, out, s.clock.Now(), events.UserUpdate)
	})
	if err != nil {
		return nil, err
	}
	s.changed(p.ID, out.ID)
	return out, nil
}

// Event records a user event (events.UserCreate or UserUpdate) with the
// user as it is now, inside the change's transaction tx.
func Event(ctx context.Context, tx store.Store, p tenant.Project, u *store.User, now time.Time, typ string) error {
	return events.Append(ctx, tx, p, now, typ, u.ID, wire.UserFrom(u, now))
}

// Authenticated records a successful authentication of u inside tx: a
// pending user becomes active, and when that or a just-verified factor
// (changed) altered the user, a user update event is appended.
func Authenticated(ctx context.Context, tx store.Store, p tenant.Project, u *store.User, now time.Time, changed bool) error {
	if u.Status != "active" {
		u.Status, u.UpdatedAt, changed = "active", now, true
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	return Event(ctx, tx, p, u, now, events.UserUpdate)
}

// View renders a user for a response.
func (s *Service) View(u *store.User) wire.User { return wire.UserFrom(u, s.clock.Now()) }
