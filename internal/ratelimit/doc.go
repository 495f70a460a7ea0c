// Package ratelimit is the rate limiter Latch puts on every send and
// authenticate endpoint.
//
// A Limiter takes one event for a key under a Rule ("at most Limit events per
// Period, bursts up to Burst"). Three implementations:
//
//   - Memory: in-process GCRA (generic cell rate algorithm, a token bucket
//     that stores one timestamp per key) with sharded locks and a hard bound
//     on the number of keys. Right for a single replica.
//   - Redis: the same algorithm in a Lua script (go-redis/redis_rate), so
//     every replica draws from one budget. Keys expire on their own once
//     their bucket is full again.
//   - Off: always allows (--rate-limits=off).
//
// In both GCRA implementations a denied event changes nothing, so hammering
// a denied key does not push its recovery further out: it is allowed again
// exactly RetryAfter later.
//
// A Policy maps a Class of endpoint (send, authenticate, create) to two rules:
// one for all calls of the class in a project and one for each identifier
// (email, phone number, user id, IP) the call names. Policy.Check builds the
// keys, hashing identifiers so that no email address or phone number reaches
// Redis or a log, and applies the rules.
//
// Errors never mean "deny". A Limiter or Check that fails returns the error
// with an allowing Decision: callers fail open and log, because a broken
// Redis must not take sign-in down with it.
package ratelimit
