package portal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

const (
	udiA = "WS-C3750E-24TD-S:FDO1234X0AB"
	udiB = "WS-C3750E-24TD-S:FDO1234X0CD"
	udiC = "WS-C3750E-24TD-S:FDO1234X0EF"
	udiP = "UC520-8U-4FXO-K9:FTX1234A0AA"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     *testing.T
	p     *Portal
	st    *BoltStore
	clk   *clock
	trust *license.Trust
	ctx   context.Context
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	st, err := OpenBolt(filepath.Join(t.TempDir(), "portal.db"), BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := license.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	cfg.Store, cfg.Signer = st, license.NewSigner(k)
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	cfg.Logf = t.Logf
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := license.NewTrust(cfg.Signer.Public())
	h := &harness{t: t, p: p, st: st, clk: clk, trust: trust, ctx: WithActor(context.Background(), "test")}
	if _, err := p.SeedSKUs(h.ctx); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) pak(qty int, skus ...string) string {
	h.t.Helper()
	var r PAKRequest
	for _, s := range skus {
		r.Lines = append(r.Lines, PAKLineRequest{SKU: s, Qty: qty})
	}
	codes, err := h.p.CreatePAKs(h.ctx, r)
	if err != nil {
		h.t.Fatal(err)
	}
	return codes[0]
}

// testDevice is a simulated device: a key and its UDIs.
type testDevice struct {
	key  ed25519.PrivateKey
	udis []string
}

func newDevice(t *testing.T, udis ...string) *testDevice {
	k, err := license.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &testDevice{key: k, udis: udis}
}

func (d *testDevice) credential(t *testing.T, now time.Time) []byte {
	c, err := license.NewCredential(d.udis, "test", d.key, now)
	if err != nil {
		t.Fatal(err)
	}
	return c.Encode()
}

func token() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// request builds a signed call-home request; mutating paths get a fresh
// idempotency key unless idem is given.
func (h *harness) request(d *testDevice, path string, body any, idem string) *http.Request {
	h.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	if idem == "" && protocol.Mutating(path) {
		idem = token()
	}
	now := h.clk.Now()
	nonce := token()
	sig := ed25519.Sign(d.key, protocol.SigningMessage(http.MethodPost, path, d.udis[0], now.Unix(), nonce, idem, data))
	r := httptest.NewRequest(http.MethodPost, "https://portal"+path, bytes.NewReader(data))
	r.Header.Set("Content-Type", protocol.ContentType)
	r.Header.Set(protocol.HeaderCredential, base64.StdEncoding.EncodeToString(d.credential(h.t, now)))
	r.Header.Set(protocol.HeaderUDI, d.udis[0])
	r.Header.Set(protocol.HeaderTime, strconv.FormatInt(now.Unix(), 10))
	r.Header.Set(protocol.HeaderNonce, nonce)
	r.Header.Set(protocol.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	if idem != "" {
		r.Header.Set(protocol.HeaderIdempotency, idem)
	}
	return r
}

func (h *harness) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.p.Handler().ServeHTTP(w, r)
	return w
}

// call sends a request and decodes a 200 answer into out, or returns the
// error code and message.
func (h *harness) call(d *testDevice, path string, body, out any) (code, msg string) {
	h.t.Helper()
	w := h.serve(h.request(d, path, body, ""))
	return decodeAnswer(h.t, w, out)
}

func decodeAnswer(t *testing.T, w *httptest.ResponseRecorder, out any) (code, msg string) {
	t.Helper()
	if w.Code != http.StatusOK {
		var eb protocol.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
			t.Fatalf("HTTP %d with a body that is not an error: %q", w.Code, w.Body)
		}
		if want := HTTPStatus(eb.Error.Code); want != w.Code {
			t.Fatalf("code %s came with HTTP %d; want %d", eb.Error.Code, w.Code, want)
		}
		return eb.Error.Code, eb.Error.Message
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatal(err)
		}
	}
	return "", ""
}

func (h *harness) mustCall(d *testDevice, path string, body, out any) {
	h.t.Helper()
	if code, msg := h.call(d, path, body, out); code != "" {
		h.t.Fatalf("%s: %s: %s", path, code, msg)
	}
}

func wantCode(t *testing.T, code, msg, wantCode, wantMsg string) {
	t.Helper()
	if code != wantCode || !strings.Contains(msg, wantMsg) {
		t.Fatalf("got %s %q; want %s containing %q", code, msg, wantCode, wantMsg)
	}
}

// parseFile parses and verifies a license file from the portal.
func (h *harness) parseFile(file string) []*license.License {
	h.t.Helper()
	ls, err := license.Parse([]byte(file))
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range ls {
		if err := h.trust.Verify(l); err != nil {
			h.t.Fatal(err)
		}
	}
	return ls
}
