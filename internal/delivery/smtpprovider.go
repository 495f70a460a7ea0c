package delivery

import (
	"context"

	"github.com/latchhq/latch/internal/delivery/smtp"
	"github.com/latchhq/latch/internal/store"
)

// SMTP delivers email through an SMTP server.
type SMTP struct{ Sender *smtp.Sender }

func (s SMTP) Keeps() bool { return false }

func (s SMTP) Send(ctx context.Context, m *store.OutboxMessage) error {
	err := s.Sender.Send(ctx, smtp.Message{To: m.To, Subject: m.Subject, Text: m.BodyText, HTML: m.BodyHTML, MessageID: m.ID})
	if err != nil && smtp.IsPermanent(err) {
		return &PermanentError{Err: err}
	}
	return err
}
