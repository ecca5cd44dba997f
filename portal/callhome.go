package portal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

// Server limits of the call-home listener.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 32 << 10
	// maxCredentialHeader bounds the base64 credential before decoding.
	maxCredentialHeader = 16 << 10
)

// NewHTTPServer returns an HTTPS server for h with the portal's limits:
// TLS 1.2 or later only (TLS 1.2 with forward-secret AEAD suites only),
// and timeouts on reading, writing and idle connections. Serve it with
// ServeTLS(ln, "", "").
func NewHTTPServer(h http.Handler, cert tls.Certificate, logf func(string, ...any)) *http.Server {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &http.Server{
		Handler: h,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{cert},
			CipherSuites: []uint16{
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
				tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
				tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
				tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
				tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
				tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			},
		},
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(logWriter(logf), "", 0),
	}
}

// logWriter adapts Logf for http.Server.ErrorLog.
type logWriter func(string, ...any)

func (f logWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// signedRequest is a call-home request whose signature checked out.
type signedRequest struct {
	path  string
	cred  *license.Credential
	udi   string // acting UDI
	keyID string
	nonce string
	idem  string
	body  []byte
}

// authenticate checks the credential, time, nonce, idempotency key and
// signature of a request. It does not look at the store: whether the key
// is the one bound to the UDI is decided in the transaction.
func authenticate(method, path string, h http.Header, body []byte, now time.Time) (*signedRequest, error) {
	credB64 := h.Get(protocol.HeaderCredential)
	if credB64 == "" {
		return nil, errorf(protocol.CodeUnauthenticated, "the request carries no device credential (%s header)", protocol.HeaderCredential)
	}
	if len(credB64) > maxCredentialHeader {
		return nil, errorf(protocol.CodeBadRequest, "the %s header is %d bytes; at most %d", protocol.HeaderCredential, len(credB64), maxCredentialHeader)
	}
	raw, err := base64.StdEncoding.DecodeString(credB64)
	if err != nil {
		return nil, errorf(protocol.CodeUnauthenticated, "%s header: not base64: %v", protocol.HeaderCredential, err)
	}
	cred, err := license.ParseCredential(raw)
	if err != nil {
		return nil, errorf(protocol.CodeUnauthenticated, "device credential: %v", err)
	}
	s := &signedRequest{path: path, cred: cred, keyID: license.KeyID(cred.PublicKey), body: body}
	s.udi = h.Get(protocol.HeaderUDI)
	if s.udi == "" {
		s.udi = cred.UDIs[0]
	} else if !slices.Contains(cred.UDIs, s.udi) {
		return nil, errorf(protocol.CodeUnauthenticated, "UDI %q is not one of the credential's (%s)", truncate(s.udi), strings.Join(cred.UDIs, ", "))
	}
	ts := h.Get(protocol.HeaderTime)
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, errorf(protocol.CodeBadRequest, "%s header %q: want Unix seconds", protocol.HeaderTime, truncate(ts))
	}
	if skew := now.Unix() - unix; skew > int64(protocol.MaxSkew/time.Second) || -skew > int64(protocol.MaxSkew/time.Second) {
		return nil, errorf(protocol.CodeStale, "the request was signed at %s, %s away from the portal's clock (%s); requests older or newer than %s are refused: check the device's clock",
			dateTime(time.Unix(clampUnix(unix), 0)), time.Duration(min(max(skew, -1<<32), 1<<32))*time.Second, dateTime(now), protocol.MaxSkew)
	}
	s.nonce = h.Get(protocol.HeaderNonce)
	if !protocol.ValidToken(s.nonce) {
		return nil, errorf(protocol.CodeBadRequest, "%s header %q: want 16 to 64 letters, digits, '-' or '_'", protocol.HeaderNonce, truncate(s.nonce))
	}
	s.idem = h.Get(protocol.HeaderIdempotency)
	switch {
	case s.idem == "" && protocol.Mutating(path):
		return nil, errorf(protocol.CodeBadRequest, "%s changes state at the portal and needs an %s header", path, protocol.HeaderIdempotency)
	case s.idem != "" && !protocol.ValidToken(s.idem):
		return nil, errorf(protocol.CodeBadRequest, "%s header %q: want 16 to 64 letters, digits, '-' or '_'", protocol.HeaderIdempotency, truncate(s.idem))
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get(protocol.HeaderSignature))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, errorf(protocol.CodeUnauthenticated, "%s header: want the base64 of a %d-byte Ed25519 signature", protocol.HeaderSignature, ed25519.SignatureSize)
	}
	msg := protocol.SigningMessage(method, path, s.udi, unix, s.nonce, s.idem, body)
	if !ed25519.Verify(cred.PublicKey, msg, sig) {
		return nil, errorf(protocol.CodeUnauthenticated, "the request signature does not verify with device key %s of the credential", s.keyID)
	}
	return s, nil
}

