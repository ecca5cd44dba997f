package portal

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

func TestDefaultSKUs(t *testing.T) {
	want := map[string]string{
		"c3750e-ipservices": "", "c3750e-advipservices": "", "c2900-securityk9": "", "c2900-datak9": "",
		"c2900-uck9": "", "uc500-phones": "",
	}
	got := DefaultSKUs()
	if len(got) != len(want) {
		t.Fatalf("%d SKUs; want %d", len(got), len(want))
	}
	for _, s := range got {
		if _, ok := want[s.Name]; !ok {
			t.Errorf("unexpected SKU %s", s.Name)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if s.Name == "uc500-phones" && s.Count != 8 {
			t.Errorf("uc500-phones count %d", s.Count)
		}
	}
	h := newHarness(t, Config{})
	again, err := h.p.SeedSKUs(h.ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second seed added %v, %v", again, err)
	}
}

func TestSKUValidate(t *testing.T) {
	for _, tc := range []struct {
		sku  SKU
		want string
	}{
		{SKU{Name: "a", Features: []string{"f"}, Type: license.Permanent}, ""},
		{SKU{Name: "ext", Features: []string{"f"}, Type: license.Extension, Days: 120}, ""},
		{SKU{Name: "sub", Features: []string{"f", "g"}, Type: license.PaidSubscription, Days: 365, Count: 4}, ""},
		{SKU{Name: "", Features: []string{"f"}, Type: license.Permanent}, "SKU name"},
		{SKU{Name: "bad name", Features: []string{"f"}, Type: license.Permanent}, "SKU name"},
		{SKU{Name: "a", Type: license.Permanent}, "0 features"},
		{SKU{Name: "a", Features: []string{"F"}, Type: license.Permanent}, "lowercase"},
		{SKU{Name: "a", Features: []string{"f", "f"}, Type: license.Permanent}, "twice"},
		{SKU{Name: "a", Features: []string{"f"}, Type: "gold"}, "unknown type"},
		{SKU{Name: "a", Features: []string{"f"}, Type: license.Evaluation}, "built into the device"},
		{SKU{Name: "a", Features: []string{"f"}, Type: license.GracePeriod}, "permission tickets"},
		{SKU{Name: "a", Features: []string{"f"}, Type: license.Extension}, "needs days"},
		{SKU{Name: "a", Features: []string{"f"}, Type: license.Permanent, Days: 3}, "days apply only"},
		{SKU{Name: "a", Features: []string{"f"}, Type: license.Permanent, Count: -1}, "count -1"},
		{SKU{Name: "a", Features: []string{"f"}, Type: license.Permanent, Description: "two\nlines"}, "description"},
	} {
		err := tc.sku.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v; want %q", tc.sku, err, tc.want)
		}
	}
}

