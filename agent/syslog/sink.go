package syslog

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// entry is a queued message with its timestamp.
type entry struct {
	t time.Time
	m Message
}

// sink is one destination: a remote target or the local log.
type sink struct {
	target  Target
	invalid error // the target failed Validate: every message is dropped
	q       chan entry

	sent, dropped, errs, reconnects atomic.Uint64
	connected, running              atomic.Bool

	mu      sync.Mutex
	lastErr string
}

func (s *sink) enqueue(e entry) {
	if s.q == nil {
		s.dropped.Add(1)
		return
	}
	select {
	case s.q <- e:
	default:
		s.dropped.Add(1)
	}
}

func (s *sink) setError(err error) {
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}

func (s *sink) fail(err error) {
	s.errs.Add(1)
	s.setError(err)
}

func (s *sink) stats() TargetStats {
	s.mu.Lock()
	last := s.lastErr
	s.mu.Unlock()
	return TargetStats{
		Target:     s.target,
		Sent:       s.sent.Load(),
		Dropped:    s.dropped.Load(),
		Errors:     s.errs.Load(),
		Reconnects: s.reconnects.Load(),
		Queued:     len(s.q),
		Connected:  s.connected.Load(),
		LastError:  last,
	}
}

// dropQueued counts everything still queued as dropped.
func (s *sink) dropQueued() {
	for {
		select {
		case <-s.q:
			s.dropped.Add(1)
		default:
			return
		}
	}
}

// conn is the sender's connection state.
type conn struct {
	c    net.Conn
	ever bool // a connection was made before: the next dial is a reconnect
}

func (c *conn) close(s *sink) {
	if c.c != nil {
		c.c.Close()
		c.c = nil
		s.connected.Store(false)
	}
}

// runRemote sends the queue of one target until Close. A message that
// fails to go out is kept and retried after a backoff pause, so messages
// keep their order; meanwhile new ones wait in the queue or are dropped.
func (l *Logger) runRemote(s *sink) {
	defer l.wg.Done()
	s.running.Store(true)
	defer s.running.Store(false)
	var c conn
	defer c.close(s)

	var (
		pending  *entry
		failures int
		draining bool
		deadline time.Time // while draining: give up after this
	)
	startDrain := func() {
		draining = true
		deadline = time.Now().Add(l.dialTimeout + l.writeTimeout)
	}
	for {
		if pending == nil {
			if draining {
				select {
				case e := <-s.q:
					pending = &e
				default:
					return
				}
			} else {
				select {
				case e := <-s.q:
					pending = &e
				case <-l.closing:
					startDrain()
					continue
				}
			}
		}
		if draining && !time.Now().Before(deadline) {
			s.dropped.Add(1)
			s.dropQueued()
			return
		}
		err := l.send(s, &c, *pending, deadline)
		if err == nil {
			s.sent.Add(1)
			pending, failures = nil, 0
			continue
		}
		s.fail(err)
		if draining {
			// One failure while closing gives up on the rest: a dead
			// receiver must not hold Close up.
			s.dropped.Add(1)
			s.dropQueued()
			return
		}
		failures++
		t := time.NewTimer(l.backoff(failures))
		select {
		case <-t.C:
		case <-l.closing:
			t.Stop()
			startDrain()
		}
	}
}

// backoff is the pause before attempt n+1 after n failures in a row:
// RetryMin doubled per failure up to RetryMax, jittered to between half and
// all of that.
func (l *Logger) backoff(n int) time.Duration {
	d := l.retryMin
	for i := 1; i < n && d < l.retryMax; i++ {
		d *= 2
	}
	d = min(d, l.retryMax)
	half := d / 2
	return half + rand.N(d-half+1)
}

// send writes one message, connecting first if needed. deadline, when not
// zero, caps the connect and write times (used while closing).
func (l *Logger) send(s *sink, c *conn, e entry, deadline time.Time) error {
	tcp := s.target.Network == NetworkTCP
	if c.c != nil && tcp && peerClosed(c.c) {
		// The receiver closed the connection; writing would lose this
		// message into a dead socket.
		c.close(s)
		s.setError(errors.New("connection closed by the receiver"))
	}
	if c.c == nil {
		d := net.Dialer{Timeout: l.dialTimeout, Deadline: deadline}
		nc, err := d.DialContext(l.stop, s.target.Network, s.target.Addr)
		if err != nil {
			return fmt.Errorf("connect %s: %w", s.target, err)
		}
		if c.ever {
			s.reconnects.Add(1)
		}
		c.c, c.ever = nc, true
		s.connected.Store(true)
	}
	data := l.hdr.line(s.target.Format, e.t, e.m)
	if tcp {
		data = octetCounted(data)
	}
	err := l.write(c.c, data, deadline)
	if err != nil && !tcp {
		// A connected UDP socket reports an ICMP error of an earlier
		// datagram on the next write, which then did not go out; one retry
		// sends it.
		s.fail(fmt.Errorf("send to %s: %w", s.target, err))
		err = l.write(c.c, data, deadline)
	}
	if err != nil {
		c.close(s)
		return fmt.Errorf("send to %s: %w", s.target, err)
	}
	return nil
}

func (l *Logger) write(c net.Conn, data []byte, deadline time.Time) error {
	wd := time.Now().Add(l.writeTimeout)
	if !deadline.IsZero() && deadline.Before(wd) {
		wd = deadline
	}
	if err := c.SetWriteDeadline(wd); err != nil {
		return err
	}
	_, err := c.Write(data)
	return err
}

// runLocal writes the local log until Close, then what is still queued.
func (l *Logger) runLocal(s *sink, w io.Writer) {
	defer l.wg.Done()
	s.running.Store(true)
	defer s.running.Store(false)
	write := func(e entry) {
		if _, err := w.Write(l.hdr.localLine(e.t, e.m)); err != nil {
			s.fail(fmt.Errorf("local log: %w", err))
			return
		}
		s.sent.Add(1)
	}
	for {
		select {
		case e := <-s.q:
			write(e)
		case <-l.closing:
			for {
				select {
				case e := <-s.q:
					write(e)
				default:
					return
				}
			}
		}
	}
}
