package callhome

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/licensestore"
	"github.com/licensed-dev/licensed/portal"
	"github.com/licensed-dev/licensed/portal/portaltest"
)

const (
	udiA = "WS-C3750E-24TD-S:FDO1234X0AB"
	udiB = "WS-C3750E-24TD-S:FDO1234X0CD"
	udiC = "WS-C3750E-24TD-S:FDO1234X0EF"
	udiD = "WS-C3750E-24TD-S:FDO1234X0GH"
)

// fakeClock moves only when told; After fires when the clock passes it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// waiting reports how many After calls wait.
func (c *fakeClock) waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

type env struct {
	t   *testing.T
	clk *fakeClock
	srv *portaltest.Server
}

func newEnv(t *testing.T, cfg portal.Config) *env {
	clk := newFakeClock()
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	return &env{t: t, clk: clk, srv: portaltest.Start(t, cfg)}
}

func (e *env) client(mod ...func(*Config)) *Client {
	e.t.Helper()
	cfg := Config{URL: e.srv.URL, RootCAs: e.srv.RootCAs, Clock: e.clk, Timeout: 20 * time.Second,
		Retry: RetryPolicy{Jitter: func() float64 { return 0.5 }}, Logf: e.t.Logf}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) device(udis ...string) *fakeDevice {
	d := newFakeDevice(e.t, e.srv.Trust, udis...)
	d.now = e.clk.Now
	return d
}

