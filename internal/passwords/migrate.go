package passwords

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/events"
	"github.com/latchhq/latch/internal/hashes"
	"github.com/latchhq/latch/internal/ids"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
	"github.com/latchhq/latch/internal/users"
)

// MigrateInput is passwords.migrate.
type MigrateInput struct {
	Email                  string
	Migration              hashes.Migration
	TrustedMetadata        json.RawMessage
	UntrustedMetadata      json.RawMessage
	SetEmailVerified       bool
	Name                   *users.NameInput
	PhoneNumber            string
	SetPhoneNumberVerified bool
	ExternalID             string
	Roles                  []string
}

// Migrate imports a user's password hash from another system, creating the
// user if the email is new. The hash is kept as given (normalised) and
// replaced by argon2id on the first successful login.
func (s *Service) Migrate(ctx context.Context, p tenant.Project, in MigrateInput) (*Result, error) {
	addr, err := users.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	// The server's hasher also refuses a hash too costly for its memory budget.
	stored, err := s.Hasher.Normalize(in.Migration)
	if err != nil {
		var he *hashes.Error
		if errors.As(err, &he) {
			return nil, (&apierr.Error{Status: 400, Type: he.Type, Msg: he.Msg})
		}
		return nil, apierr.InvalidHash.Wrap(err)
	}
	now := s.Clock.Now()
	out := &Result{}
	err = s.Store.Tx(ctx, func(tx store.Store) error {
		var u *store.User
		e, err := tx.GetEmailByAddress(ctx, p.ID, addr)
		switch {
		case err == nil:
			if u, err = tx.GetUser(ctx, p.ID, e.UserID); err != nil {
				return err
			}
			out.EmailID = e.ID
		case errors.Is(err, store.ErrNotFound):
			u = &store.User{ProjectID: p.ID, ID: ids.New(ids.User, p.Environment), Status: "active", Roles: in.Roles, CreatedAt: now, UpdatedAt: now}
			if err := in.Name.Apply(u); err != nil {
				return err
			}
			if u.TrustedMetadata, err = users.CheckMetadata("trusted_metadata", in.TrustedMetadata); err != nil {
				return err
			}
			if u.UntrustedMetadata, err = users.CheckMetadata("untrusted_metadata", in.UntrustedMetadata); err != nil {
				return err
			}
			if err := users.CheckExternalID(in.ExternalID); err != nil {
				return err
			}
			if err := users.CheckRoles(in.Roles); err != nil {
				return err
			}
			u.ExternalID = in.ExternalID
			ne := store.Email{ID: ids.New(ids.Email, p.Environment), UserID: u.ID, Address: addr, CreatedAt: now}
			u.Emails = []store.Email{ne}
			if in.PhoneNumber != "" {
				num, err := users.NormalizePhone(in.PhoneNumber)
				if err != nil {
					return err
				}
				u.Phones = []store.Phone{{ID: ids.New(ids.PhoneNumber, p.Environment), UserID: u.ID, Number: num, Verified: in.SetPhoneNumberVerified, CreatedAt: now}}
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				var ce *store.ConflictError
				if errors.As(err, &ce) && ce.Field == "phone_number" {
					return apierr.DuplicatePhoneNumber
				}
				if errors.As(err, &ce) && ce.Field == "external_id" {
					return apierr.DuplicateUserExternalID
				}
				return err
			}
			out.EmailID, out.UserCreated = ne.ID, true
		default:
			return err
		}
		if in.SetEmailVerified {
			if err := tx.VerifyEmail(ctx, p.ID, out.EmailID); err != nil {
				return err
			}
		}
		pw, err := tx.GetPassword(ctx, p.ID, u.ID)
		if errors.Is(err, store.ErrNotFound) {
			pw = &store.Password{ProjectID: p.ID, ID: ids.New(passwordIDKind, p.Environment), UserID: u.ID, CreatedAt: now}
		} else if err != nil {
			return err
		}
		pw.Hash, pw.RequiresReset, pw.UpdatedAt = stored, false, now
		out.UserID = u.ID
		if err := tx.PutPassword(ctx, pw); err != nil {
			return err
		}
		typ := events.UserUpdate
		if out.UserCreated {
			typ = events.UserCreate
		}
		u.Password = &store.UserPassword{ID: pw.ID}
		if err := users.Event(ctx, tx, p, u, now, typ); err != nil {
			return err
		}
		return passwordEvent(ctx, tx, p, pw, now)
	})
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, p, out)
}
