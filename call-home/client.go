package callhome

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/licensestore"
)

// Defaults for Config fields left zero.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultRetryInitial = 10 * time.Second
	DefaultRetryMax     = 15 * time.Minute
	DefaultRetryFactor  = 2.0
	// DefaultMaxAge: a pending operation is given up after a week, well
	// inside the month the portal keeps its idempotency records.
	DefaultMaxAge = 7 * 24 * time.Hour
	maxURLLen     = 512
)

// Keys of the client's records in the agent's store.
const (
	keyURL   = "callHomeURL"   // string: the URL set by license call-home url
	keyState = "callHomeState" // state: last contact and result
	// keyRehost is where the agent keeps the last rehost ticket it wrote;
	// a revoke interrupted after the device processed the permission
	// ticket finds it there.
	keyRehost = "rehostTicket"
)

// Clock is the client's time source.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RetryPolicy is how pending operations are retried: the wait after
// attempt n is Initial×Factor^(n-1), at most Max, of which a random half
// is jitter; an operation older than MaxAge is given up.
type RetryPolicy struct {
	Initial time.Duration // default 10 s
	Max     time.Duration // default 15 min
	Factor  float64       // default 2
	MaxAge  time.Duration // default 7 days
	// Jitter returns a number in [0, 1) (default math/rand/v2).
	Jitter func() float64
}

// Config configures a Client. All fields are optional.
type Config struct {
	// URL is the portal's base URL (licensed --portal). A URL set with
	// 'license call-home url' is kept in the store and wins.
	URL string
	// CAFile is a PEM file of the CA certificates the portal's certificate
	// must chain to (licensed --portal-ca). RootCAs gives them directly.
	// With neither, the system's roots are used.
	CAFile  string
	RootCAs *x509.CertPool
	// HTTPClient replaces the client New builds (tests).
	HTTPClient *http.Client
	// Timeout bounds each request, connection and TLS handshake included
	// (default 15 s).
	Timeout time.Duration
	// MaxResponseBytes bounds an answer (default protocol.MaxResponseBody).
	MaxResponseBytes int64
	// Clock is the time source (default the system clock).
	Clock Clock
	// Rand makes nonces, idempotency keys and operation IDs (default
	// crypto/rand).
	Rand io.Reader
	// Logf logs what automatic retries do (default: discard).
	Logf  func(format string, args ...any)
	Retry RetryPolicy
}

// Client is the call-home client. It implements agent.CallHomer; its
// methods are safe for concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client

	mu       sync.Mutex
	url      string          // effective URL: the store's, else cfg.URL
	urlSet   bool            // url came from the store
	inflight map[string]bool // pending operations being run
	wake     chan struct{}
}

var _ agent.CallHomer = (*Client)(nil)

// New returns a client. It fails on an unusable URL or CA file.
func New(cfg Config) (*Client, error) {
	if cfg.URL != "" {
		if err := CheckURL(cfg.URL); err != nil {
			return nil, err
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = protocol.MaxResponseBody
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	r := &cfg.Retry
	if r.Initial <= 0 {
		r.Initial = DefaultRetryInitial
	}
	if r.Max <= 0 {
		r.Max = DefaultRetryMax
	}
	if r.Factor < 1 {
		r.Factor = DefaultRetryFactor
	}
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultMaxAge
	}
	if r.Jitter == nil {
		r.Jitter = mrand.Float64
	}
	hc := cfg.HTTPClient
	if hc == nil {
		roots := cfg.RootCAs
		if cfg.CAFile != "" {
			var err error
			if roots, err = LoadCAFile(cfg.CAFile); err != nil {
				return nil, err
			}
		}
		hc = newHTTPClient(roots, cfg.Timeout)
	}
	return &Client{cfg: cfg, hc: hc, url: cfg.URL, inflight: map[string]bool{}, wake: make(chan struct{}, 1)}, nil
}

// NewFromFlags builds the client of licensed's --portal and --portal-ca
// flags. url may be empty: the operator can set one at the prompt.
func NewFromFlags(url, caFile string, logf func(string, ...any)) (*Client, error) {
	return New(Config{URL: url, CAFile: caFile, Logf: logf})
}

// LoadCAFile reads PEM CA certificates.
func LoadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("portal CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("portal CA %s holds no PEM certificate", path)
	}
	return pool, nil
}

