package portal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

func TestRedeem(t *testing.T) {
	h := newHarness(t, Config{})
	d := newDevice(t, udiA)
	pak := h.pak(1, "c3750e-ipservices", "c3750e-advipservices")

	var show protocol.ShowPAKResponse
	h.mustCall(d, protocol.PathShowPAK, protocol.ShowPAKRequest{PAK: strings.ToLower(pak)}, &show)
	if len(show.SKUs) != 2 || show.SKUs[0].Remaining != 1 {
		t.Fatalf("show = %+v", show)
	}
	var r protocol.RedeemResponse
	h.mustCall(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak, SKUs: []string{"c3750e-advipservices"}}, &r)
	ls := h.parseFile(r.LicenseFiles[0])
	if len(ls) != 1 || ls[0].Feature != "advipservices" || ls[0].UDI != udiA || ls[0].PAK != pak || ls[0].Type != license.Permanent {
		t.Fatalf("licenses %+v", ls[0])
	}
	if r.UDI != udiA || len(r.Redeemed) != 1 || r.Redeemed[0].Remaining != 0 {
		t.Fatalf("redeem = %+v", r)
	}
	code, msg := h.call(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak, SKUs: []string{"c3750e-advipservices"}}, nil)
	wantCode(t, code, msg, protocol.CodeExhausted, "fully redeemed")
	code, msg = h.call(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak, SKUs: []string{"uc500-phones"}}, nil)
	wantCode(t, code, msg, protocol.CodeNotFound, "holds no SKU uc500-phones")
	// All remaining SKUs.
	h.mustCall(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak}, &r)
	if ls := h.parseFile(r.LicenseFiles[0]); len(ls) != 1 || ls[0].Feature != "ipservices" {
		t.Fatalf("second redemption %+v", ls)
	}
	code, msg = h.call(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak}, nil)
	wantCode(t, code, msg, protocol.CodeExhausted, "c3750e-ipservices 1 of 1 units used")
	code, msg = h.call(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: mustPAK(t)}, nil)
	wantCode(t, code, msg, protocol.CodeNotFound, "not known")

	v, err := h.p.PAK(h.ctx, pak)
	if err != nil || len(v.Redemptions) != 2 || v.PAK.Redemptions != 2 || !v.PAK.Exhausted() {
		t.Fatalf("PAK view = %+v, %v", v, err)
	}
}

func mustPAK(t *testing.T) string {
	p, err := protocol.NewPAK(nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRedeemCountedAndPartial(t *testing.T) {
	h := newHarness(t, Config{})
	d := newDevice(t, udiP)
	pak := h.pak(5, "uc500-phones")
	var r protocol.RedeemResponse
	h.mustCall(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak, Qty: 3}, &r)
	ls := h.parseFile(r.LicenseFiles[0])
	if ls[0].Count != 24 || ls[0].Addition != license.Additive || r.Redeemed[0].Qty != 3 || r.Redeemed[0].Remaining != 2 {
		t.Fatalf("counted: %+v %+v", ls[0], r.Redeemed)
	}
	// The same device may add more units of a counted feature.
	h.mustCall(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak, Qty: 2}, &r)
	code, msg := h.call(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak}, nil)
	wantCode(t, code, msg, protocol.CodeExhausted, "fully redeemed")

	ip := h.pak(3, "c3750e-ipservices")
	code, msg = h.call(newDevice(t, udiA), protocol.PathRedeem, protocol.RedeemRequest{PAK: ip, Qty: 2}, nil)
	wantCode(t, code, msg, protocol.CodeBadRequest, "one unit per device")
	a := newDevice(t, udiA)
	h.mustCall(a, protocol.PathRedeem, protocol.RedeemRequest{PAK: ip}, nil)
	code, msg = h.call(a, protocol.PathRedeem, protocol.RedeemRequest{PAK: ip}, nil)
	wantCode(t, code, msg, protocol.CodeConflict, "already holds SKU c3750e-ipservices")
	h.mustCall(newDevice(t, udiB), protocol.PathRedeem, protocol.RedeemRequest{PAK: ip}, nil)
	code, msg = h.call(newDevice(t, udiC), protocol.PathRedeem, protocol.RedeemRequest{PAK: ip, Qty: 2}, nil)
	wantCode(t, code, msg, protocol.CodeBadRequest, "one unit per device")
	h.mustCall(newDevice(t, udiC), protocol.PathRedeem, protocol.RedeemRequest{PAK: ip}, nil)
	code, msg = h.call(newDevice(t, "WS-C3750E-24TD-S:FDO0000X0ZZ"), protocol.PathRedeem, protocol.RedeemRequest{PAK: ip}, nil)
	wantCode(t, code, msg, protocol.CodeExhausted, "fully redeemed")
}