func TestAdminSKUsAndPAKs(t *testing.T) {
	h := newHarness(t, Config{})
	s := SKU{Name: "c2900-sec-trial", Features: []string{"securityk9"}, Type: license.Extension, Days: 120}
	if err := h.p.AddSKU(h.ctx, s); err != nil {
		t.Fatal(err)
	}
	err := h.p.AddSKU(h.ctx, s)
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeConflict, "already exists")
	skus, err := h.p.SKUs(h.ctx)
	if err != nil || len(skus) != 7 || !slices.IsSortedFunc(skus, func(a, b SKU) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("SKUs = %d, %v", len(skus), err)
	}
	for _, tc := range []struct {
		req  PAKRequest
		code string
		want string
	}{
		{PAKRequest{}, protocol.CodeBadRequest, "at least one SKU"},
		{PAKRequest{Lines: []PAKLineRequest{{SKU: "nope"}}}, protocol.CodeNotFound, "not in the catalog"},
		{PAKRequest{Lines: []PAKLineRequest{{SKU: "c2900-uck9"}, {SKU: "c2900-uck9"}}}, protocol.CodeBadRequest, "listed twice"},
		{PAKRequest{Lines: []PAKLineRequest{{SKU: "c2900-uck9", Qty: -2}}}, protocol.CodeBadRequest, "quantity"},
		{PAKRequest{Lines: []PAKLineRequest{{SKU: "c2900-uck9"}}, Count: MaxPAKsPerRequest + 1}, protocol.CodeBadRequest, "count"},
	} {
		_, err := h.p.CreatePAKs(h.ctx, tc.req)
		wantCode(t, CodeOf(err), errMsg(err), tc.code, tc.want)
	}
	codes, err := h.p.CreatePAKs(h.ctx, PAKRequest{Lines: []PAKLineRequest{{SKU: s.Name, Qty: 2}}, Count: 50, Order: "SO-1"})
	if err != nil || len(codes) != 50 {
		t.Fatalf("CreatePAKs = %d, %v", len(codes), err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if n, err := protocol.NormalizePAK(c); err != nil || n != c || seen[c] {
			t.Fatalf("PAK %q: %v (duplicate %v)", c, err, seen[c])
		}
		seen[c] = true
	}
	v, err := h.p.PAK(h.ctx, strings.ToLower(codes[0]))
	if err != nil || v.PAK.Order != "SO-1" || v.SKUs[0].Days != 120 || v.SKUs[0].Qty != 2 {
		t.Fatalf("PAK = %+v, %v", v, err)
	}
	_, err = h.p.PAK(h.ctx, mustPAK(t))
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeNotFound, "not known")
	_, err = h.p.PAK(h.ctx, "short")
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeBadRequest, "11 characters")
	// An extension SKU brings metered licenses.
	var r protocol.RedeemResponse
	h.mustCall(newTestDevice(t, "CISCO2911/K9:FTX1111A0AA"), protocol.PathRedeem, protocol.RedeemRequest{PAK: codes[1]}, &r)
	if ls := h.parseFile(r.LicenseFiles[0]); ls[0].Type != license.Extension || ls[0].Period != 120*24*time.Hour {
		t.Fatalf("extension SKU license %+v", ls[0])
	}
}

func newTestDevice(t *testing.T, udis ...string) *testDevice { return newDevice(t, udis...) }

func TestOfflineRedeem(t *testing.T) {
	h := newHarness(t, Config{})
	d := newDevice(t, udiB, udiA) // a stack; udiB is active
	pak := h.pak(1, "c3750e-ipservices")
	res, err := h.p.Redeem(h.ctx, OfflineRedeemRequest{Credential: d.credential(t, h.clk.Now()), PAK: pak})
	if err != nil {
		t.Fatal(err)
	}
	if ls := h.parseFile(res.LicenseFiles[0]); ls[0].UDI != udiB {
		t.Fatalf("offline redemption for %s", ls[0].UDI)
	}
	_, err = h.p.Redeem(h.ctx, OfflineRedeemRequest{Credential: d.credential(t, h.clk.Now()), PAK: pak, UDI: udiC})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeBadRequest, "not in the credential")
	_, err = h.p.Redeem(h.ctx, OfflineRedeemRequest{Credential: []byte("junk"), PAK: pak})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeBadRequest, "credential")
	// The credential bound the key: another key for the UDI is refused.
	_, err = h.p.Redeem(h.ctx, OfflineRedeemRequest{Credential: newDevice(t, udiA).credential(t, h.clk.Now()), PAK: h.pak(1, "c3750e-ipservices")})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeKeyMismatch, "bound to device key")
}