func (e *env) pak(sku string, qty int) string {
	e.t.Helper()
	codes, err := e.srv.CreatePAKs(context.Background(), portal.PAKRequest{Lines: []portal.PAKLineRequest{{SKU: sku, Qty: qty}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return codes[0]
}

func (e *env) remaining(pak string) int {
	e.t.Helper()
	v, err := e.srv.PAK(context.Background(), pak)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, l := range v.PAK.Lines {
		n += l.Remaining
	}
	return n
}

func install(pak string) agent.CallHomeRequest {
	return agent.CallHomeRequest{Op: "install-pak", PAK: pak, Confirm: true}
}

func pending(t *testing.T, d *fakeDevice) []*pendingOp {
	t.Helper()
	var ops []*pendingOp
	if err := d.store.View(func(tx *licensestore.Tx) error {
		var err error
		ops, err = loadPending(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return ops
}

func wantCause(t *testing.T, err error, cause agent.Cause, substr string) {
	t.Helper()
	var ae *agent.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *agent.Error", err, err)
	}
	if ae.Cause != cause || !strings.Contains(ae.Message, substr) {
		t.Fatalf("error = %s: %q; want %s containing %q", ae.Cause, ae.Message, cause, substr)
	}
}

func TestInstallPAK(t *testing.T) {
	e := newEnv(t, portal.Config{})
	c, dev := e.client(), e.device(udiA)
	pak := e.pak("c3750e-ipservices", 1)
	ctx := context.Background()

	// Without confirmation the client only shows the SKUs.
	dry, err := c.Do(ctx, dev, agent.CallHomeRequest{Op: "install-pak", PAK: strings.ToLower(pak)})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.SKUs) != 1 || dry.SKUs[0].SKU != "c3750e-ipservices" || dry.SKUs[0].Remaining != 1 || dry.Install != nil {
		t.Fatalf("dry run = %+v", dry)
	}
	if e.remaining(pak) != 1 || len(dev.InstalledIDs()) != 0 {
		t.Fatal("a dry run redeemed the PAK")
	}

	res, err := c.Do(ctx, dev, install(pak))
	if err != nil {
		t.Fatal(err)
	}
	if res.Install == nil || res.Install.Installed != 1 || !strings.Contains(res.Message, "c3750e-ipservices x1") {
		t.Fatalf("install = %+v %+v", res, res.Install)
	}
	if got := dev.features(); !slices.Equal(got, []string{"ipservices/permanent"}) {
		t.Fatalf("installed %v", got)
	}
	if e.remaining(pak) != 0 || len(pending(t, dev)) != 0 {
		t.Fatal("PAK not consumed or operation left pending")
	}
	info := c.Info(ctx, dev)
	if info.URL != e.srv.URL || info.LastContact.IsZero() || !strings.HasPrefix(info.LastResult, "install-pak ok") || len(info.Pending) != 0 {
		t.Fatalf("info = %+v", info)
	}

	// Once exhausted the portal refuses, and nothing is kept to retry.
	_, err = c.Do(ctx, dev, install(pak))
	wantCause(t, err, agent.CausePortalRefused, "fully redeemed")
	if len(pending(t, dev)) != 0 {
		t.Fatal("a refused operation was kept")
	}
	dry, err = c.Do(ctx, dev, agent.CallHomeRequest{Op: "show-pak", PAK: pak})
	if err != nil || !strings.Contains(dry.Message, "no units left") {
		t.Fatalf("show-pak of an exhausted PAK = %+v, %v", dry, err)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, portal.Config{})
	c, dev := e.client(), e.device(udiA)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		req   agent.CallHomeRequest
		cause agent.Cause
		want  string
	}{
		{"short PAK", install("ABC"), agent.CauseInvalidArgument, "11 characters"},
		{"bad symbol", install("ABCDEFGHJK!"), agent.CauseInvalidArgument, "not a PAK symbol"},
		{"typo", install(mistype(e.pak("c3750e-ipservices", 1))), agent.CauseInvalidArgument, "mistyped"},
		{"unknown PAK", install(newPAK(t)), agent.CausePortalRefused, "not known"},
		{"bad qty", agent.CallHomeRequest{Op: "install-pak", PAK: newPAK(t), Qty: -1, Confirm: true}, agent.CauseInvalidArgument, "quantity"},
		{"revoke to self", agent.CallHomeRequest{Op: "revoke", Target: udiA, Confirm: true}, agent.CauseInvalidArgument, "UDI of this device"},
		{"revoke bad UDI", agent.CallHomeRequest{Op: "revoke", Target: "nocolon", Confirm: true}, agent.CauseInvalidArgument, "PID:SN"},
		{"unknown op", agent.CallHomeRequest{Op: "fly"}, agent.CauseInvalidArgument, "unknown call-home operation"},
		{"http URL", agent.CallHomeRequest{Op: "url", URL: "http://portal.example/"}, agent.CauseInvalidArgument, "https"},
		{"URL with user", agent.CallHomeRequest{Op: "url", URL: "https://u:p@portal.example/"}, agent.CauseInvalidArgument, "user information"},
		{"URL with query", agent.CallHomeRequest{Op: "url", URL: "https://portal.example/?x=1"}, agent.CauseInvalidArgument, "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Do(ctx, dev, tc.req)
			wantCause(t, err, tc.cause, tc.want)
			if n := len(pending(t, dev)); n != 0 {
				t.Fatalf("%d operations kept", n)
			}
		})
	}
}

func newPAK(t *testing.T) string {
	p, err := protocol.NewPAK(nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mistype changes one symbol of a PAK.
func mistype(pak string) string {
	b := []byte(pak)
	if b[3] == '7' {
		b[3] = '8'
	} else {
		b[3] = '7'
	}
	return string(b)
}

func TestPartialFulfilment(t *testing.T) {
	e := newEnv(t, portal.Config{})
	c := e.client()
	ctx := context.Background()
	pak := e.pak("c3750e-ipservices", 3)
	for i, u := range []string{udiA, udiB, udiC} {
		dev := e.device(u)
		res, err := c.Do(ctx, dev, install(pak))
		if err != nil {
			t.Fatalf("device %d: %v", i+1, err)
		}
		if res.Install.Installed != 1 || e.remaining(pak) != 2-i {
			t.Fatalf("device %d: %+v, %d left", i+1, res.Install, e.remaining(pak))
		}
		if i == 0 {
			// The same device may not take a second unit of an uncounted SKU.
			_, err := c.Do(ctx, dev, install(pak))
			wantCause(t, err, agent.CausePortalRefused, "already holds")
		}
	}
	_, err := c.Do(ctx, e.device(udiD), install(pak))
	wantCause(t, err, agent.CausePortalRefused, "fully redeemed")

	// A counted SKU gives units in the quantity asked.
	phones := e.pak("uc500-phones", 3)
	dev := e.device("UC520-8U-4FXO-K9:FTX1234A0AA")
	res, err := c.Do(ctx, dev, agent.CallHomeRequest{Op: "install-pak", PAK: phones, Qty: 2, Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := dev.features(); !slices.Equal(got, []string{"phones/permanent/16"}) || !strings.Contains(res.Message, "x2 (1 left)") {
		t.Fatalf("counted redemption: %v %q", got, res.Message)
	}
	_, err = c.Do(ctx, dev, agent.CallHomeRequest{Op: "install-pak", PAK: phones, Qty: 2, Confirm: true})
	wantCause(t, err, agent.CausePortalRefused, "1 unit(s) left")
}

func TestResendRecoversLostLicenses(t *testing.T) {
	e := newEnv(t, portal.Config{})
	c, dev := e.client(), e.device(udiA)
	ctx := context.Background()
	res, err := c.Do(ctx, dev, agent.CallHomeRequest{Op: "resend", Confirm: true})
	if err != nil || !strings.Contains(res.Message, "holds no licenses") {
		t.Fatalf("resend of a new device = %+v, %v", res, err)
	}
	if _, err := c.Do(ctx, dev, install(e.pak("c3750e-ipservices", 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.IssueExtension(ctx, portal.ExtensionRequest{UDI: udiA, Feature: "advipservices", Days: 120}); err != nil {
		t.Fatal(err)
	}
	before := dev.InstalledIDs()
	dev.forget()
	res, err = c.Do(ctx, dev, agent.CallHomeRequest{Op: "resend", Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Install.Installed != 2 || !slices.Equal(dev.features(), []string{"advipservices/extension", "ipservices/permanent"}) {
		t.Fatalf("resend: %+v, %v", res.Install, dev.features())
	}
	if after := dev.InstalledIDs(); len(before) != 1 || !slices.Contains(after, before[0]) {
		t.Fatalf("resend brought %v, had %v", after, before)
	}
	// A second resend installs nothing new.
	res, err = c.Do(ctx, dev, agent.CallHomeRequest{Op: "resend", Confirm: true})
	if err != nil || res.Install.Existing != 2 || res.Install.Installed != 0 {
		t.Fatalf("second resend: %+v, %v", res, err)
	}
}

func TestRehost(t *testing.T) {
	e := newEnv(t, portal.Config{})
	c := e.client()
	ctx := context.Background()
	src, dst := e.device(udiA), e.device(udiB)
	if _, err := c.Do(ctx, src, install(e.pak("c3750e-ipservices", 1))); err != nil {
		t.Fatal(err)
	}
	moved := src.InstalledIDs()
	res, err := c.Do(ctx, src, agent.CallHomeRequest{Op: "revoke", Target: udiB, Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Message, "moved to "+udiB) || !strings.Contains(res.Message, "Grace period licenses installed") {
		t.Fatalf("revoke message %q", res.Message)
	}
	if got := src.features(); !slices.Equal(got, []string{"ipservices/gracePeriod"}) {
		t.Fatalf("source holds %v after revoke", got)
	}
	if _, err := c.Do(ctx, dst, agent.CallHomeRequest{Op: "resend", Confirm: true}); err != nil {
		t.Fatal(err)
	}
	if got := dst.features(); !slices.Equal(got, []string{"ipservices/permanent"}) {
		t.Fatalf("target holds %v", got)
	}
	// The source has nothing left to move; its licenses are rehosted.
	_, err = c.Do(ctx, src, agent.CallHomeRequest{Op: "revoke", Target: udiC, Confirm: true})
	wantCause(t, err, agent.CausePortalRefused, "no licenses")
	v, err := e.srv.Device(ctx, udiA)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range v.Licenses {
		if l.ID == moved[0] && l.State != portal.StateRehosted {
			t.Fatalf("moved license is %s", l.State)
		}
	}
}

// TestOneDeviceCannotTakeAnother: a device that claims another's UDI with
// its own key is refused, and a device never receives another UDI's
// licenses.
func TestOneDeviceCannotTakeAnother(t *testing.T) {
	e := newEnv(t, portal.Config{})
	c := e.client()
	ctx := context.Background()
	owner := e.device(udiA)
	if _, err := c.Do(ctx, owner, install(e.pak("c3750e-ipservices", 1))); err != nil {
		t.Fatal(err)
	}
	thief := e.device(udiA)
	_, err := c.Do(ctx, thief, agent.CallHomeRequest{Op: "resend", Confirm: true})
	wantCause(t, err, agent.CausePortalRefused, "bound to device key")
	// A stack credential listing a member that belongs to another device
	// is refused as a whole.
	stack := e.device(udiB, udiA)
	_, err = c.Do(ctx, stack, agent.CallHomeRequest{Op: "resend", Confirm: true})
	wantCause(t, err, agent.CausePortalRefused, "bound to device key")
	if len(thief.InstalledIDs())+len(stack.InstalledIDs()) != 0 {
		t.Fatal("licenses reached another device")
	}
}

func TestURLPersistsAndWins(t *testing.T) {
	e := newEnv(t, portal.Config{})
	dev := e.device(udiA)
	ctx := context.Background()
	c := e.client(func(cfg *Config) { cfg.URL = "https://flag.invalid:8443" })
	if got := c.RunningConfig(); got != nil {
		t.Fatalf("running config before any url command: %q", got)
	}
	if info := c.Info(ctx, dev); info.URL != "https://flag.invalid:8443" {
		t.Fatalf("URL = %q; want the flag's", info.URL)
	}
	res, err := c.Do(ctx, dev, agent.CallHomeRequest{Op: "url", URL: e.srv.URL})
	if err != nil || !strings.Contains(res.Message, e.srv.URL) {
		t.Fatalf("url: %+v, %v", res, err)
	}
	if got := c.RunningConfig(); !slices.Equal(got, []string{"license call-home url " + e.srv.URL}) {
		t.Fatalf("running config %q", got)
	}
	// A new client (a restart) with the flag still set uses the stored URL.
	c2 := e.client(func(cfg *Config) { cfg.URL = "https://flag.invalid:8443" })
	if _, err := c2.Do(ctx, dev, install(e.pak("c3750e-ipservices", 1))); err != nil {
		t.Fatal(err)
	}
	if got := c2.RunningConfig(); len(got) != 1 {
		t.Fatalf("restarted client's running config %q", got)
	}
	var audited bool
	dev.store.View(func(tx *licensestore.Tx) error {
		recs, _ := tx.Audit(0)
		for _, r := range recs {
			audited = audited || r.Action == "call-home url" && r.Target == e.srv.URL
		}
		return nil
	})
	if !audited {
		t.Fatal("the URL change was not audited")
	}
	// No URL at all: a clear error, nothing queued.
	c3 := e.client(func(cfg *Config) { cfg.URL = "" })
	_, err = c3.Do(ctx, e.device(udiB), install(e.pak("c3750e-ipservices", 1)))
	wantCause(t, err, agent.CauseUnavailable, "no call-home URL")
}

// deadURL is an https URL nothing listens on.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "https://" + addr
}

// TestPortalDownThenBack: the operation is kept, survives a restart of the
// client, and completes once the portal answers, installing once.
func TestPortalDownThenBack(t *testing.T) {
	e := newEnv(t, portal.Config{})
	dev := e.device(udiA)
	ctx := context.Background()
	pak := e.pak("c3750e-ipservices", 2)
	down := e.client(func(cfg *Config) { cfg.URL = deadURL(t) })
	start := time.Now()
	_, err := down.Do(ctx, dev, install(pak))
	wantCause(t, err, agent.CausePortalUnreachable, "retried automatically")
	if time.Since(start) > 10*time.Second {
		t.Fatalf("an unreachable portal took %s", time.Since(start))
	}
	ops := pending(t, dev)
	if len(ops) != 1 || ops[0].Attempts != 1 || !ops[0].Next.After(e.clk.Now()) {
		t.Fatalf("pending = %+v", ops)
	}
	if info := down.Info(ctx, dev); len(info.Pending) != 1 || !strings.Contains(info.Pending[0], "install-pak "+pak) || !info.LastContact.IsZero() {
		t.Fatalf("info = %+v", info)
	}
	// Not due yet: nothing runs.
	if next := down.RetryDue(ctx, dev); !next.Equal(ops[0].Next) {
		t.Fatalf("RetryDue = %v; want %v", next, ops[0].Next)
	}
	if len(pending(t, dev)[0].LastError) == 0 || pending(t, dev)[0].Attempts != 1 {
		t.Fatal("an operation ran before it was due")
	}
	// "Restart" with the portal back at the same store.
	up := e.client()
	e.clk.Advance(time.Minute)
	if next := up.RetryDue(ctx, dev); !next.IsZero() {
		t.Fatalf("next = %v after success", next)
	}
	if len(pending(t, dev)) != 0 || dev.installs != 1 || e.remaining(pak) != 1 {
		t.Fatalf("after the portal came back: pending %d, installs %d, %d left", len(pending(t, dev)), dev.installs, e.remaining(pak))
	}
}

// lossyProxy forwards to the portal but, while drop is set, throws the
// answer away: the portal did the work, the device never heard.
type lossyProxy struct {
	mu   sync.Mutex
	drop bool
	rp   *httputil.ReverseProxy
	hits int
}

func (p *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	drop := p.drop
	p.hits++
	p.mu.Unlock()
	if !drop {
		p.rp.ServeHTTP(w, r)
		return
	}
	rec := &discard{header: http.Header{}}
	p.rp.ServeHTTP(rec, r)
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	c, _, _ := hj.Hijack()
	c.Close()
}

type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// TestRetryNeverRedeemsTwice: an answer lost on the way back leaves the
// operation pending; its retry gets the portal's stored answer and the
// PAK loses one unit only.
func TestRetryNeverRedeemsTwice(t *testing.T) {
	e := newEnv(t, portal.Config{})
	ctx := context.Background()
	target, _ := url.Parse(e.srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.srv.RootCAs}}
	lp := &lossyProxy{drop: true, rp: rp}
	proxy := portaltest.Serve(t, lp, portaltest.NewTLS(t).Cert)
	dev := e.device(udiA)
	pak := e.pak("uc500-phones", 3)
	c := e.client(func(cfg *Config) { cfg.URL = proxy.URL; cfg.RootCAs = nil; cfg.HTTPClient = proxy.Client() })
	_, err := c.Do(ctx, dev, agent.CallHomeRequest{Op: "install-pak", PAK: pak, Confirm: true})
	wantCause(t, err, agent.CausePortalUnreachable, "kept")
	if e.remaining(pak) != 2 {
		t.Fatalf("the portal did not redeem: %d left", e.remaining(pak))
	}
	lp.mu.Lock()
	lp.drop = false
	lp.mu.Unlock()
	e.clk.Advance(time.Hour)
	c.RetryDue(ctx, dev)
	if len(pending(t, dev)) != 0 || dev.installs != 1 || e.remaining(pak) != 2 {
		t.Fatalf("after retry: pending %d, installs %d, %d units left (want 2)", len(pending(t, dev)), dev.installs, e.remaining(pak))
	}
	// Running the same command again while it is pending reuses the
	// operation instead of redeeming anew.
	lp.mu.Lock()
	lp.drop = true
	lp.mu.Unlock()
	c.Do(ctx, dev, agent.CallHomeRequest{Op: "install-pak", PAK: pak, Confirm: true})
	c.Do(ctx, dev, agent.CallHomeRequest{Op: "install-pak", PAK: pak, Confirm: true})
	if n := len(pending(t, dev)); n != 1 {
		t.Fatalf("%d operations pending for one request", n)
	}
	if e.remaining(pak) != 1 {
		t.Fatalf("%d units left; the repeated command redeemed twice", e.remaining(pak))
	}
}

func TestFailuresAreClearAndBounded(t *testing.T) {
	e := newEnv(t, portal.Config{})
	ctx := context.Background()
	cert := portaltest.NewTLS(t).Cert
	slowDone := make(chan struct{})
	t.Cleanup(func() { close(slowDone) })
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		mod     func(*Config)
		want    string
	}{
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			// With the body read, the server notices the client leave.
			io.Copy(io.Discard, r.Body)
			select {
			case <-slowDone:
			case <-r.Context().Done():
			}
		}, func(c *Config) { c.Timeout = 300 * time.Millisecond }, "did not answer within 300ms"},
		{"garbage", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>hello</html>"))
		}, nil, "does not look like a licensing portal"},
		{"garbage json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[1,2,3]`))
		}, nil, "want a JSON object"},
		{"huge", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			chunk := []byte(strings.Repeat(" ", 64<<10))
			for i := 0; i < 128; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, func(c *Config) { c.MaxResponseBytes = 1 << 20 }, "more than 1048576 bytes"},
		{"bad gateway", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream down", http.StatusBadGateway)
		}, nil, "HTTP 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := portaltest.Serve(t, tc.handler, cert)
			c := e.client(func(cfg *Config) {
				cfg.URL, cfg.HTTPClient = hs.URL, hs.Client()
				cfg.HTTPClient.Timeout = 3 * time.Second
				if tc.mod != nil {
					tc.mod(cfg)
				}
			})
			dev := e.device(udiA)
			start := time.Now()
			_, err := c.Do(ctx, dev, install(newPAK(t)))
			wantCause(t, err, agent.CausePortalUnreachable, tc.want)
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %s", d)
			}
			if len(pending(t, dev)) != 1 {
				t.Fatal("the operation was not kept")
			}
		})
	}
	t.Run("wrong certificate", func(t *testing.T) {
		// A server whose certificate another CA signed.
		hs := portaltest.Serve(t, e.srv.Handler(), portaltest.NewTLS(t).Cert)
		c := e.client(func(cfg *Config) { cfg.URL = hs.URL })
		_, err := c.Do(ctx, e.device(udiA), install(newPAK(t)))
		wantCause(t, err, agent.CausePortalUnreachable, "does not trust")
	})
	t.Run("not TLS", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.NotFoundHandler()}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		c := e.client(func(cfg *Config) { cfg.URL = "https://" + ln.Addr().String() })
		_, err = c.Do(ctx, e.device(udiA), install(newPAK(t)))
		wantCause(t, err, agent.CausePortalUnreachable, "does not speak TLS")
	})
	t.Run("refusal with control characters", func(t *testing.T) {
		hs := portaltest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"not-found","message":"no \u001b[31mred\u001b[0m PAK"}}`))
		}), cert)
		c := e.client(func(cfg *Config) { cfg.URL, cfg.HTTPClient = hs.URL, hs.Client() })
		dev := e.device(udiA)
		_, err := c.Do(ctx, dev, install(newPAK(t)))
		wantCause(t, err, agent.CausePortalRefused, "no  [31mred [0m PAK")
		if len(pending(t, dev)) != 0 {
			t.Fatal("a refusal was kept")
		}
	})
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	e := newEnv(t, portal.Config{DeviceRate: 0.01, DeviceBurst: 1})
	c, dev := e.client(), e.device(udiA)
	ctx := context.Background()
	if _, err := c.Do(ctx, dev, agent.CallHomeRequest{Op: "resend", Confirm: true}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Do(ctx, dev, agent.CallHomeRequest{Op: "resend", Confirm: true})
	wantCause(t, err, agent.CausePortalUnreachable, "too fast")
	op := pending(t, dev)[0]
	if wait := op.Next.Sub(e.clk.Now()); wait < 99*time.Second {
		t.Fatalf("next try in %s; the portal asked for 100 s", wait)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		jitter  float64
		attempt int
		want    time.Duration
	}{
		{0, 1, 5 * time.Second},
		{0.999999, 1, 10 * time.Second},
		{0, 2, 10 * time.Second},
		{0, 3, 20 * time.Second},
		{0, 20, 450 * time.Second},
		{0.999999, 60, 15 * time.Minute},
	} {
		c, err := New(Config{Retry: RetryPolicy{Jitter: func() float64 { return tc.jitter }}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.backoff(tc.attempt); got.Round(time.Second) != tc.want {
			t.Errorf("backoff(%d) with jitter %g = %s; want %s", tc.attempt, tc.jitter, got, tc.want)
		}
	}
}

func TestGivesUpAfterMaxAge(t *testing.T) {
	e := newEnv(t, portal.Config{})
	dev := e.device(udiA)
	ctx := context.Background()
	c := e.client(func(cfg *Config) { cfg.URL = deadURL(t); cfg.Retry.MaxAge = time.Hour })
	c.Do(ctx, dev, install(newPAK(t)))
	e.clk.Advance(2 * time.Hour)
	if next := c.RetryDue(ctx, dev); !next.IsZero() {
		t.Fatalf("next = %v", next)
	}
	info := c.Info(ctx, dev)
	if len(info.Pending) != 0 || !strings.Contains(info.LastResult, "gave up after 2 attempts") {
		t.Fatalf("info = %+v", info)
	}
}

// TestRunRetriesInBackground drives Run with the fake clock: a kept
// operation completes when its time comes.
func TestRunRetriesInBackground(t *testing.T) {
	e := newEnv(t, portal.Config{})
	dev := e.device(udiA)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pak := e.pak("c3750e-ipservices", 1)
	mux := &switchable{}
	hs := portaltest.Serve(t, mux, portaltest.NewTLS(t).Cert)
	c := e.client(func(cfg *Config) { cfg.URL, cfg.HTTPClient = hs.URL, hs.Client() })
	mux.set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	_, err := c.Do(ctx, dev, install(pak))
	wantCause(t, err, agent.CausePortalUnreachable, "HTTP 503")
	done := make(chan struct{})
	go func() { c.Run(ctx, dev); close(done) }()
	// Run's first pass (a start or a reload) retries at once; the portal
	// is still down, so Run waits for the next try.
	waitFor(t, func() bool {
		ops := pending(t, dev)
		return e.clk.waiting() == 1 && len(ops) == 1 && ops[0].Attempts == 2
	})
	mux.set(e.srv.Handler())
	e.clk.Advance(time.Hour)
	waitFor(t, func() bool { return len(pending(t, dev)) == 0 })
	if dev.installs != 1 {
		t.Fatalf("%d installs", dev.installs)
	}
	cancel()
	<-done
}

type switchable struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *switchable) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }
func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRevokeResumes: the portal goes away after the device processed the
// permission ticket; the kept operation hands the rehost ticket in later
// and does not process the ticket again.
func TestRevokeResumes(t *testing.T) {
	e := newEnv(t, portal.Config{})
	ctx := context.Background()
	src := e.device(udiA)
	if _, err := e.client().Do(ctx, src, install(e.pak("c3750e-ipservices", 1))); err != nil {
		t.Fatal(err)
	}
	mux := &switchable{}
	failRehost := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == protocol.PathRehost {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		e.srv.Handler().ServeHTTP(w, r)
	})
	mux.set(failRehost)
	hs := portaltest.Serve(t, mux, portaltest.NewTLS(t).Cert)
	c := e.client(func(cfg *Config) { cfg.URL, cfg.HTTPClient = hs.URL, hs.Client() })
	_, err := c.Do(ctx, src, agent.CallHomeRequest{Op: "revoke", Target: udiB, Confirm: true})
	wantCause(t, err, agent.CausePortalUnreachable, "kept")
	ops := pending(t, src)
	if len(ops) != 1 || ops[0].Stage != stageRevoked || ops[0].Rehost == "" {
		t.Fatalf("pending = %+v", ops)
	}
	if !slices.Equal(src.features(), []string{"ipservices/gracePeriod"}) {
		t.Fatalf("source holds %v", src.features())
	}
	// Another revoke must wait for this one.
	_, err = c.Do(ctx, src, agent.CallHomeRequest{Op: "revoke", Target: udiC, Confirm: true})
	wantCause(t, err, agent.CauseInvalidArgument, "pending")

	mux.set(e.srv.Handler())
	e.clk.Advance(time.Hour)
	c.RetryDue(ctx, src)
	if len(pending(t, src)) != 0 {
		t.Fatalf("still pending: %+v", pending(t, src))
	}
	dst := e.device(udiB)
	if _, err := c.Do(ctx, dst, agent.CallHomeRequest{Op: "resend", Confirm: true}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst.features(), []string{"ipservices/permanent"}) {
		t.Fatalf("target holds %v", dst.features())
	}
}

// TestRevokeRefusedAfterRevocation: when the portal refuses the rehost
// ticket for good, the operator gets the ticket to hand in by hand.
func TestRevokeRefusedAfterRevocation(t *testing.T) {
	e := newEnv(t, portal.Config{})
	ctx := context.Background()
	src := e.device(udiA)
	if _, err := e.client().Do(ctx, src, install(e.pak("c3750e-ipservices", 1))); err != nil {
		t.Fatal(err)
	}
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == protocol.PathRehost {
			w.Header().Set("Content-Type", protocol.ContentType)
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"error":{"code":"conflict","message":"permission ticket x was cancelled"}}`))
			return
		}
		e.srv.Handler().ServeHTTP(w, r)
	})
	hs := portaltest.Serve(t, refuse, portaltest.NewTLS(t).Cert)
	c := e.client(func(cfg *Config) { cfg.URL, cfg.HTTPClient = hs.URL, hs.Client() })
	_, err := c.Do(ctx, src, agent.CallHomeRequest{Op: "revoke", Target: udiB, Confirm: true})
	wantCause(t, err, agent.CausePortalRefused, "licensed-rehost-ticket v1")
	if len(pending(t, src)) != 0 {
		t.Fatal("a refused revoke was kept")
	}
}