func TestIdempotency(t *testing.T) {
	h := newHarness(t, Config{})
	d := newDevice(t, udiP)
	pak := h.pak(4, "uc500-phones")
	key := token()
	body := protocol.RedeemRequest{PAK: pak}
	first := h.serve(h.request(d, protocol.PathRedeem, body, key))
	if first.Code != http.StatusOK || first.Header().Get(protocol.HeaderReplayed) != "" {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	// A retry (new nonce and signature, same key and body) gets the same
	// answer and takes nothing more.
	h.clk.Advance(time.Minute)
	again := h.serve(h.request(d, protocol.PathRedeem, body, key))
	if again.Code != http.StatusOK || again.Header().Get(protocol.HeaderReplayed) != "true" || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) {
		t.Fatalf("retry: %d %q", again.Code, again.Header())
	}
	v, _ := h.p.PAK(h.ctx, pak)
	if v.PAK.Lines[0].Remaining != 3 {
		t.Fatalf("%d units left after a retry; want 3", v.PAK.Lines[0].Remaining)
	}
	// The key for another request is refused.
	w := h.serve(h.request(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak, Qty: 2}, key))
	code, msg := decodeAnswer(t, w, nil)
	wantCode(t, code, msg, protocol.CodeIdempotency, "used for another request")
	// Keys belong to a device key: another device's same key is its own.
	w = h.serve(h.request(newDevice(t, "UC520-8U-4FXO-K9:FTX1234A0BB"), protocol.PathRedeem, body, key))
	if w.Code != http.StatusOK || w.Header().Get(protocol.HeaderReplayed) != "" {
		t.Fatalf("other device with the same key: %d %s", w.Code, w.Body)
	}
	// Pruning forgets old answers only.
	h.clk.Advance(DefaultIdempotencyTTL + time.Hour)
	n, err := h.p.Prune(h.ctx)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
}

