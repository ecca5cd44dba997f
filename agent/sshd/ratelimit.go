package sshd

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// maxTrackedSources bounds the limiter's memory; beyond it the entry idle
// the longest is forgotten.
const maxTrackedSources = 4096

// limiter counts failed logins per source and blocks sources that fail too
// often. Time comes from the caller.
type limiter struct {
	rate LoginRate

	mu      sync.Mutex
	sources map[string]*sourceState
}

type sourceState struct {
	failures     []time.Time // within the window, oldest first
	blockedUntil time.Time
	last         time.Time
}

func newLimiter(rate LoginRate) *limiter {
	return &limiter{rate: rate, sources: map[string]*sourceState{}}
}

// sourceKey is the address a client is counted under: the IP for IPv4, the
// /64 for IPv6 (one host usually owns a whole /64).
func sourceKey(addr net.Addr) string {
	var s string
	if addr != nil {
		s = addr.String()
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		if host, _, err := net.SplitHostPort(s); err == nil {
			return host
		}
		return s
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func (l *limiter) disabled() bool { return l.rate.Attempts < 0 }

// blocked reports whether src is refused at now and, if so, until when.
func (l *limiter) blocked(src string, now time.Time) (bool, time.Time) {
	if l.disabled() {
		return false, time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.sources[src]
	if st == nil || !now.Before(st.blockedUntil) {
		return false, time.Time{}
	}
	return true, st.blockedUntil
}

// fail records a failed login from src at now. It reports whether src is
// now blocked.
func (l *limiter) fail(src string, now time.Time) bool {
	if l.disabled() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.sources[src]
	if st == nil {
		if len(l.sources) >= maxTrackedSources {
			l.evictLocked(now)
		}
		st = &sourceState{}
		l.sources[src] = st
	}
	st.last = now
	if now.Before(st.blockedUntil) {
		return true
	}
	cut := now.Add(-l.rate.Within)
	keep := st.failures[:0]
	for _, t := range st.failures {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	st.failures = append(keep, now)
	if len(st.failures) >= l.rate.Attempts {
		st.blockedUntil = now.Add(l.rate.BlockFor)
		st.failures = st.failures[:0]
		return true
	}
	return false
}

// failures is how many failures src has within the window at now.
func (l *limiter) failures(src string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.sources[src]
	if st == nil {
		return 0
	}
	n := 0
	for _, t := range st.failures {
		if t.After(now.Add(-l.rate.Within)) {
			n++
		}
	}
	return n
}

// evictLocked drops sources that no longer matter, or else the one idle the
// longest.
func (l *limiter) evictLocked(now time.Time) {
	var oldest string
	var oldestT time.Time
	for k, st := range l.sources {
		if !now.Before(st.blockedUntil) && !st.last.After(now.Add(-l.rate.Within)) {
			delete(l.sources, k)
			continue
		}
		if oldest == "" || st.last.Before(oldestT) {
			oldest, oldestT = k, st.last
		}
	}
	if len(l.sources) >= maxTrackedSources && oldest != "" {
		delete(l.sources, oldest)
	}
}