func TestExtension(t *testing.T) {
	h := newHarness(t, Config{})
	res, err := h.p.IssueExtension(h.ctx, ExtensionRequest{UDI: udiA, Feature: "ipservices"})
	if err != nil {
		t.Fatal(err)
	}
	ls := h.parseFile(res.LicenseFile)
	if ls[0].Type != license.Extension || ls[0].Period != DefaultExtensionDays*24*time.Hour || ls[0].UDI != udiA {
		t.Fatalf("extension %+v", ls[0])
	}
	for _, tc := range []struct {
		req  ExtensionRequest
		want string
	}{
		{ExtensionRequest{UDI: "x", Feature: "f"}, "PID:SN"},
		{ExtensionRequest{UDI: udiA, Feature: "Bad"}, "lowercase"},
		{ExtensionRequest{UDI: udiA, Feature: "f", Days: 1 << 20}, "days"},
	} {
		_, err := h.p.IssueExtension(h.ctx, tc.req)
		wantCode(t, CodeOf(err), errMsg(err), protocol.CodeBadRequest, tc.want)
	}
	// The device gets it by resend.
	var rr protocol.ResendResponse
	h.mustCall(newDevice(t, udiA), protocol.PathResend, protocol.ResendRequest{}, &rr)
	if len(rr.LicenseIDs) != 1 || rr.LicenseIDs[0] != ls[0].ID {
		t.Fatalf("resend %v", rr.LicenseIDs)
	}
}

func TestOfflineRehost(t *testing.T) {
	h := newHarness(t, Config{})
	d := newDevice(t, udiA)
	res, err := h.p.Redeem(h.ctx, OfflineRedeemRequest{Credential: d.credential(t, h.clk.Now()), PAK: h.pak(1, "c3750e-ipservices", "c3750e-advipservices")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.p.PermissionTicket(h.ctx, PermissionRequest{UDI: udiC})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeConflict, "does not know the device key")
	_, err = h.p.PermissionTicket(h.ctx, PermissionRequest{UDI: udiA, Licenses: []string{"0000000000000000"}})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeNotFound, "not an active license")
	pr, err := h.p.PermissionTicket(h.ctx, PermissionRequest{UDI: udiA, GraceDays: -1, ValidDays: 2})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := license.ParsePermissionTicket([]byte(pr.File))
	if err != nil || len(pt.Grace) != 0 || len(pt.LicenseIDs) != 2 || pt.Expires.Sub(pt.Issued) != 48*time.Hour {
		t.Fatalf("ticket %+v, %v", pt, err)
	}
	rt, _ := license.NewRehostTicket(pt, pt.LicenseIDs, d.key, h.clk.Now())
	_, err = h.p.Rehost(h.ctx, RehostRequest{RehostTicket: rt.Encode()})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeBadRequest, "names no target")
	rr, err := h.p.Rehost(h.ctx, RehostRequest{RehostTicket: rt.Encode(), Target: udiB})
	if err != nil {
		t.Fatal(err)
	}
	if ls := h.parseFile(rr.LicenseFile); len(ls) != 2 || ls[0].UDI != udiB {
		t.Fatalf("target file %+v", ls)
	}
	v, err := h.p.Device(h.ctx, udiA)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range v.Licenses {
		if l.State != StateRehosted || !slices.Contains(res.LicenseIDs, l.ID) || l.Raw != "" {
			t.Fatalf("source license %+v", l)
		}
	}
	if len(v.Tickets) != 1 || v.Tickets[0].State != TicketUsed {
		t.Fatalf("tickets %+v", v.Tickets)
	}
	// A device that never called home: its credential binds the key.
	cold := newDevice(t, udiC)
	if _, err := h.p.IssueExtension(h.ctx, ExtensionRequest{UDI: udiC, Feature: "ipservices"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.PermissionTicket(h.ctx, PermissionRequest{UDI: udiC, Credential: cold.credential(t, h.clk.Now())}); err != nil {
		t.Fatal(err)
	}
}

func TestRMA(t *testing.T) {
	h := newHarness(t, Config{})
	dead := newDevice(t, udiA)
	var r protocol.RedeemResponse
	h.mustCall(dead, protocol.PathRedeem, protocol.RedeemRequest{PAK: h.pak(1, "c3750e-ipservices")}, &r)
	var pr protocol.PermissionResponse
	h.mustCall(dead, protocol.PathPermission, protocol.PermissionRequest{Target: udiC}, &pr)
	for _, tc := range []struct {
		req  RMARequest
		code string
		want string
	}{
		{RMARequest{From: udiA, To: udiA}, protocol.CodeBadRequest, "dead device itself"},
		{RMARequest{From: udiA, To: "WS-C3750E-48PD-S:FDO1234X0ZZ"}, protocol.CodeBadRequest, "product ID"},
		{RMARequest{From: udiB, To: udiC}, protocol.CodeNotFound, "no licenses"},
		{RMARequest{From: "nope", To: udiC}, protocol.CodeBadRequest, "from"},
	} {
		_, err := h.p.RMA(h.ctx, tc.req)
		wantCode(t, CodeOf(err), errMsg(err), tc.code, tc.want)
	}
	res, err := h.p.RMA(h.ctx, RMARequest{From: udiA, To: udiB})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Moved, r.LicenseIDs) || len(res.Issued) != 1 || len(res.Revoked) != 1 || len(res.Cancelled) != 1 {
		t.Fatalf("RMA = %+v", res)
	}
	if ls := h.parseFile(res.LicenseFile); ls[0].UDI != udiB || ls[0].ID != res.Issued[0] {
		t.Fatalf("file %+v", ls)
	}
	_, err = h.p.RMA(h.ctx, RMARequest{From: udiA, To: udiC})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeConflict, "already replaced")
	_, err = h.p.RMA(h.ctx, RMARequest{From: udiB, To: udiA})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeConflict, "replaced by")
	_, err = h.p.IssueExtension(h.ctx, ExtensionRequest{UDI: udiA, Feature: "ipservices"})
	wantCode(t, CodeOf(err), errMsg(err), protocol.CodeConflict, "replaced by")
	v, _ := h.p.Device(h.ctx, udiA)
	if v.Device.RetiredTo != udiB {
		t.Fatalf("dead device %+v", v.Device)
	}
}