// TestRequestChecks: every way a request can be malformed or unauthorised
// is refused with the right code.
func TestRequestChecks(t *testing.T) {
	h := newHarness(t, Config{})
	d := newDevice(t, udiA)
	pak := h.pak(1, "c3750e-ipservices")
	good := func() *http.Request { return h.request(d, protocol.PathShowPAK, protocol.ShowPAKRequest{PAK: pak}, "") }
	other := newDevice(t, udiB)
	for _, tc := range []struct {
		name string
		mod  func(r *http.Request) *http.Request
		code string
		msg  string
	}{
		{"GET", func(r *http.Request) *http.Request {
			return httptest.NewRequest(http.MethodGet, "https://portal"+protocol.PathShowPAK, nil)
		}, protocol.CodeMethod, "takes POST"},
		{"unknown path", func(r *http.Request) *http.Request {
			r.URL.Path = "/v1/nothing"
			return r
		}, protocol.CodeNotFound, "no call-home operation"},
		{"media type", func(r *http.Request) *http.Request { r.Header.Set("Content-Type", "text/plain"); return r }, protocol.CodeMediaType, "application/json"},
		{"no credential", func(r *http.Request) *http.Request { r.Header.Del(protocol.HeaderCredential); return r }, protocol.CodeUnauthenticated, "no device credential"},
		{"credential not base64", func(r *http.Request) *http.Request { r.Header.Set(protocol.HeaderCredential, "!!!"); return r }, protocol.CodeUnauthenticated, "not base64"},
		{"credential garbage", func(r *http.Request) *http.Request {
			r.Header.Set(protocol.HeaderCredential, base64.StdEncoding.EncodeToString([]byte("hello")))
			return r
		}, protocol.CodeUnauthenticated, "device credential"},
		{"credential of another device", func(r *http.Request) *http.Request {
			r.Header.Set(protocol.HeaderCredential, base64.StdEncoding.EncodeToString(other.credential(t, h.clk.Now())))
			r.Header.Set(protocol.HeaderUDI, udiB)
			return r
		}, protocol.CodeUnauthenticated, "signature does not verify"},
		{"UDI not in credential", func(r *http.Request) *http.Request { r.Header.Set(protocol.HeaderUDI, udiB); return r }, protocol.CodeUnauthenticated, "not one of the credential's"},
		{"bad time", func(r *http.Request) *http.Request { r.Header.Set(protocol.HeaderTime, "yesterday"); return r }, protocol.CodeBadRequest, "Unix seconds"},
		{"bad nonce", func(r *http.Request) *http.Request { r.Header.Set(protocol.HeaderNonce, "short"); return r }, protocol.CodeBadRequest, "Licensed-Nonce"},
		{"no signature", func(r *http.Request) *http.Request { r.Header.Del(protocol.HeaderSignature); return r }, protocol.CodeUnauthenticated, "Ed25519 signature"},
		{"body changed", func(r *http.Request) *http.Request {
			b, _ := json.Marshal(protocol.ShowPAKRequest{PAK: mustPAK(t)})
			r.Body = ioNopCloser(b)
			r.ContentLength = int64(len(b))
			return r
		}, protocol.CodeUnauthenticated, "does not verify"},
		{"too large", func(r *http.Request) *http.Request {
			b := bytes.Repeat([]byte(" "), protocol.MaxRequestBody+1)
			r.Body = ioNopCloser(b)
			r.ContentLength = int64(len(b))
			return r
		}, protocol.CodeTooLarge, "over 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := decodeAnswer(t, h.serve(tc.mod(good())), nil)
			wantCode(t, code, msg, tc.code, tc.msg)
		})
	}
	t.Run("stale", func(t *testing.T) {
		r := good()
		h.clk.Advance(protocol.MaxSkew + time.Second)
		defer h.clk.Advance(-protocol.MaxSkew - time.Second)
		code, msg := decodeAnswer(t, h.serve(r), nil)
		wantCode(t, code, msg, protocol.CodeStale, "check the device's clock")
	})
	t.Run("replay", func(t *testing.T) {
		r := good()
		body, _ := json.Marshal(protocol.ShowPAKRequest{PAK: pak})
		if w := h.serve(r); w.Code != http.StatusOK {
			t.Fatalf("first: %d %s", w.Code, w.Body)
		}
		r2 := r.Clone(r.Context())
		r2.Body = ioNopCloser(body)
		code, msg := decodeAnswer(t, h.serve(r2), nil)
		wantCode(t, code, msg, protocol.CodeReplay, "already used")
	})
	t.Run("mutating without idempotency key", func(t *testing.T) {
		r := h.request(d, protocol.PathResend, protocol.ResendRequest{}, "")
		r.URL.Path = protocol.PathRedeem
		code, msg := decodeAnswer(t, h.serve(r), nil)
		wantCode(t, code, msg, protocol.CodeBadRequest, "needs an Idempotency-Key")
	})
	t.Run("unknown field", func(t *testing.T) {
		r := h.request(d, protocol.PathShowPAK, map[string]string{"pak": pak, "extra": "x"}, "")
		code, msg := decodeAnswer(t, h.serve(r), nil)
		wantCode(t, code, msg, protocol.CodeBadRequest, "unknown field")
	})
}

