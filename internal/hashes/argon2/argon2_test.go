package argon2

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

// Every output must equal golang.org/x/crypto/argon2's, including when a
// buffer comes back from the pool holding another derivation's blocks.
func TestMatchesUpstream(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		pw := make([]byte, r.IntN(40))
		salt := make([]byte, 8+r.IntN(24))
		for j := range pw {
			pw[j] = byte(r.Uint32())
		}
		for j := range salt {
			salt[j] = byte(r.Uint32())
		}
		// Few sizes, so pooled buffers are reused across parameters.
		memory := []uint32{8, 64, 256, 1024}[r.IntN(4)]
		time := 1 + uint32(r.IntN(3))
		threads := uint8(1 + r.IntN(4))
		keyLen := uint32(16 + r.IntN(49))
		if got, want := IDKey(pw, salt, time, memory, threads, keyLen), upstream.IDKey(pw, salt, time, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("case %d: IDKey(m=%d t=%d p=%d) differs from upstream", i, memory, time, threads)
		}
		if got, want := Key(pw, salt, time, memory, threads, keyLen), upstream.Key(pw, salt, time, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("case %d: Key(m=%d t=%d p=%d) differs from upstream", i, memory, time, threads)
		}
	}
}

// RFC 9106 section 5.3's Argon2id vector (secret and associated data
// included), through the package's internal entry point.
func TestRFC9106Argon2id(t *testing.T) {
	pw := bytes.Repeat([]byte{0x01}, 32)
	salt := bytes.Repeat([]byte{0x02}, 16)
	secret := bytes.Repeat([]byte{0x03}, 8)
	data := bytes.Repeat([]byte{0x04}, 12)
	want := []byte{0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c, 0x08, 0xc0, 0x37, 0xa3, 0x4a, 0x8b, 0x53, 0xc9,
		0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75, 0xb6, 0x5e, 0xb5, 0x25, 0x20, 0xe9, 0x6b, 0x01, 0xe6, 0x59}
	for range 3 { // the second and third run get a pooled buffer
		if got := deriveKey(argon2id, pw, salt, secret, data, 3, 32, 4, 32); !bytes.Equal(got, want) {
			t.Fatalf("RFC 9106 argon2id = %x", got)
		}
	}
}

func TestConcurrentUseOfThePool(t *testing.T) {
	want := upstream.IDKey([]byte("correct horse battery staple"), []byte("saltsaltsaltsalt"), 2, 512, 1, 32)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if got := IDKey([]byte("correct horse battery staple"), []byte("saltsaltsaltsalt"), 2, 512, 1, 32); !bytes.Equal(got, want) {
					t.Error("a concurrent derivation differs")
					return
				}
			}
		})
	}
	wg.Wait()
}
