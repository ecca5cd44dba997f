package portal

import (
	"math"
	"sync"
	"time"
)

// limiter is a set of token buckets by key (a device key, a PAK). It
// remembers at most max keys; full buckets are forgotten first, as they
// hold nothing a new bucket would not.
type limiter struct {
	mu    sync.Mutex
	rate  float64 // tokens per second
	burst float64
	max   int
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst, max int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), max: max, m: make(map[string]*bucket)}
}

// allow takes a token for key at now. When none is left it returns false
// and how long until one is; full is set when the limiter tracks too many
// keys to take a new one.
func (l *limiter) allow(key string, now time.Time) (ok bool, retry time.Duration, full bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[key]
	if b == nil {
		if len(l.m) >= l.max {
			l.sweep(now)
			if len(l.m) >= l.max {
				return false, time.Second, true
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0, false
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, max(wait, time.Second), false
}

// sweep forgets buckets that have refilled.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.m {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.m, k)
		}
	}
}

// replayCache remembers request nonces until their time window has
// passed, so a captured request cannot be sent again.
type replayCache struct {
	mu        sync.Mutex
	ttl       time.Duration
	max       int
	m         map[string]time.Time // key → forget after
	lastSweep time.Time
}

func newReplayCache(ttl time.Duration, max int) *replayCache {
	return &replayCache{ttl: ttl, max: max, m: make(map[string]time.Time)}
}

// seen records key at now and reports whether it was already there; full
// is set when the cache cannot take more keys (the caller should refuse
// the request as busy).
func (c *replayCache) seen(key string, now time.Time) (replayed, full bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) >= c.ttl/2 || len(c.m) >= c.max {
		for k, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, k)
			}
		}
		c.lastSweep = now
	}
	if exp, ok := c.m[key]; ok && now.Before(exp) {
		return true, false
	}
	if len(c.m) >= c.max {
		return false, true
	}
	c.m[key] = now.Add(c.ttl)
	return false, false
}
