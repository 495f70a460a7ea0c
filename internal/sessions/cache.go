package sessions

import (
	"sync"
	"time"

	"github.com/latchhq/latch/internal/store"
)

// lookupCache keeps recent session+user lookups for a short time so the
// hot path does not read the database on every call. Changes made through
// this replica invalidate entries at once (Forget, ForgetUser); changes made
// through another replica are seen within ttl, the bound documented for
// revocation across replicas.
type lookupCache struct {
	ttl time.Duration
	max int

	mu     sync.Mutex
	m      map[string]cachedLookup
	byUser map[string]map[string]struct{}
}

type cachedLookup struct {
	session store.Session
	user    *store.User // never mutated after it is cached
	at      time.Time
}

func newLookupCache(ttl time.Duration, max int) *lookupCache {
	return &lookupCache{ttl: ttl, max: max, m: map[string]cachedLookup{}, byUser: map[string]map[string]struct{}{}}
}

func cacheKey(projectID, id, hash string) string {
	if id != "" {
		return projectID + "\x00i\x00" + id
	}
	return projectID + "\x00t\x00" + hash
}

func (c *lookupCache) get(key string, now time.Time) (*store.Session, *store.User, bool) {
	if c.ttl <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil, nil, false
	}
	ss := e.session // a copy: callers may change it
	return &ss, e.user, true
}

func (c *lookupCache) put(key string, ss *store.Session, u *store.User, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		c.m = map[string]cachedLookup{}
		c.byUser = map[string]map[string]struct{}{}
	}
	c.m[key] = cachedLookup{session: *ss, user: u, at: now}
	uk := ss.ProjectID + "\x00" + ss.UserID
	if c.byUser[uk] == nil {
		c.byUser[uk] = map[string]struct{}{}
	}
	c.byUser[uk][key] = struct{}{}
}

// forgetUser drops every entry of a user's sessions.
func (c *lookupCache) forgetUser(projectID, userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	uk := projectID + "\x00" + userID
	for k := range c.byUser[uk] {
		delete(c.m, k)
	}
	delete(c.byUser, uk)
}