func ioNopCloser(b []byte) *nopCloser { return &nopCloser{bytes.NewReader(b)} }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func TestKeyBinding(t *testing.T) {
	h := newHarness(t, Config{})
	owner := newDevice(t, udiA)
	h.mustCall(owner, protocol.PathResend, protocol.ResendRequest{}, nil)
	v, err := h.p.Device(h.ctx, udiA)
	if err != nil || v.Device.KeyID != license.KeyID(owner.key.Public().(ed25519.PublicKey)) || len(v.History) != 1 || v.History[0].Action != "device-key-bound" {
		t.Fatalf("device view %+v, %v", v, err)
	}
	thief := newDevice(t, udiA)
	code, msg := h.call(thief, protocol.PathResend, protocol.ResendRequest{}, nil)
	wantCode(t, code, msg, protocol.CodeKeyMismatch, "reset-key")
	// The owner's next request writes nothing (read-only pass).
	before := h.st.Stats().Commits
	h.mustCall(owner, protocol.PathStatus, protocol.StatusRequest{}, nil)
	if h.st.Stats().Commits != before {
		t.Fatal("a read by a known device wrote to the store")
	}
	// After a reset the new key binds.
	if err := h.p.ResetDeviceKey(h.ctx, udiA); err != nil {
		t.Fatal(err)
	}
	h.mustCall(thief, protocol.PathResend, protocol.ResendRequest{}, nil)
	code, msg = h.call(owner, protocol.PathResend, protocol.ResendRequest{}, nil)
	wantCode(t, code, msg, protocol.CodeKeyMismatch, "bound to device key")
}

func TestLimits(t *testing.T) {
	t.Run("device rate", func(t *testing.T) {
		h := newHarness(t, Config{DeviceRate: 1, DeviceBurst: 2})
		d := newDevice(t, udiA)
		h.mustCall(d, protocol.PathStatus, protocol.StatusRequest{}, nil)
		h.mustCall(d, protocol.PathStatus, protocol.StatusRequest{}, nil)
		w := h.serve(h.request(d, protocol.PathStatus, protocol.StatusRequest{}, ""))
		code, msg := decodeAnswer(t, w, nil)
		wantCode(t, code, msg, protocol.CodeRateLimited, "too fast")
		if w.Header().Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
		}
		// Another device is not affected; time refills the bucket.
		h.mustCall(newDevice(t, udiB), protocol.PathStatus, protocol.StatusRequest{}, nil)
		h.clk.Advance(time.Second)
		h.mustCall(d, protocol.PathStatus, protocol.StatusRequest{}, nil)
	})
	t.Run("PAK rate", func(t *testing.T) {
		h := newHarness(t, Config{PAKRate: 0.5, PAKBurst: 1})
		pak := h.pak(1, "c3750e-ipservices")
		h.mustCall(newDevice(t, udiA), protocol.PathShowPAK, protocol.ShowPAKRequest{PAK: pak}, nil)
		w := h.serve(h.request(newDevice(t, udiB), protocol.PathShowPAK, protocol.ShowPAKRequest{PAK: pak}, ""))
		code, msg := decodeAnswer(t, w, nil)
		wantCode(t, code, msg, protocol.CodeRateLimited, "PAK "+pak)
		if w.Header().Get("Retry-After") != "2" {
			t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
		}
	})
	t.Run("in flight", func(t *testing.T) {
		h := newHarness(t, Config{MaxInFlight: 1})
		h.p.inflight <- struct{}{} // one request is being served
		w := h.serve(h.request(newDevice(t, udiA), protocol.PathStatus, protocol.StatusRequest{}, ""))
		code, msg := decodeAnswer(t, w, nil)
		wantCode(t, code, msg, protocol.CodeBusy, "retry shortly")
		if w.Header().Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		<-h.p.inflight
	})
	t.Run("tracked devices", func(t *testing.T) {
		h := newHarness(t, Config{MaxTracked: 2, DeviceRate: 0.001, DeviceBurst: 2})
		h.mustCall(newDevice(t, udiA), protocol.PathStatus, protocol.StatusRequest{}, nil)
		h.mustCall(newDevice(t, udiB), protocol.PathStatus, protocol.StatusRequest{}, nil)
		code, msg := h.call(newDevice(t, udiC), protocol.PathStatus, protocol.StatusRequest{}, nil)
		wantCode(t, code, msg, protocol.CodeBusy, "too many")
	})
}

