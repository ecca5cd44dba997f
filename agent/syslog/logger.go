package syslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licensed-dev/licensed/agent"
)

// Defaults of Config.
const (
	DefaultSeverity     = SeverityInformational
	DefaultQueueSize    = 256
	DefaultDialTimeout  = 2 * time.Second
	DefaultWriteTimeout = 2 * time.Second
	DefaultRetryMin     = 500 * time.Millisecond
	DefaultRetryMax     = 30 * time.Second
	DefaultAppName      = "licensed"
)

// Config configures a Logger. The zero value of each field means its
// default.
type Config struct {
	// Targets are the remote hosts (`logging host`); none is fine, then
	// only LocalLog gets messages.
	Targets []Target
	// Hostname is sent in every message so the receiver files it under this
	// device. Default: os.Hostname(), else "localhost". Characters other
	// than letters, digits, '.', '-' and '_' are sent as '-'.
	Hostname string
	// AppName is the RFC 5424 APP-NAME. Default "licensed".
	AppName string
	// Severity is the threshold like `logging trap`: remote hosts get the
	// messages whose severity is <= Severity. Default 6 (informational).
	// Zero cannot be told from unset, so it means the default; a negative
	// value sends nothing to remote hosts (the catalog has no severity-0
	// message, so this is what `logging trap emergencies` amounts to).
	// LocalLog gets every message whatever the threshold.
	Severity int
	// Facility is the syslog facility code of the packets (`logging
	// facility`). Default 23 (local7), as IOS sends; 0 (kern) means the
	// default.
	Facility int
	// QueueSize bounds the messages waiting per target (and for LocalLog).
	// When a queue is full new messages for it are dropped and counted.
	// Default 256.
	QueueSize int
	// Clock stamps messages given to Log and events without a time.
	// Default time.Now.
	Clock func() time.Time
	// Location is the time zone of the timestamps. Default time.Local.
	Location *time.Location
	// LocalLog, when set, gets every message as one line
	// "Mar  1 00:01:02.123 UTC: %LICENSE-6-INSTALL: …" (the agent's log).
	// Writes happen on their own goroutine, so a slow writer does not block
	// Log either.
	LocalLog io.Writer
	// DialTimeout bounds connecting (and resolving) a target; WriteTimeout
	// bounds one write. Default 2s each. Close waits at most about their
	// sum for queued messages to go out.
	DialTimeout, WriteTimeout time.Duration
	// RetryMin and RetryMax bound the pause before reconnecting after a
	// failure: it doubles from RetryMin up to RetryMax, each pause jittered
	// between half and all of its value. Default 500ms and 30s.
	RetryMin, RetryMax time.Duration
}

// Validate reports every problem of a configuration. New accepts any
// Config (see New); daemons should call Validate first and refuse to start
// on an error.
func (c Config) Validate() error {
	var errs []error
	for i, t := range c.Targets {
		if err := t.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("target %d (%s): %w", i+1, t, err))
		}
	}
	if c.Severity > 7 {
		errs = append(errs, fmt.Errorf("severity %d out of range 0..7", c.Severity))
	}
	if c.Facility < 0 || c.Facility > 23 {
		errs = append(errs, fmt.Errorf("facility %d out of range 0..23", c.Facility))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"dial timeout", c.DialTimeout}, {"write timeout", c.WriteTimeout},
		{"retry minimum", c.RetryMin}, {"retry maximum", c.RetryMax}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("negative %s %v", d.name, d.v))
		}
	}
	if c.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("negative queue size %d", c.QueueSize))
	}
	if c.RetryMin > 0 && c.RetryMax > 0 && c.RetryMin > c.RetryMax {
		errs = append(errs, fmt.Errorf("retry minimum %v above retry maximum %v", c.RetryMin, c.RetryMax))
	}
	if len(errs) > 0 {
		return fmt.Errorf("syslog configuration: %w", errors.Join(errs...))
	}
	return nil
}

// Stats counts what a Logger did since New.
type Stats struct {
	// Threshold is the severity threshold in effect (-1: remote hosts get
	// nothing).
	Threshold int
	// Logged counts valid messages given to Log or made from events.
	Logged uint64
	// Filtered counts messages not sent to remote hosts because their
	// severity is above the threshold.
	Filtered uint64
	// Invalid counts messages refused by Message.Validate; LastInvalid says
	// why the last one was refused.
	Invalid     uint64
	LastInvalid string
	Targets     []TargetStats
	// Local is the local log; its Target is empty.
	Local TargetStats
}

// TargetStats counts the traffic of one target.
type TargetStats struct {
	Target Target
	// Sent counts messages written to the transport (for UDP, handed to
	// the network).
	Sent uint64
	// Dropped counts messages discarded unsent: the queue was full, the
	// target is invalid, or Close gave up on them.
	Dropped uint64
	// Errors counts failed connects and writes.
	Errors uint64
	// Reconnects counts connections made again after one was lost.
	Reconnects uint64
	// Queued is the number of messages waiting now.
	Queued int
	// Connected reports whether a connection is open now.
	Connected bool
	// LastError describes the last failure ("" if none).
	LastError string
}

// Logger sends messages to its targets and the local log. Its methods are
// safe for concurrent use.
type Logger struct {
	hdr          header
	threshold    int
	clock        func() time.Time
	dialTimeout  time.Duration
	writeTimeout time.Duration
	retryMin     time.Duration
	retryMax     time.Duration

	sinks []*sink
	local *sink

	logged, filtered, invalid atomic.Uint64
	lastInvalid               atomic.Pointer[string]

	mu      sync.RWMutex // guards closed against enqueues
	closed  bool
	closing chan struct{} // closed by Close: drain and stop
	stop    context.Context
	cancel  context.CancelFunc // aborts dials still running when Close gives up
	wg      sync.WaitGroup
}