// CheckURL accepts an https URL with a host and nothing a portal URL
// should not carry (user info, query, fragment).
func CheckURL(s string) error {
	if len(s) > maxURLLen {
		return fmt.Errorf("call-home URL is %d characters; at most %d", len(s), maxURLLen)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("call-home URL %q: %v", s, err)
	case u.Scheme != "https":
		return fmt.Errorf("call-home URL %q: the scheme must be https (credentials and licenses travel over TLS only)", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("call-home URL %q has no host", s)
	case u.User != nil:
		return fmt.Errorf("call-home URL %q carries user information; the device authenticates with its credential", s)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return fmt.Errorf("call-home URL %q: no query or fragment allowed", s)
	case u.Port() != "" && !validPort(u.Port()):
		return fmt.Errorf("call-home URL %q: bad port %q", s, u.Port())
	}
	return nil
}

func validPort(p string) bool {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return false
		}
	}
	return n > 0
}

// state is what the client keeps of its last exchange.
type state struct {
	LastContact time.Time `json:"lastContact,omitzero"`
	LastResult  string    `json:"lastResult,omitempty"`
}

// loadURL reads the operator's URL from the store into the cache.
func (c *Client) loadURL(dev agent.Device) error {
	var u string
	var ok bool
	err := dev.Store().View(func(tx *licensestore.Tx) error {
		var err error
		ok, err = tx.Get(keyURL, &u)
		return err
	})
	if err != nil {
		return err
	}
	if ok && u != "" {
		c.mu.Lock()
		c.url, c.urlSet = u, true
		c.mu.Unlock()
	}
	return nil
}

