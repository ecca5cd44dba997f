package callhome

import (
	"errors"
	"testing"

	"github.com/licensed-dev/licensed/agent"
)

// FuzzDecodeResponse: whatever a portal (or something posing as one)
// answers, decoding never panics, a failure says whether to retry and
// carries a cause, and an accepted answer passed its checks.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, "application/json", "", []byte(`{"pak":"7K2M9X4PQ84","skus":[{"name":"c3750e-ipservices","features":["ipservices"],"type":"permanent","qty":3,"remaining":2}]}`))
	f.Add(200, "application/json; charset=utf-8", "", []byte(`{"pak":"7K2M9X4PQ84","udi":"A:B","redeemed":[],"licenseIds":["x"],"licenseFiles":["licensed-license-file v1\n"]}`))
	f.Add(200, "application/json", "", []byte(`{"ticket":"licensed-permission-ticket v1\n","ticketId":"x","licenses":[],"expires":"2026-11-01T00:00:00Z"}`))
	f.Add(409, "application/json", "", []byte(`{"error":{"code":"exhausted","message":"PAK 7K2M9X4PQ84 is fully redeemed"}}`))
	f.Add(429, "application/json", "17", []byte(`{"error":{"code":"rate-limited","message":"slow down"}}`))
	f.Add(502, "text/html", "", []byte(`<html>bad gateway</html>`))
	f.Add(200, "application/json", "", []byte(`[{"a":1}]`))
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte) {
		for _, out := range []any{&showPAKAnswer{}, &redeemAnswer{}, &resendAnswer{}, &permissionAnswer{}, &rehostAnswer{}, &statusAnswer{}} {
			err := decodeResponse(status, contentType, retryAfter, body, 1<<16, out)
			if err == nil {
				if status != 200 {
					t.Fatalf("accepted HTTP %d", status)
				}
				if c, ok := out.(interface{ check() error }); ok && c.check() != nil {
					t.Fatal("accepted an answer that fails its checks")
				}
				continue
			}
			var f *failure
			if !errors.As(err, &f) || f.msg == "" || f.cause == "" {
				t.Fatalf("failure of no documented kind: %#v", err)
			}
			if f.transient && f.cause != agent.CausePortalUnreachable {
				t.Fatalf("transient failure with cause %s", f.cause)
			}
			if f.retryAfter < 0 || f.retryAfter > 86400e9 {
				t.Fatalf("retry after %s", f.retryAfter)
			}
			for _, r := range f.msg {
				if r < ' ' && r != '\t' {
					t.Fatalf("control character in message %q", f.msg)
				}
			}
		}
	})
}
