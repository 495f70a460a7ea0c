package config

import (
	"flag"
	"strings"
	"testing"
	"time"
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