// TestRevokeRecoversRehostTicket: the device processed the ticket but the
// rehost ticket did not reach the pending operation; the agent's kept
// copy completes the move.
func TestRevokeRecoversRehostTicket(t *testing.T) {
	e := newEnv(t, portal.Config{})
	ctx := context.Background()
	src := e.device(udiA)
	c := e.client()
	if _, err := c.Do(ctx, src, install(e.pak("c3750e-ipservices", 1))); err != nil {
		t.Fatal(err)
	}
	var pr permissionAnswer
	key := "0123456789abcdef0123"
	if err := c.post(ctx, src, e.srv.URL, protocol.PathPermission, protocol.PermissionRequest{Target: udiB}, &pr, key); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Revoke(ctx, []byte(pr.Ticket)); err != nil {
		t.Fatal(err)
	}
	// The operation as it was kept before the device processed the ticket.
	now := e.clk.Now()
	op := &pendingOp{ID: "0000000000000001-00000000", Op: "revoke", Target: udiB, UDI: udiA, Key: key,
		RehostKey: "fedcba9876543210fedc", Stage: stageTicket, Ticket: pr.Ticket, TicketID: pr.TicketID,
		Licenses: pr.Licenses, Created: now, Next: now}
	if err := src.store.Update(func(tx *licensestore.Tx) error { return tx.PutPending(op.ID, op) }); err != nil {
		t.Fatal(err)
	}
	c.RetryDue(ctx, src)
	if len(pending(t, src)) != 0 {
		t.Fatalf("still pending: %+v", pending(t, src)[0])
	}
	v, err := e.srv.Device(ctx, udiB)
	if err != nil || len(v.Licenses) != 1 || v.Licenses[0].State != portal.StateActive {
		t.Fatalf("target at the portal: %+v, %v", v, err)
	}
}