func (c *Client) currentURL(dev agent.Device) string {
	if err := c.loadURL(dev); err != nil {
		c.cfg.Logf("call-home: reading the URL from the store: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url
}

// RunningConfig is the configuration line of a URL set at the prompt.
func (c *Client) RunningConfig() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.urlSet {
		return nil
	}
	return []string{"license call-home url " + c.url}
}

// Info reports the URL, the last exchange and the pending operations,
// from the store only: it never waits for the network.
func (c *Client) Info(ctx context.Context, dev agent.Device) agent.CallHomeInfo {
	info := agent.CallHomeInfo{URL: c.currentURL(dev)}
	var st state
	var ops []*pendingOp
	err := dev.Store().View(func(tx *licensestore.Tx) error {
		if _, err := tx.Get(keyState, &st); err != nil {
			return err
		}
		var err error
		ops, err = loadPending(tx)
		return err
	})
	if err != nil {
		info.LastResult = "cannot read the call-home state: " + err.Error()
		return info
	}
	info.LastContact, info.LastResult = st.LastContact, st.LastResult
	for _, op := range ops {
		info.Pending = append(info.Pending, op.describe())
	}
	return info
}

// Do runs one operation for the agent. install-pak without Confirm, and
// show-pak, only ask the portal what the PAK holds.
func (c *Client) Do(ctx context.Context, dev agent.Device, req agent.CallHomeRequest) (*agent.CallHomeResult, error) {
	switch req.Op {
	case "url":
		return c.setURL(ctx, dev, req.URL)
	case "show-pak":
		return c.showPAK(ctx, dev, req.PAK)
	case "install-pak":
		if !req.Confirm {
			return c.showPAK(ctx, dev, req.PAK)
		}
		return c.start(ctx, dev, req)
	case "resend", "revoke":
		return c.start(ctx, dev, req)
	}
	return nil, agent.Errorf(agent.CauseInvalidArgument, "unknown call-home operation %q (install-pak, show-pak, resend, revoke, url)", truncate(req.Op, 40))
}

func (c *Client) setURL(ctx context.Context, dev agent.Device, u string) (*agent.CallHomeResult, error) {
	if err := CheckURL(u); err != nil {
		return nil, agent.Errorf(agent.CauseInvalidArgument, "%v", err)
	}
	act := agent.ActorFrom(ctx)
	err := dev.Store().Update(func(tx *licensestore.Tx) error {
		if err := tx.Put(keyURL, u); err != nil {
			return err
		}
		_, err := tx.AppendAudit(licensestore.AuditRecord{Time: c.cfg.Clock.Now().Round(0), Actor: act.Name, Source: act.Source,
			Action: "call-home url", Target: u, Result: "ok"})
		return err
	})
	if err != nil {
		return nil, agent.Errorf(agent.CauseInvalidLicenseStore, "invalidLicenseStore: could not keep the call-home URL: %v", err)
	}
	c.mu.Lock()
	c.url, c.urlSet = u, true
	c.mu.Unlock()
	return &agent.CallHomeResult{Message: "Call-home URL set to " + u}, nil
}

func (c *Client) showPAK(ctx context.Context, dev agent.Device, pak string) (*agent.CallHomeResult, error) {
	code, err := protocol.NormalizePAK(pak)
	if err != nil {
		return nil, agent.Errorf(agent.CauseInvalidArgument, "%v", err)
	}
	var a showPAKAnswer
	err = c.post(ctx, dev, c.currentURL(dev), protocol.PathShowPAK, protocol.ShowPAKRequest{PAK: code}, &a, "")
	c.noteContact(dev, err, "show pak "+code)
	if err != nil {
		f := asFailure(err)
		return nil, &agent.Error{Cause: f.cause, Message: f.msg}
	}
	res := &agent.CallHomeResult{}
	left := 0
	for _, s := range a.SKUs {
		res.SKUs = append(res.SKUs, agent.SKUInfo{SKU: printable(s.Name, 64), Features: printableAll(s.Features), Type: printable(s.Type, 32),
			Count: s.Count, Days: s.Days, Remaining: s.Remaining})
		left += s.Remaining
	}
	if left == 0 {
		res.Message = "PAK " + code + " has no units left to redeem"
	}
	return res, nil
}

func printableAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = printable(s, 128)
	}
	return out
}

// noteContact records the outcome of an exchange that queued nothing.
func (c *Client) noteContact(dev agent.Device, err error, what string) {
	res, answered := "ok: "+what, true
	if err != nil {
		f := asFailure(err)
		res, answered = "failed: "+what+": "+f.msg, f.answered
	}
	now := c.cfg.Clock.Now().Round(0)
	if uerr := dev.Store().Update(func(tx *licensestore.Tx) error {
		var st state
		if _, err := tx.Get(keyState, &st); err != nil {
			return err
		}
		if answered {
			st.LastContact = now
		}
		st.LastResult = res
		return tx.Put(keyState, st)
	}); uerr != nil {
		c.cfg.Logf("call-home: recording the result: %v", uerr)
	}
}

// wakeRun tells Run that the pending operations changed.
func (c *Client) wakeRun() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// claim marks a pending operation as running; false if it already is.
func (c *Client) claim(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight[id] {
		return false
	}
	c.inflight[id] = true
	return true
}

func (c *Client) release(id string) {
	c.mu.Lock()
	delete(c.inflight, id)
	c.mu.Unlock()
}

// same reports whether a pending operation does what req asks.
func same(op *pendingOp, req agent.CallHomeRequest, pak string) bool {
	if op.Op != req.Op {
		return false
	}
	switch op.Op {
	case "install-pak":
		return op.PAK == pak && slices.Equal(op.SKUs, req.SKUs) && op.Qty == req.Qty
	case "revoke":
		return op.Target == req.Target
	}
	return true
}
