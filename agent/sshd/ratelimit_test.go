package sshd

import (
	"fmt"
	"net"
	"testing"
	"time"
)

func TestSourceKey(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 5000}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 5000}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 22}, "2001:db8:1:2::/64"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::1"), Port: 22}, "2001:db8:1:2::/64"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 22}, "::/64"},
		{&net.UnixAddr{Name: "/run/x", Net: "unix"}, "/run/x"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := sourceKey(tt.addr); got != tt.want {
			t.Errorf("sourceKey(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	rate := LoginRate{Attempts: 3, Within: time.Minute, BlockFor: 2 * time.Minute}
	type step struct {
		fail        bool // record a failure, else check
		sec         int
		src         string
		wantBlocked bool
	}
	tests := []struct {
		name  string
		rate  LoginRate
		steps []step
	}{
		{"three failures block", rate, []step{
			{true, 0, "a", false}, {true, 10, "a", false}, {false, 11, "a", false},
			{true, 20, "a", true}, {false, 21, "a", true},
			{false, 21, "b", false}, // other sources are not affected
			{false, 139, "a", true}, {false, 140, "a", false},
		}},
		{"failures outside the window are forgotten", rate, []step{
			{true, 0, "a", false}, {true, 30, "a", false}, {true, 61, "a", false}, {true, 95, "a", false}, {true, 96, "a", true},
		}},
		{"a block ends and counting restarts", rate, []step{
			{true, 0, "a", false}, {true, 1, "a", false}, {true, 2, "a", true},
			{true, 50, "a", true}, // failures while blocked change nothing
			{false, 122, "a", false},
			{true, 123, "a", false}, {true, 124, "a", false}, {true, 125, "a", true},
		}},
		{"disabled", LoginRate{Attempts: -1}, []step{
			{true, 0, "a", false}, {true, 0, "a", false}, {true, 0, "a", false}, {true, 0, "a", false}, {false, 0, "a", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(tt.rate)
			for i, s := range tt.steps {
				var got bool
				if s.fail {
					got = l.fail(s.src, at(s.sec))
				} else {
					got, _ = l.blocked(s.src, at(s.sec))
				}
				if got != s.wantBlocked {
					t.Fatalf("step %d %+v: blocked %v", i, s, got)
				}
			}
		})
	}
}

func TestLimiterMemoryBounded(t *testing.T) {
	l := newLimiter(LoginRate{Attempts: 5, Within: time.Minute, BlockFor: time.Minute})
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	l.fail("blocked", now)
	for range 4 {
		l.fail("blocked", now)
	}
	for i := range maxTrackedSources + 500 {
		l.fail(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(l.sources); n > maxTrackedSources {
		t.Errorf("%d sources tracked", n)
	}
	// Stale entries go first once the window has passed.
	later := now.Add(10 * time.Minute)
	l.fail("new", later)
	if _, ok := l.sources["new"]; !ok {
		t.Error("new source not tracked")
	}
}
