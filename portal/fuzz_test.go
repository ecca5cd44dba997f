package portal

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

var knownCodes = map[string]bool{
	protocol.CodeBadRequest: true, protocol.CodeUnauthenticated: true, protocol.CodeKeyMismatch: true,
	protocol.CodeForbidden: true, protocol.CodeStale: true, protocol.CodeReplay: true, protocol.CodeNotFound: true,
	protocol.CodeExhausted: true, protocol.CodeConflict: true, protocol.CodeIdempotency: true, protocol.CodeTooLarge: true,
	protocol.CodeRateLimited: true, protocol.CodeBusy: true, protocol.CodeMethod: true, protocol.CodeMediaType: true,
}

// fuzzNow is the portal's clock in FuzzDecodeRequest.
var fuzzNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// fuzzSeed is a correctly signed request for path.
func fuzzSeed(path string, body []byte) (cred, udi, ts, nonce, idem, sig string) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	udi = "WS-C3750E-24TD-S:FDO1234X0AB"
	c, _ := license.NewCredential([]string{udi, "WS-C3750E-24TD-S:FDO1234X0CD"}, "sw1", key, fuzzNow)
	cred = base64.StdEncoding.EncodeToString(c.Encode())
	ts = strconv.FormatInt(fuzzNow.Unix(), 10)
	nonce = "00112233445566778899aabbccddeeff"
	if protocol.Mutating(path) {
		idem = "ffeeddccbbaa99887766554433221100"
	}
	sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, protocol.SigningMessage(http.MethodPost, path, udi, fuzzNow.Unix(), nonce, idem, body)))
	return
}

// FuzzDecodeRequest: the checks of a call-home request's headers and body
// never panic, refuse with a documented code, and what they accept is
// valid.
func FuzzDecodeRequest(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	pt := &license.PermissionTicket{ID: "0123456789abcdef", UDI: "WS-C3750E-24TD-S:FDO1234X0AB", LicenseIDs: []string{"aaaaaaaaaaaaaaaa"},
		Issued: fuzzNow, Expires: fuzzNow.Add(time.Hour)}
	rt, err := license.NewRehostTicket(pt, pt.LicenseIDs, key, fuzzNow)
	if err != nil {
		f.Fatal(err)
	}
	rehost, _ := json.Marshal(protocol.RehostRequest{RehostTicket: string(rt.Encode()), Target: "WS-C3750E-24TD-S:FDO1234X0EF"})
	for _, s := range []struct {
		path string
		body string
	}{
		{protocol.PathShowPAK, `{"pak":"7K2M9X4PQ84"}`},
		{protocol.PathRedeem, `{"pak":"7k2m9x4pq84","skus":["c3750e-ipservices"],"qty":2}`},
		{protocol.PathResend, `{}`},
		{protocol.PathStatus, `{}`},
		{protocol.PathPermission, `{"target":"WS-C3750E-24TD-S:FDO1234X0EF","licenses":["aaaaaaaaaaaaaaaa"]}`},
		{protocol.PathRehost, string(rehost)},
		{"/v1/nothing", `{}`},
	} {
		cred, udi, ts, nonce, idem, sig := fuzzSeed(s.path, []byte(s.body))
		f.Add(s.path, cred, udi, ts, nonce, idem, sig, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, path, cred, udi, ts, nonce, idem, sig string, body []byte) {
		h := http.Header{}
		for k, v := range map[string]string{protocol.HeaderCredential: cred, protocol.HeaderUDI: udi, protocol.HeaderTime: ts,
			protocol.HeaderNonce: nonce, protocol.HeaderIdempotency: idem, protocol.HeaderSignature: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		s, err := authenticate(http.MethodPost, path, h, body, fuzzNow)
		if err != nil {
			checkRefusal(t, err)
		} else if s.cred.Verify() != nil || s.keyID != license.KeyID(s.cred.PublicKey) {
			t.Fatalf("accepted a request with a bad credential")
		}
		v, err := decodeBody(path, body)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		switch r := v.(type) {
		case protocol.ShowPAKRequest:
			if _, err := protocol.NormalizePAK(r.PAK); err != nil {
				t.Fatalf("accepted PAK %q", r.PAK)
			}
		case protocol.RedeemRequest:
			if _, err := protocol.NormalizePAK(r.PAK); err != nil || r.Qty < 0 || r.Qty > protocol.MaxQty || len(r.SKUs) > protocol.MaxSKUsPerRequest {
				t.Fatalf("accepted %+v", r)
			}
		case protocol.PermissionRequest:
			if license.ValidateUDI(r.Target) != nil || len(r.Licenses) > license.MaxTicketIDs {
				t.Fatalf("accepted %+v", r)
			}
		case rehostBody:
			if r.rt.Verify() != nil {
				t.Fatal("accepted a rehost ticket whose signature does not verify")
			}
		case protocol.ResendRequest, protocol.StatusRequest:
		default:
			t.Fatalf("decoded %T", v)
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !knownCodes[e.Code] || e.Message == "" {
		t.Fatalf("refusal of no documented kind: %#v", err)
	}
}
