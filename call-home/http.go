package callhome

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

// failure is why a request to the portal did not succeed. transient
// failures (the portal unreachable, slow, overloaded or answering
// nonsense) leave a pending operation to retry; others end it.
type failure struct {
	transient  bool
	cause      agent.Cause
	code       string // the portal's error code, when it answered one
	msg        string
	retryAfter time.Duration
	answered   bool // the portal answered (for "last contact")
}

func (f *failure) Error() string { return f.msg }

// asFailure returns err as a *failure; other errors are permanent general
// failures.
func asFailure(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	var ae *agent.Error
	if errors.As(err, &ae) {
		return &failure{cause: ae.Cause, msg: ae.Message}
	}
	return &failure{cause: agent.CauseGeneralFailure, msg: err.Error()}
}

// newHTTPClient builds the client the portal is reached with: TLS 1.2 or
// later with certificates checked against roots (the system's when nil),
// no redirects, no proxy, and bounded dial, handshake and answer times.
func newHTTPClient(roots *x509.CertPool, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:            (&net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    min(timeout, 10*time.Second),
		ResponseHeaderTimeout:  timeout,
		MaxIdleConns:           2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect could lead anywhere, plain HTTP included.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post signs and sends one request and decodes the answer into out.
func (c *Client) post(ctx context.Context, dev agent.Device, base, path string, in, out any, idem string) error {
	if base == "" {
		return &failure{cause: agent.CauseUnavailable, msg: "no call-home URL is set: configure one with 'license call-home url URL' (or licensed --portal)"}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	cred, err := dev.Credential(ctx)
	if err != nil {
		return fmt.Errorf("device credential: %w", err)
	}
	udis := dev.UDIs()
	if len(udis) == 0 {
		return errors.New("the device has no UDI")
	}
	nonce, err := c.token()
	if err != nil {
		return err
	}
	now := c.cfg.Clock.Now().Unix()
	sig := dev.SignDevice(protocol.SigningMessage(http.MethodPost, path, udis[0], now, nonce, idem, body))

	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return &failure{cause: agent.CauseInvalidArgument, msg: fmt.Sprintf("call-home URL %s: %v", base, err)}
	}
	h := req.Header
	h.Set("Content-Type", protocol.ContentType)
	h.Set("Accept", protocol.ContentType)
	h.Set("User-Agent", "licensed/"+agent.Version)
	h.Set(protocol.HeaderCredential, base64.StdEncoding.EncodeToString(cred))
	h.Set(protocol.HeaderUDI, udis[0])
	h.Set(protocol.HeaderTime, strconv.FormatInt(now, 10))
	h.Set(protocol.HeaderNonce, nonce)
	h.Set(protocol.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	if idem != "" {
		h.Set(protocol.HeaderIdempotency, idem)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportFailure(ctx, base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		f := c.transportFailure(ctx, base, err)
		f.answered = true
		return f
	}
	if err := decodeResponse(resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), data, c.cfg.MaxResponseBytes, out); err != nil {
		f := asFailure(err)
		f.answered = true
		f.msg = fmt.Sprintf("the licensing portal at %s %s", base, f.msg)
		return f
	}
	return nil
}

// transportFailure explains why no answer came.
func (c *Client) transportFailure(ctx context.Context, base string, err error) *failure {
	f := &failure{transient: true, cause: agent.CausePortalUnreachable}
	var (
		uae   x509.UnknownAuthorityError
		hne   x509.HostnameError
		cie   x509.CertificateInvalidError
		tve   *tls.CertificateVerificationError
		rhe   tls.RecordHeaderError
		nerr  net.Error
		opErr *net.OpError
	)
	switch {
	case errors.As(err, &uae), errors.As(err, &tve) && errors.As(tve.Err, &uae):
		f.msg = fmt.Sprintf("the licensing portal at %s presented a certificate this device does not trust (%v); check the portal CA (licensed --portal-ca)", base, uae)
	case errors.As(err, &hne):
		f.msg = fmt.Sprintf("the licensing portal at %s presented a certificate for another name (%v)", base, hne)
	case errors.As(err, &cie):
		f.msg = fmt.Sprintf("the licensing portal at %s presented an invalid certificate (%v)", base, cie)
	case errors.As(err, &tve):
		f.msg = fmt.Sprintf("the licensing portal at %s presented a certificate that does not verify (%v)", base, tve.Err)
	case errors.As(err, &rhe), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		f.msg = fmt.Sprintf("%s does not speak TLS (is the URL right, https and the port of licportal serve?)", base)
	case ctx.Err() == context.DeadlineExceeded || errors.As(err, &nerr) && nerr.Timeout():
		f.msg = fmt.Sprintf("the licensing portal at %s did not answer within %s", base, c.cfg.Timeout)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		f.msg = fmt.Sprintf("cannot reach the licensing portal at %s: %v", base, opErr.Err)
	default:
		f.msg = fmt.Sprintf("cannot reach the licensing portal at %s: %v", base, unwrapURL(err))
	}
	return f
}

// unwrapURL drops the "Post \"https://…\":" prefix url.Error adds, as the
// message names the portal already.
func unwrapURL(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || !strings.HasPrefix(err.Error(), "Post ") {
			return err
		}
		err = u.Unwrap()
	}
}

// decodeResponse reads an answer: a 200 with a JSON body into out, or an
// error body into a *failure. Anything else (a body over max, another
// media type, JSON that is not a call-home answer) is a transient
// failure: the portal, or something in front of it, is not well.
func decodeResponse(status int, contentType, retryAfter string, body []byte, max int64, out any) error {
	if int64(len(body)) > max {
		return &failure{transient: true, cause: agent.CausePortalUnreachable,
			msg: fmt.Sprintf("answered more than %d bytes; the answer was refused", max)}
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if status == http.StatusOK {
		if mt != protocol.ContentType {
			return garbage(status, fmt.Sprintf("a %q body instead of JSON", truncate(contentType, 60)))
		}
		if err := protocol.Decode(body, out, false); err != nil {
			return garbage(status, err.Error())
		}
		if v, ok := out.(interface{ check() error }); ok {
			if err := v.check(); err != nil {
				return garbage(status, err.Error())
			}
		}
		return nil
	}
	var eb protocol.ErrorBody
	if mt != protocol.ContentType || protocol.Decode(body, &eb, false) != nil || eb.Error.Code == "" {
		f := garbage(status, "a body that is not a call-home error")
		if status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout {
			f.transient = false
			f.cause = agent.CausePortalRefused
		}
		return f
	}
	code := printable(eb.Error.Code, 40)
	f := &failure{code: code, cause: agent.CausePortalRefused,
		msg: fmt.Sprintf("refused the request: %s (%s)", printable(eb.Error.Message, 600), code)}
	switch {
	case status == http.StatusTooManyRequests || status >= 500 || code == protocol.CodeStale || code == protocol.CodeReplay:
		// Overload, failures and a clock out of step pass; retry later.
		f.transient, f.cause = true, agent.CausePortalUnreachable
		f.msg = fmt.Sprintf("could not serve the request: %s (%s)", printable(eb.Error.Message, 600), code)
	}
	if s, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && s > 0 {
		f.retryAfter = time.Duration(min(s, 86400)) * time.Second
	}
	return f
}

func garbage(status int, what string) *failure {
	return &failure{transient: true, cause: agent.CausePortalUnreachable,
		msg: fmt.Sprintf("answered HTTP %d with %s; it does not look like a licensing portal", status, what)}
}

// printable makes text from the portal safe for a terminal: no control
// characters (escape sequences), at most max bytes.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	return truncate(s, max)
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// token is a fresh random nonce or idempotency key.
func (c *Client) token() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(c.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Answers, as checked after decoding: what the client relies on must be
// there, and nothing may exceed what the protocol allows.

type showPAKAnswer struct{ protocol.ShowPAKResponse }

func (a *showPAKAnswer) check() error {
	if len(a.SKUs) > protocol.MaxSKUsPerRequest {
		return fmt.Errorf("%d SKUs in one PAK; at most %d", len(a.SKUs), protocol.MaxSKUsPerRequest)
	}
	for _, s := range a.SKUs {
		if s.Name == "" || len(s.Features) > 64 || s.Remaining < 0 || s.Qty < 0 {
			return fmt.Errorf("a SKU entry is malformed")
		}
	}
	return nil
}

type redeemAnswer struct{ protocol.RedeemResponse }

func (a *redeemAnswer) check() error {
	if err := checkFiles(a.LicenseFiles); err != nil {
		return err
	}
	if len(a.LicenseFiles) == 0 {
		return errors.New("a redemption answer without a license file")
	}
	return nil
}

type resendAnswer struct{ protocol.ResendResponse }

func (a *resendAnswer) check() error { return checkFiles(a.LicenseFiles) }

type permissionAnswer struct{ protocol.PermissionResponse }

func (a *permissionAnswer) check() error {
	if a.Ticket == "" || len(a.Ticket) > license.MaxFileSize {
		return fmt.Errorf("a permission ticket of %d bytes", len(a.Ticket))
	}
	return nil
}

type rehostAnswer struct{ protocol.RehostResponse }

func (a *rehostAnswer) check() error {
	if len(a.Issued) > license.MaxTicketIDs || len(a.Revoked) > license.MaxTicketIDs {
		return errors.New("more licenses than a ticket can name")
	}
	return nil
}

type statusAnswer struct{ protocol.StatusResponse }

func (a *statusAnswer) check() error { return nil }

func checkFiles(files []string) error {
	if len(files) > protocol.MaxLicenseFiles {
		return fmt.Errorf("%d license files; at most %d", len(files), protocol.MaxLicenseFiles)
	}
	for i, f := range files {
		if len(f) > license.MaxFileSize {
			return fmt.Errorf("license file %d is %d bytes; at most %d", i+1, len(f), license.MaxFileSize)
		}
	}
	return nil
}