func TestInstallRefusedByDevice(t *testing.T) {
	// A portal whose key the device does not trust: the licenses arrive
	// and fail verification; the operation ends with a message that says
	// how to fetch them again.
	e := newEnv(t, portal.Config{})
	other := newEnv(t, portal.Config{})
	dev := newFakeDevice(t, other.srv.Trust, udiA)
	dev.now = e.clk.Now
	c := e.client()
	res, err := c.Do(context.Background(), dev, install(e.pak("c3750e-ipservices", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Install.Failed != 1 || res.Install.Lines[0].Cause != agent.CauseInvalidLicenseLine {
		t.Fatalf("install = %+v", res.Install)
	}
	dev.failInstall = agent.Errorf(agent.CauseInvalidLicenseFile, "invalidLicenseFile: broken")
	_, err = c.Do(context.Background(), dev, agent.CallHomeRequest{Op: "resend", Confirm: true})
	wantCause(t, err, agent.CauseInvalidLicenseFile, "license call-home resend")
	if len(pending(t, dev)) != 0 {
		t.Fatal("kept an operation the device refuses")
	}
	dev.failInstall = agent.Errorf(agent.CauseInvalidLicenseStore, "invalidLicenseStore: disk full")
	_, err = c.Do(context.Background(), dev, agent.CallHomeRequest{Op: "resend", Confirm: true})
	wantCause(t, err, agent.CauseInvalidLicenseStore, "kept")
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := NewFromFlags("http://portal", "", nil); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http URL: %v", err)
	}
	if _, err := NewFromFlags("https://portal", "/nonexistent/ca.pem", nil); err == nil || !strings.Contains(err.Error(), "portal CA") {
		t.Errorf("missing CA file: %v", err)
	}
	f := t.TempDir() + "/ca.pem"
	if err := writeFile(f, "not a certificate"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFromFlags("https://portal", f, nil); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA file: %v", err)
	}
	if c, err := NewFromFlags("", "", nil); err != nil || c.RunningConfig() != nil {
		t.Errorf("empty URL: %v", err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// TestSlowPortalLeavesAgentFree: while a request waits on a slow portal,
// the call-home state is readable at once (show commands never wait for
// the network).
func TestSlowPortalLeavesAgentFree(t *testing.T) {
	e := newEnv(t, portal.Config{})
	release := make(chan struct{})
	hs := portaltest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), portaltest.NewTLS(t).Cert)
	c := e.client(func(cfg *Config) { cfg.URL, cfg.HTTPClient, cfg.Timeout = hs.URL, hs.Client(), 5*time.Second })
	dev := e.device(udiA)
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), dev, install(newPAK(t)))
		done <- err
	}()
	waitFor(t, func() bool { return len(pending(t, dev)) == 1 })
	start := time.Now()
	info := c.Info(context.Background(), dev)
	if d := time.Since(start); d > time.Second || len(info.Pending) != 1 {
		t.Fatalf("Info took %s during a slow call: %+v", d, info)
	}
	// The same operation asked for again is refused at once, not queued twice.
	_, err := c.Do(context.Background(), dev, install(pending(t, dev)[0].PAK))
	wantCause(t, err, agent.CauseUnavailable, "being sent to the portal right now")
	close(release)
	if err := <-done; err == nil {
		t.Fatal("a hung request succeeded")
	}
}