func clampUnix(u int64) int64 { return min(max(u, 0), 253402300799) }

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// decodeBody parses and checks the body of a request to path.
func decodeBody(path string, body []byte) (any, error) {
	bad := func(err error) error { return errorf(protocol.CodeBadRequest, "request body: %v", err) }
	switch path {
	case protocol.PathShowPAK:
		var r protocol.ShowPAKRequest
		if err := protocol.Decode(body, &r, true); err != nil {
			return nil, bad(err)
		}
		pak, err := protocol.NormalizePAK(r.PAK)
		if err != nil {
			return nil, bad(err)
		}
		r.PAK = pak
		return r, nil
	case protocol.PathRedeem:
		var r protocol.RedeemRequest
		if err := protocol.Decode(body, &r, true); err != nil {
			return nil, bad(err)
		}
		return checkRedeem(r)
	case protocol.PathResend:
		var r protocol.ResendRequest
		if err := protocol.Decode(body, &r, true); err != nil {
			return nil, bad(err)
		}
		return r, nil
	case protocol.PathStatus:
		var r protocol.StatusRequest
		if err := protocol.Decode(body, &r, true); err != nil {
			return nil, bad(err)
		}
		return r, nil
	case protocol.PathPermission:
		var r protocol.PermissionRequest
		if err := protocol.Decode(body, &r, true); err != nil {
			return nil, bad(err)
		}
		if err := license.ValidateUDI(r.Target); err != nil {
			return nil, errorf(protocol.CodeBadRequest, "target: %v", err)
		}
		if len(r.Licenses) > license.MaxTicketIDs {
			return nil, errorf(protocol.CodeBadRequest, "%d licenses; at most %d", len(r.Licenses), license.MaxTicketIDs)
		}
		for i, id := range r.Licenses {
			if !validToken(id, maxTokenLen) || slices.Contains(r.Licenses[:i], id) {
				return nil, errorf(protocol.CodeBadRequest, "license %q is not a valid identifier or is named twice", truncate(id))
			}
		}
		return r, nil
	case protocol.PathRehost:
		var r protocol.RehostRequest
		if err := protocol.Decode(body, &r, true); err != nil {
			return nil, bad(err)
		}
		if r.Target != "" {
			if err := license.ValidateUDI(r.Target); err != nil {
				return nil, errorf(protocol.CodeBadRequest, "target: %v", err)
			}
		}
		rt, err := license.ParseRehostTicket([]byte(r.RehostTicket))
		if err != nil {
			return nil, errorf(protocol.CodeBadRequest, "rehost ticket: %v", err)
		}
		return rehostBody{r, rt}, nil
	}
	return nil, errorf(protocol.CodeNotFound, "no call-home operation at %s", truncate(path))
}

type rehostBody struct {
	req protocol.RehostRequest
	rt  *license.RehostTicket
}

// knownPath reports whether path is a call-home operation.
func knownPath(path string) bool {
	switch path {
	case protocol.PathShowPAK, protocol.PathRedeem, protocol.PathResend, protocol.PathStatus, protocol.PathPermission, protocol.PathRehost:
		return true
	}
	return false
}

// Handler serves the call-home API (docs/CALLHOME.md).
func (p *Portal) Handler() http.Handler { return http.HandlerFunc(p.serveCallHome) }

// answer is what a request produced: a JSON body, or an error.
type answer struct {
	body     []byte
	replayed bool
	retry    time.Duration // for 429 and 503
}

