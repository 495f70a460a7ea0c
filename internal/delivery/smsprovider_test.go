package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/latchhq/latch/internal/delivery"
	"github.com/latchhq/latch/internal/delivery/sms"
	"github.com/latchhq/latch/internal/store"
)

// twilioFake answers Twilio's Messages API with status and body, recording
// each posted form.
type twilioFake struct {
	mu     sync.Mutex
	forms  []url.Values
	status int
	body   string
}

func (f *twilioFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	status, body := f.status, f.body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func TestTwilioProvider(t *testing.T) {
	fake := &twilioFake{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	sender, err := sms.New(sms.Config{BaseURL: srv.URL, AccountSID: "AC0123456789abcdef0123456789abcdef",
		AuthToken: "token", From: "+14155550100", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	p := delivery.Twilio{Sender: sender}
	if p.Keeps() {
		t.Error("Twilio keeps message bodies; they must be scrubbed after delivery")
	}
	ctx := context.Background()

	for _, tc := range []struct {
		name, body    string
		code          int
		wantTo        string
		wantErr       bool
		wantPermanent bool
	}{
		{name: "sms", code: 201, body: `{"sid":"SM0123456789abcdef0123456789abcdef"}`, wantTo: "+14155552671"},
		{name: "whatsapp", code: 201, body: `{"sid":"SM0123456789abcdef0123456789abcdef"}`, wantTo: "whatsapp:+14155552671"},
		{name: "sms", code: 400, body: `{"code":21211,"message":"Invalid 'To' Phone Number"}`, wantTo: "+14155552671", wantErr: true, wantPermanent: true},
		{name: "sms", code: 503, body: `{}`, wantTo: "+14155552671", wantErr: true},
	} {
		fake.mu.Lock()
		fake.status, fake.body, fake.forms = tc.code, tc.body, nil
		fake.mu.Unlock()
		err := p.Send(ctx, &store.OutboxMessage{ID: "m1", Channel: tc.name, To: "+14155552671", BodyText: "Your code is 123456."})
		var perm *delivery.PermanentError
		if (err != nil) != tc.wantErr || errors.As(err, &perm) != tc.wantPermanent {
			t.Errorf("%s answered %d: err = %v, want error %t, permanent %t", tc.name, tc.code, err, tc.wantErr, tc.wantPermanent)
		}
		fake.mu.Lock()
		forms := fake.forms
		fake.mu.Unlock()
		if len(forms) != 1 || forms[0].Get("To") != tc.wantTo || forms[0].Get("Body") != "Your code is 123456." {
			t.Errorf("%s answered %d: the provider got %v", tc.name, tc.code, forms)
		}
	}
}