// TestEveryChangeIsAudited runs each kind of change and checks the log.
func TestEveryChangeIsAudited(t *testing.T) {
	h := newHarness(t, Config{})
	d := newDevice(t, udiA)
	h.p.AddSKU(h.ctx, SKU{Name: "x", Features: []string{"ipservices"}, Type: license.Permanent})
	pak := h.pak(1, "c3750e-ipservices")
	h.mustCall(d, protocol.PathRedeem, protocol.RedeemRequest{PAK: pak}, nil)
	h.p.IssueExtension(h.ctx, ExtensionRequest{UDI: udiA, Feature: "advipservices"})
	var pr protocol.PermissionResponse
	h.mustCall(d, protocol.PathPermission, protocol.PermissionRequest{Target: udiB}, &pr)
	pt, _ := license.ParsePermissionTicket([]byte(pr.Ticket))
	rt, _ := license.NewRehostTicket(pt, pt.LicenseIDs, d.key, h.clk.Now())
	h.mustCall(d, protocol.PathRehost, protocol.RehostRequest{RehostTicket: string(rt.Encode())}, nil)
	if _, err := h.p.RMA(h.ctx, RMARequest{From: udiB, To: udiC}); err != nil {
		t.Fatal(err)
	}
	h.p.ResetDeviceKey(h.ctx, udiA)
	es, err := h.p.Audit(h.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		if !slices.Contains(actions, e.Action) {
			actions = append(actions, e.Action)
		}
		if e.Actor == "" || e.Time.IsZero() {
			t.Errorf("entry without actor or time: %+v", e)
		}
	}
	want := []string{"sku-add", "pak-create", "device-key-bound", "redeem", "extension-issue", "permission-ticket", "rehost", "rma", "device-key-reset"}
	if !slices.Equal(actions, want) {
		t.Fatalf("actions %v; want %v", actions, want)
	}
	last, _ := h.p.Audit(h.ctx, 2)
	if len(last) != 2 || last[1].Action != "device-key-reset" || last[0].Seq+1 != last[1].Seq {
		t.Fatalf("last 2 = %+v", last)
	}
	v, _ := h.p.Device(h.ctx, udiB)
	var hist []string
	for _, e := range v.History {
		hist = append(hist, e.Action)
	}
	if !slices.Equal(hist, []string{"permission-ticket", "rehost", "rma"}) {
		t.Fatalf("history of %s: %v", udiB, hist)
	}
	if _, err := h.p.Device(h.ctx, "WS-C3750E-24TD-S:NOBODY"); CodeOf(err) != protocol.CodeNotFound {
		t.Fatalf("unknown device: %v", err)
	}
}

