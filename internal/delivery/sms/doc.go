// Package sms owns Latch's outbound SMS and WhatsApp transport: it turns one
// text message (a channel, an E.164 recipient and a body) into a single HTTPS
// request against a provider that speaks Twilio's Messages API
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth
// and a form-encoded To, Body and From or MessagingServiceSid), and returns the
// provider's message SID.
//
// It is responsible for validating the provider configuration, adding the
// "whatsapp:" address prefix for the WhatsApp channel, bounding each send by a
// context and a timeout, keeping the auth token out of errors and formatted
// output, and classifying failures with IsPermanent so the outbox worker knows
// whether to retry. It does not queue, render templates or retry; the outbox
// owns those. It uses only the standard library.
package sms
