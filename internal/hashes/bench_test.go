package hashes

import (
	"context"
	"testing"

	pooled "github.com/latchhq/latch/internal/hashes/argon2"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkArgon2idDefault is the raw argon2id rate at DefaultParams of
// golang.org/x/crypto/argon2, without the Hasher's semaphore or encoding.
func BenchmarkArgon2idDefault(b *testing.B) {
	p := DefaultParams
	salt := make([]byte, p.SaltLen)
	pw := []byte("correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	}
}

// BenchmarkArgon2idPooled is the same with the pooled block memory the
// Hasher uses (internal/hashes/argon2).
func BenchmarkArgon2idPooled(b *testing.B) {
	p := DefaultParams
	salt := make([]byte, p.SaltLen)
	pw := []byte("correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		pooled.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	}
}

// BenchmarkHasherHash is Hash at DefaultParams: the argon2id rate plus salt,
// semaphore and encoding.
func BenchmarkHasherHash(b *testing.B) {
	h := newHasher(b, DefaultParams, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBcrypt is Verify of a cost-10 bcrypt hash.
func BenchmarkVerifyBcrypt(b *testing.B) {
	stored, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), 10)
	if err != nil {
		b.Fatal(err)
	}
	h := newHasher(b, DefaultParams, 0)
	ctx := context.Background()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, string(stored), "correct horse battery staple"); !ok || err != nil {
			b.Fatal("verify failed", err)
		}
	}
}