func TestAdminSocket(t *testing.T) {
	h := newHarness(t, Config{})
	path := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := ListenAdmin(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewAdminServer(h.p)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	if _, err := ListenAdmin(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second listener: %v", err)
	}
	c, err := DialAdmin(path, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	codes, err := c.CreatePAKs(ctx, PAKRequest{Lines: []PAKLineRequest{{SKU: "uc500-phones", Qty: 2}}})
	if err != nil || len(codes) != 1 {
		t.Fatalf("CreatePAKs over the socket: %v, %v", codes, err)
	}
	v, err := c.PAK(ctx, codes[0])
	if err != nil || v.SKUs[0].Count != 8 {
		t.Fatalf("PAK: %+v, %v", v, err)
	}
	_, err = c.PAK(ctx, mustPAK(t))
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != protocol.CodeNotFound {
		t.Fatalf("error over the socket: %#v", err)
	}
	skus, err := c.SKUs(ctx)
	if err != nil || len(skus) != 6 {
		t.Fatalf("SKUs: %d, %v", len(skus), err)
	}
	d := newDevice(t, udiP)
	rr, err := c.Redeem(ctx, OfflineRedeemRequest{Credential: d.credential(t, h.clk.Now()), PAK: codes[0], Qty: 2})
	if err != nil || len(rr.LicenseFiles) != 1 {
		t.Fatalf("Redeem: %+v, %v", rr, err)
	}
	if _, err := c.IssueExtension(ctx, ExtensionRequest{UDI: udiP, Feature: "phones", Count: 4}); err != nil {
		t.Fatal(err)
	}
	dv, err := c.Device(ctx, udiP)
	if err != nil || len(dv.Licenses) != 2 {
		t.Fatalf("Device: %+v, %v", dv, err)
	}
	es, err := c.Audit(ctx, 1)
	if err != nil || len(es) != 1 || !strings.HasPrefix(es[0].Actor, "admin uid:") || !strings.HasSuffix(es[0].Actor, "(alice)") {
		t.Fatalf("audit over the socket: %+v, %v", es, err)
	}
	if _, err := c.PermissionTicket(ctx, PermissionRequest{UDI: udiP}); err != nil {
		t.Fatal(err)
	}
	if err := c.ResetDeviceKey(ctx, udiP); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RMA(ctx, RMARequest{From: udiP, To: "UC520-8U-4FXO-K9:FTX1234A0ZZ"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddSKU(ctx, SKU{Name: "y", Features: []string{"phones"}, Type: license.Permanent, Count: 2}); err != nil {
		t.Fatal(err)
	}
	if added, err := c.SeedSKUs(ctx); err != nil || len(added) != 0 {
		t.Fatalf("SeedSKUs %v %v", added, err)
	}
	if st, err := c.Stats(ctx); err != nil || st.Store.Commits == 0 {
		t.Fatalf("Stats %+v %v", st, err)
	}
	_, err = c.Rehost(ctx, RehostRequest{RehostTicket: []byte("junk")})
	if CodeOf(err) != protocol.CodeBadRequest {
		t.Fatalf("bad rehost ticket: %v", err)
	}
	if _, err := DialAdmin(filepath.Join(t.TempDir(), "none.sock"), ""); err == nil {
		t.Fatal("dialled a socket nobody serves")
	}
}