func TestConcurrentRedeemsOfOnePartialPAK(t *testing.T) {
	h := newHarness(t, Config{PAKBurst: 1000})
	const n = 40
	pak := h.pak(n-10, "c3750e-ipservices")
	var wg sync.WaitGroup
	codes := make([]string, n)
	reqs := make([]*http.Request, n)
	for i := range n {
		reqs[i] = h.request(newDevice(t, "WS-C3750E-24TD-S:FDO"+strconv.Itoa(1000+i)), protocol.PathRedeem, protocol.RedeemRequest{PAK: pak}, "")
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			h.p.Handler().ServeHTTP(w, reqs[i])
			if w.Code != http.StatusOK {
				var eb protocol.ErrorBody
				json.Unmarshal(w.Body.Bytes(), &eb)
				codes[i] = eb.Error.Code
			}
		}()
	}
	wg.Wait()
	ok, exhausted := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			ok++
		case protocol.CodeExhausted:
			exhausted++
		default:
			t.Errorf("unexpected code %s", c)
		}
	}
	if ok != n-10 || exhausted != 10 {
		t.Fatalf("%d redeemed, %d refused; want %d and 10", ok, exhausted, n-10)
	}
	if s := h.st.Stats(); s.Commits >= s.Updates {
		t.Logf("no grouping: %d commits for %d updates", s.Commits, s.Updates)
	}
}