// New starts a Logger: one sender goroutine per target and one for
// LocalLog. Call Close to stop them. New does not fail: out-of-range
// numbers fall back to their defaults, and a target that does not pass
// Target.Validate drops every message, with LastError saying why.
func New(cfg Config) *Logger {
	host := cfg.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	if host == "" {
		host = "localhost"
	}
	app := cfg.AppName
	if app == "" {
		app = DefaultAppName
	}
	fac := cfg.Facility
	if fac <= 0 || fac > 23 {
		fac = FacilityLocal7
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	l := &Logger{
		hdr: header{
			facility: fac,
			hostname: cleanHostname(host),
			appName:  cleanAppName(app),
			procID:   strconv.Itoa(os.Getpid()),
			loc:      loc,
		},
		threshold:    cfg.Severity,
		clock:        cfg.Clock,
		dialTimeout:  orDefault(cfg.DialTimeout, DefaultDialTimeout),
		writeTimeout: orDefault(cfg.WriteTimeout, DefaultWriteTimeout),
		retryMin:     orDefault(cfg.RetryMin, DefaultRetryMin),
		retryMax:     orDefault(cfg.RetryMax, DefaultRetryMax),
		closing:      make(chan struct{}),
	}
	switch {
	case l.threshold == 0 || l.threshold > 7:
		l.threshold = DefaultSeverity
	case l.threshold < 0:
		l.threshold = -1
	}
	if l.retryMax < l.retryMin {
		l.retryMax = l.retryMin
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	l.stop, l.cancel = context.WithCancel(context.Background())
	qsize := cfg.QueueSize
	if qsize <= 0 {
		qsize = DefaultQueueSize
	}
	for _, t := range cfg.Targets {
		s := &sink{target: t}
		if err := t.Validate(); err != nil {
			s.invalid = err
			s.setError(err)
		} else {
			s.target.Network, s.target.Format = t.network(), t.format()
			s.q = make(chan entry, qsize)
			l.wg.Add(1)
			go l.runRemote(s)
		}
		l.sinks = append(l.sinks, s)
	}
	if cfg.LocalLog != nil {
		l.local = &sink{q: make(chan entry, qsize)}
		l.wg.Add(1)
		go l.runLocal(l.local, cfg.LocalLog)
	}
	return l
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run logs the messages of the events it receives (Messages), until ctx
// is done or events is closed. It never blocks beyond receiving from events. It does
// not close the Logger.
func (l *Logger) Run(ctx context.Context, events <-chan agent.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			ms := Messages(e)
			if len(ms) == 0 {
				continue
			}
			t := e.Time
			if t.IsZero() {
				t = l.clock()
			}
			for _, m := range ms {
				l.log(m, t)
			}
		}
	}
}

// Log queues a message for every target whose threshold it passes and for
// the local log, stamped with the Logger's clock. It never blocks: a full
// queue drops the message and counts it. Messages that fail
// Message.Validate are counted in Stats.Invalid and not sent.
func (l *Logger) Log(m Message) {
	l.log(m, l.clock())
}

func (l *Logger) log(m Message, t time.Time) {
	if err := m.Validate(); err != nil {
		l.invalid.Add(1)
		s := err.Error()
		l.lastInvalid.Store(&s)
		return
	}
	e := entry{t: t, m: m}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		for _, s := range l.sinks {
			s.dropped.Add(1)
		}
		if l.local != nil {
			l.local.dropped.Add(1)
		}
		return
	}
	l.logged.Add(1)
	if l.local != nil {
		l.local.enqueue(e)
	}
	if m.Severity > l.threshold {
		l.filtered.Add(1)
		return
	}
	for _, s := range l.sinks {
		s.enqueue(e)
	}
}

// Stats returns a snapshot of the counters.
func (l *Logger) Stats() Stats {
	st := Stats{
		Threshold: l.threshold,
		Logged:    l.logged.Load(),
		Filtered:  l.filtered.Load(),
		Invalid:   l.invalid.Load(),
	}
	if p := l.lastInvalid.Load(); p != nil {
		st.LastInvalid = *p
	}
	for _, s := range l.sinks {
		st.Targets = append(st.Targets, s.stats())
	}
	if l.local != nil {
		st.Local = l.local.stats()
	}
	return st
}

// Close stops taking messages, lets each target send what is queued for at
// most about DialTimeout+WriteTimeout, counts the rest as dropped, and
// closes the connections. It returns an error only when a sender (such as
// a LocalLog writer that never returns) is still stuck after that. Calling
// Close again does nothing.
func (l *Logger) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.closing)
	l.mu.Unlock()

	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	grace := l.dialTimeout + 2*l.writeTimeout
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
		l.cancel()
		return nil
	case <-timer.C:
	}
	l.cancel()
	timer.Reset(l.writeTimeout)
	select {
	case <-done:
		return nil
	case <-timer.C:
	}
	var stuck []string
	for _, s := range l.sinks {
		if s.running.Load() {
			stuck = append(stuck, s.target.String())
		}
	}
	if l.local != nil && l.local.running.Load() {
		stuck = append(stuck, "local log")
	}
	return fmt.Errorf("syslog: close: senders still blocked after %v: %s", grace+l.writeTimeout, strings.Join(stuck, ", "))
}