func (p *Portal) serveCallHome(w http.ResponseWriter, r *http.Request) {
	select {
	case p.inflight <- struct{}{}:
		defer func() { <-p.inflight }()
	default:
		p.writeError(w, errorf(protocol.CodeBusy, "the portal is serving %d requests; retry shortly", cap(p.inflight)), time.Second)
		return
	}
	a, err := p.handle(r.Context(), w, r)
	if err != nil {
		p.writeError(w, err, a.retry)
		return
	}
	p.requests.Add(1)
	w.Header().Set("Content-Type", protocol.ContentType)
	if a.replayed {
		w.Header().Set(protocol.HeaderReplayed, "true")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	w.Write(a.body)
}

func (p *Portal) writeError(w http.ResponseWriter, err error, retry time.Duration) {
	p.requests.Add(1)
	p.refused.Add(1)
	code := CodeOf(err)
	msg := err.Error()
	if code == protocol.CodeInternal {
		p.cfg.Logf("call-home: %v", err)
		msg = "the portal failed to process the request; the failure is in its log"
	}
	status := HTTPStatus(code)
	if code == protocol.CodeMethod {
		w.Header().Set("Allow", http.MethodPost)
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	}
	body, _ := json.Marshal(protocol.ErrorBody{Error: protocol.ErrorDetail{Code: code, Message: msg}})
	w.Header().Set("Content-Type", protocol.ContentType)
	w.WriteHeader(status)
	w.Write(body)
}

// handle checks and runs one request.
func (p *Portal) handle(ctx context.Context, w http.ResponseWriter, r *http.Request) (answer, error) {
	path := r.URL.Path
	if !knownPath(path) {
		return answer{}, errorf(protocol.CodeNotFound, "no call-home operation at %s", truncate(path))
	}
	if r.Method != http.MethodPost {
		return answer{}, errorf(protocol.CodeMethod, "%s takes POST, not %s", path, r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != protocol.ContentType {
		return answer{}, errorf(protocol.CodeMediaType, "the body must be %s", protocol.ContentType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, protocol.MaxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return answer{}, errorf(protocol.CodeTooLarge, "the request body is over %d bytes", protocol.MaxRequestBody)
		}
		return answer{}, errorf(protocol.CodeBadRequest, "reading the request body: %v", err)
	}
	now := p.cfg.Now()
	s, err := authenticate(r.Method, path, r.Header, body, now)
	if err != nil {
		return answer{}, err
	}
	if replayed, full := p.replay.seen(s.keyID+"/"+s.nonce, now); full {
		return answer{retry: time.Second}, errorf(protocol.CodeBusy, "the portal is tracking too many requests; retry shortly")
	} else if replayed {
		return answer{}, errorf(protocol.CodeReplay, "request nonce %s was already used: a request is signed once and never sent again (a retry signs anew)", s.nonce)
	}
	if ok, retry, full := p.devLimit.allow(s.keyID, now); !ok {
		if full {
			return answer{retry: retry}, errorf(protocol.CodeBusy, "the portal is tracking too many devices; retry shortly")
		}
		return answer{retry: retry}, errorf(protocol.CodeRateLimited, "device key %s sends requests too fast (at most %g per second, bursts of %d); retry in %s", s.keyID, p.cfg.DeviceRate, p.cfg.DeviceBurst, retry.Round(time.Second))
	}
	req, err := decodeBody(path, body)
	if err != nil {
		return answer{}, err
	}
	pak := ""
	switch v := req.(type) {
	case protocol.ShowPAKRequest:
		pak = v.PAK
	case protocol.RedeemRequest:
		pak = v.PAK
	}
	if pak != "" {
		if ok, retry, full := p.pakLimit.allow(pak, now); !ok {
			if full {
				return answer{retry: retry}, errorf(protocol.CodeBusy, "the portal is tracking too many PAKs; retry shortly")
			}
			return answer{retry: retry}, errorf(protocol.CodeRateLimited, "PAK %s is asked for too fast (at most %g requests per second, bursts of %d); retry in %s", pak, p.cfg.PAKRate, p.cfg.PAKBurst, retry.Round(time.Second))
		}
	}
	if protocol.Mutating(path) {
		return p.mutate(ctx, s, req)
	}
	return p.read(ctx, s, req)
}

// read runs a request that changes nothing but, at first contact, the key
// binding: a read-only transaction first, a write only when needed.
func (p *Portal) read(ctx context.Context, s *signedRequest, req any) (answer, error) {
	var out any
	run := func(tx Tx, write bool) error {
		now := p.now()
		if err := p.bindCredential(tx, now, s.cred, s.udi, write); err != nil {
			return err
		}
		var err error
		switch v := req.(type) {
		case protocol.ShowPAKRequest:
			out, err = showPAK(tx, v.PAK)
		case protocol.ResendRequest:
			var udis []string
			if udis, err = p.deviceUDIs(tx, s); err == nil {
				out, err = resend(tx, udis)
			}
		case protocol.StatusRequest:
			out, err = p.status(tx, s)
		default:
			err = fmt.Errorf("no reader for %T", req)
		}
		return err
	}
	err := p.store.View(ctx, func(tx Tx) error { return run(tx, false) })
	if errors.Is(err, errNeedWrite) {
		err = p.store.Update(ctx, func(tx Tx) error { return run(tx, true) })
	}
	if err != nil {
		return answer{}, err
	}
	body, err := json.Marshal(out)
	return answer{body: body}, err
}

// deviceUDIs are the credential's UDIs that are bound to its key and not
// retired: the UDIs whose licenses the device may fetch.
func (p *Portal) deviceUDIs(tx Tx, s *signedRequest) ([]string, error) {
	var out []string
	for _, u := range s.cred.UDIs {
		d, ok, err := device(tx, u)
		if err != nil {
			return nil, err
		}
		if ok && bytes.Equal(d.PublicKey, s.cred.PublicKey) && d.RetiredTo == "" {
			out = append(out, u)
		}
	}
	return out, nil
}

// status describes the device's UDIs.
func (p *Portal) status(tx Tx, s *signedRequest) (*protocol.StatusResponse, error) {
	udis, err := p.deviceUDIs(tx, s)
	if err != nil {
		return nil, err
	}
	out := &protocol.StatusResponse{KeyID: s.keyID}
	now := p.now()
	for _, u := range udis {
		d, _, err := device(tx, u)
		if err != nil {
			return nil, err
		}
		st := protocol.UDIStatus{UDI: u, FirstSeen: d.FirstSeen}
		recs, err := licensesOf(tx, u)
		if err != nil {
			return nil, err
		}
		tickets := map[string]bool{}
		for _, r := range recs {
			st.Licenses = append(st.Licenses, protocol.LicenseStatus{ID: r.ID, Feature: r.Feature, Type: string(r.Type), State: r.State, PAK: r.PAK})
			if r.State != StateActive {
				continue
			}
			if t, err := openTicket(tx, now, r); err != nil {
				return nil, err
			} else if t != nil && !tickets[t.ID] {
				tickets[t.ID] = true
				st.Tickets = append(st.Tickets, t.ID)
			}
		}
		out.UDIs = append(out.UDIs, st)
	}
	return out, nil
}

// mutate runs a request that changes state, once per idempotency key: a
// retry of a request that succeeded gets the stored answer.
func (p *Portal) mutate(ctx context.Context, s *signedRequest, req any) (answer, error) {
	sum := sha256.Sum256(append([]byte(s.path+"\n"), s.body...))
	hash := hex.EncodeToString(sum[:])
	key := s.keyID + "/" + s.idem
	actor := "device " + s.udi
	var a answer
	err := p.store.Update(ctx, func(tx Tx) error {
		a = answer{}
		var rec idemRecord
		if ok, err := found(getJSON(tx, TableIdempotency, key, &rec)); err != nil {
			return err
		} else if ok {
			if rec.BodyHash != hash {
				return errorf(protocol.CodeIdempotency, "idempotency key %s was used for another request (%s); use a new key for a new operation", s.idem, rec.Path)
			}
			a = answer{body: rec.Body, replayed: true}
			return nil
		}
		now := p.now()
		if err := p.bindCredential(tx, now, s.cred, s.udi, true); err != nil {
			return err
		}
		var out any
		switch v := req.(type) {
		case protocol.RedeemRequest:
			r, err := p.redeem(tx, now, actor, s.udi, v)
			if err != nil {
				return err
			}
			out = r
		case protocol.PermissionRequest:
			t, err := p.permission(tx, now, actor, permissionArgs{UDI: s.udi, Target: v.Target, Licenses: v.Licenses,
				Grace: max(p.cfg.GracePeriod, 0), Validity: p.cfg.TicketValidity})
			if err != nil {
				return err
			}
			out = protocol.PermissionResponse{Ticket: t.Raw, TicketID: t.ID, Licenses: t.Licenses, Expires: t.Expires}
		case rehostBody:
			t, _, err := p.rehost(tx, now, actor, v.rt, v.req.Target, s.cred.PublicKey)
			if err != nil {
				return err
			}
			out = protocol.RehostResponse{Source: t.UDI, Target: t.MovedTo, Revoked: t.Licenses, Issued: t.NewLicenses}
		default:
			return fmt.Errorf("no writer for %T", req)
		}
		body, err := json.Marshal(out)
		if err != nil {
			return err
		}
		a.body = body
		return putJSON(tx, TableIdempotency, key, &idemRecord{Path: s.path, BodyHash: hash, Body: body, Time: now})
	})
	return a, err
}
