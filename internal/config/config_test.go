package config

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/latchhq/latch/internal/hashes"
)

func TestDeliveryLease(t *testing.T) {
	t.Setenv("LATCH_DELIVERY_LEASE", "7s")
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.DeliveryLease != 7*time.Second {
		t.Fatalf("LATCH_DELIVERY_LEASE=7s gave %s", c.DeliveryLease)
	}
	if err := fs.Parse([]string{"--delivery-lease", "90s"}); err != nil || c.DeliveryLease != 90*time.Second {
		t.Fatalf("--delivery-lease 90s gave %s, %v", c.DeliveryLease, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, bad := range []time.Duration{0, time.Second, 2 * time.Hour} {
		c.DeliveryLease = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--delivery-lease must be between 2s and 1h") {
			t.Errorf("lease %s: %v", bad, err)
		}
	}
}

func TestRetention(t *testing.T) {
	c := Default()
	if c.Retention != 30*24*time.Hour {
		t.Fatalf("default retention %s", c.Retention)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Flags(fs)
	for _, ok := range []string{"0", "1h", "2160h"} {
		if err := fs.Parse([]string{"--retention", ok}); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("--retention %s refused: %v", ok, err)
		}
	}
	if err := fs.Parse([]string{"--retention", "30m"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--retention must be 0 (keep forever) or at least 1h") {
		t.Errorf("--retention 30m: %v", err)
	}
}

func TestHashingFlags(t *testing.T) {
	c := Default()
	if p := c.HashParams(); p != hashes.DefaultParams {
		t.Fatalf("default HashParams = %+v; want hashes.DefaultParams", p)
	}
	if l := c.HashLimits(); l != (hashes.Limits{}) {
		t.Fatalf("default HashLimits = %+v; want zero (automatic)", l)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}

	t.Setenv("LATCH_ARGON2_MEMORY", "65536")
	t.Setenv("LATCH_HASH_MEMORY", "512")
	c = Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse([]string{"--argon2-iterations", "3", "--argon2-parallelism", "4"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid hashing config refused: %v", err)
	}
	want := hashes.Params{MemoryKiB: 65536, Iterations: 3, Parallelism: 4, SaltLen: 16, KeyLen: 32}
	if p := c.HashParams(); p != want {
		t.Errorf("HashParams = %+v; want %+v", p, want)
	}
	if l := c.HashLimits(); l.MemoryBytes != 512<<20 {
		t.Errorf("HashLimits = %+v; want 512 MiB", l)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--argon2-memory", "19455", "--argon2-iterations", "2"}, "weaker than OWASP's minimum"},
		{[]string{"--argon2-memory", "46080", "--argon2-iterations", "1"}, "weaker than OWASP's minimum"},
		{[]string{"--argon2-memory", "0"}, "--argon2-memory must be between 1 and 1048576 KiB, not 0"},
		{[]string{"--argon2-memory", "2097152"}, "--argon2-memory must be between 1 and 1048576 KiB"},
		{[]string{"--argon2-iterations", "0"}, "--argon2-iterations must be between 1 and 100, not 0"},
		{[]string{"--argon2-parallelism", "256"}, "--argon2-parallelism must be between 1 and 255, not 256"},
		{[]string{"--argon2-parallelism", "-1"}, "--argon2-parallelism must be between 1 and 255, not -1"},
		{[]string{"--hash-memory", "-5"}, "--hash-memory must be between 0 (automatic)"},
		{[]string{"--hash-memory", "18"}, "--hash-memory 18 MiB cannot hold one password hash at --argon2-memory 19456 KiB (20 MiB)"},
	} {
		c := Default()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.Flags(fs)
		c.Argon2, c.HashMemoryMiB = Default().Argon2, 0 // ignore the environment above
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: Validate = %v; want %q", tc.args, err, tc.want)
		}
	}
	// At the floor, the smallest budget that holds one hash is accepted.
	c = Default()
	c.HashMemoryMiB = 20
	if err := c.Validate(); err != nil {
		t.Errorf("--hash-memory 20: %v", err)
	}
}

func TestEnvValuesThatDoNotParse(t *testing.T) {
	t.Setenv("LATCH_ARGON2_MEMORY", "19MiB")
	t.Setenv("LATCH_DELIVERY_LEASE", "soon")
	c := Default()
	c.Flags(flag.NewFlagSet("serve", flag.ContinueOnError))
	err := c.Validate()
	for _, want := range []string{`LATCH_ARGON2_MEMORY="19MiB" is not an integer`, `LATCH_DELIVERY_LEASE="soon" is not a duration`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v; want it to contain %q", err, want)
		}
	}
}