func TestRehostOverCallHome(t *testing.T) {
	h := newHarness(t, Config{})
	src := newDevice(t, udiA)
	pak := h.pak(1, "c3750e-ipservices")
	var r protocol.RedeemResponse
	h.mustCall(src, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak}, &r)

	code, msg := h.call(src, protocol.PathPermission, protocol.PermissionRequest{Target: udiA}, nil)
	wantCode(t, code, msg, protocol.CodeBadRequest, "source UDI itself")
	var pr protocol.PermissionResponse
	h.mustCall(src, protocol.PathPermission, protocol.PermissionRequest{Target: udiB}, &pr)
	pt, err := license.ParsePermissionTicket([]byte(pr.Ticket))
	if err != nil || h.trust.VerifyTicket(pt) != nil {
		t.Fatalf("ticket: %v", err)
	}
	if !slices.Equal(pt.LicenseIDs, r.LicenseIDs) || len(pt.Grace) != 1 || pt.Grace[0].Period != DefaultGracePeriod || pt.UDI != udiA {
		t.Fatalf("ticket %+v", pt)
	}
	code, msg = h.call(src, protocol.PathPermission, protocol.PermissionRequest{Target: udiC}, nil)
	wantCode(t, code, msg, protocol.CodeConflict, "already named by open permission ticket")

	// The device revokes and signs the rehost ticket.
	rt, err := license.NewRehostTicket(pt, pt.LicenseIDs, src.key, h.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Handed in by another device: refused.
	other := newDevice(t, udiC)
	code, msg = h.call(other, protocol.PathRehost, protocol.RehostRequest{RehostTicket: string(rt.Encode()), Target: udiB}, nil)
	wantCode(t, code, msg, protocol.CodeForbidden, "its own rehost tickets")
	code, msg = h.call(src, protocol.PathRehost, protocol.RehostRequest{RehostTicket: string(rt.Encode()), Target: udiC}, nil)
	wantCode(t, code, msg, protocol.CodeBadRequest, "moves licenses to "+udiB)
	var rr protocol.RehostResponse
	h.mustCall(src, protocol.PathRehost, protocol.RehostRequest{RehostTicket: string(rt.Encode()), Target: udiB}, &rr)
	if rr.Target != udiB || len(rr.Issued) != 1 || rr.Source != udiA {
		t.Fatalf("rehost = %+v", rr)
	}
	// Handing the same ticket in again gives the same answer.
	var again protocol.RehostResponse
	h.mustCall(src, protocol.PathRehost, protocol.RehostRequest{RehostTicket: string(rt.Encode())}, &again)
	if !slices.Equal(again.Issued, rr.Issued) {
		t.Fatalf("second hand-in issued %v, first %v", again.Issued, rr.Issued)
	}
	// The target gets the license; the source only its grace license.
	var res protocol.ResendResponse
	h.mustCall(newDevice(t, udiB), protocol.PathResend, protocol.ResendRequest{}, &res)
	if ls := h.parseFile(res.LicenseFiles[0]); len(ls) != 1 || ls[0].UDI != udiB || ls[0].Feature != "ipservices" || ls[0].PAK != pak {
		t.Fatalf("target resend %+v", ls)
	}
	h.mustCall(src, protocol.PathResend, protocol.ResendRequest{}, &res)
	if ls := h.parseFile(res.LicenseFiles[0]); len(ls) != 1 || ls[0].Type != license.GracePeriod {
		t.Fatalf("source resend %+v", ls)
	}
	var st protocol.StatusResponse
	h.mustCall(src, protocol.PathStatus, protocol.StatusRequest{}, &st)
	if len(st.UDIs) != 1 || len(st.UDIs[0].Licenses) != 2 || len(st.UDIs[0].Tickets) != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestRehostTicketChecks(t *testing.T) {
	h := newHarness(t, Config{})
	src := newDevice(t, udiA)
	pak := h.pak(1, "c3750e-ipservices", "c3750e-advipservices")
	var r protocol.RedeemResponse
	h.mustCall(src, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak}, &r)
	var pr protocol.PermissionResponse
	h.mustCall(src, protocol.PathPermission, protocol.PermissionRequest{Target: udiB, Licenses: r.LicenseIDs[:1]}, &pr)
	pt, _ := license.ParsePermissionTicket([]byte(pr.Ticket))

	// Signed by a key other than the bound one.
	forged, _ := license.NewRehostTicket(pt, pt.LicenseIDs, newDevice(t, udiA).key, h.clk.Now())
	_, err := h.p.Rehost(h.ctx, RehostRequest{RehostTicket: forged.Encode()})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeKeyMismatch, "bound to device key")
	// Processed after the ticket expired.
	late, _ := license.NewRehostTicket(pt, pt.LicenseIDs, src.key, pt.Expires.Add(time.Hour))
	_, err = h.p.Rehost(h.ctx, RehostRequest{RehostTicket: late.Encode()})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeConflict, "after it expired")
	// Revoking other licenses than the ticket names.
	p2 := *pt
	p2.LicenseIDs = r.LicenseIDs
	wrong, _ := license.NewRehostTicket(&p2, r.LicenseIDs, src.key, h.clk.Now())
	_, err = h.p.Rehost(h.ctx, RehostRequest{RehostTicket: wrong.Encode()})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeBadRequest, "but permission ticket")
	// An unknown permission ticket.
	p3 := *pt
	p3.ID = "0000000000000000"
	unknown, _ := license.NewRehostTicket(&p3, pt.LicenseIDs, src.key, h.clk.Now())
	_, err = h.p.Rehost(h.ctx, RehostRequest{RehostTicket: unknown.Encode()})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeNotFound, "not known")
	// The good one, twice with different rehost tickets.
	good, _ := license.NewRehostTicket(pt, pt.LicenseIDs, src.key, h.clk.Now())
	res, err := h.p.Rehost(h.ctx, RehostRequest{RehostTicket: good.Encode(), Target: udiB})
	if err != nil || res.Ticket.MovedTo != udiB {
		t.Fatalf("rehost: %+v, %v", res, err)
	}
	if ls := h.parseFile(res.LicenseFile); len(ls) != 1 || ls[0].UDI != udiB {
		t.Fatalf("license file %+v", ls)
	}
	second, _ := license.NewRehostTicket(pt, pt.LicenseIDs, src.key, h.clk.Now())
	_, err = h.p.Rehost(h.ctx, RehostRequest{RehostTicket: second.Encode()})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeConflict, "already used")
}

func errMsg(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRetiredDeviceIsRefused(t *testing.T) {
	h := newHarness(t, Config{})
	dead := newDevice(t, udiA)
	h.mustCall(dead, protocol.PathRedeem, protocol.RedeemRequest{PAK: h.pak(1, "c3750e-ipservices")}, nil)
	if _, err := h.p.RMA(h.ctx, RMARequest{From: udiA, To: udiB}); err != nil {
		t.Fatal(err)
	}
	code, msg := h.call(dead, protocol.PathResend, protocol.ResendRequest{}, nil)
	wantCode(t, code, msg, protocol.CodeForbidden, "replaced by "+udiB)
	var res protocol.ResendResponse
	h.mustCall(newDevice(t, udiB), protocol.PathResend, protocol.ResendRequest{}, &res)
	if ls := h.parseFile(res.LicenseFiles[0]); len(ls) != 1 || ls[0].UDI != udiB {
		t.Fatalf("replacement got %+v", ls)
	}
}
