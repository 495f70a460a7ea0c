package delivery

import (
	"context"

	"github.com/latchhq/latch/internal/delivery/sms"
	"github.com/latchhq/latch/internal/store"
)

// Twilio delivers SMS and WhatsApp messages through a Twilio-shaped API.
type Twilio struct{ Sender *sms.Sender }

func (t Twilio) Keeps() bool { return false }

func (t Twilio) Send(ctx context.Context, m *store.OutboxMessage) error {
	ch := sms.SMS
	if m.Channel == "whatsapp" {
		ch = sms.WhatsApp
	}
	_, err := t.Sender.Send(ctx, ch, m.To, m.BodyText)
	if err != nil && sms.IsPermanent(err) {
		return &PermanentError{Err: err}
	}
	return err
}
