// Package protocol is the call-home wire format shared by the device's
// client (package callhome) and the licensing portal (package portal):
// paths, headers, the signed request line, request and response bodies,
// error codes and the PAK format. docs/CALLHOME.md describes it for people.
//
// Every request is an HTTPS POST of a JSON object. The device signs, with
// its Ed25519 device key, the message SigningMessage builds from the
// method, path, acting UDI, time, a random nonce, the idempotency key and
// the SHA-256 of the body, and sends its credential with each request.
package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Paths of the call-home API.
const (
	PathShowPAK    = "/v1/pak/show"          // what a PAK holds; changes nothing
	PathRedeem     = "/v1/pak/redeem"        // redeem a PAK onto the acting UDI
	PathResend     = "/v1/resend"            // every license the device's UDIs hold
	PathPermission = "/v1/rehost/permission" // a permission ticket to move licenses off the acting UDI
	PathRehost     = "/v1/rehost/complete"   // the rehost ticket back; licenses go to the target
	PathStatus     = "/v1/status"            // what the portal knows of the device
)

// Mutating reports whether requests to path change state at the portal and
// so must carry an idempotency key.
func Mutating(path string) bool {
	return path == PathRedeem || path == PathPermission || path == PathRehost
}

// Request headers.
const (
	HeaderCredential  = "Licensed-Credential" // base64 (standard, padded) of the device credential document
	HeaderUDI         = "Licensed-Udi"        // the acting UDI, one of the credential's
	HeaderTime        = "Licensed-Time"       // Unix seconds when the request was signed
	HeaderNonce       = "Licensed-Nonce"      // random, new for every request (retries too)
	HeaderSignature   = "Licensed-Signature"  // base64 of the Ed25519 signature of SigningMessage
	HeaderIdempotency = "Idempotency-Key"     // mutating requests: the same for every retry of one operation
	// HeaderReplayed is set on a response the portal replays from its
	// idempotency record instead of running the request again.
	HeaderReplayed = "Idempotent-Replayed"
)

// Limits both sides enforce.
const (
	// MaxRequestBody is the largest request body the portal reads.
	MaxRequestBody = 64 << 10
	// MaxResponseBody is the largest response body the client reads by
	// default: a device holding hundreds of licenses fits.
	MaxResponseBody = 4 << 20
	// MaxSkew is how far a request's time may be from the portal's clock.
	MaxSkew = 5 * time.Minute
	// MaxQty bounds the units one redemption asks for.
	MaxQty = 1_000_000
	// MaxSKUsPerRequest bounds the SKUs one redemption names.
	MaxSKUsPerRequest = 64
	// MaxLicenseFiles bounds the license files one response carries.
	MaxLicenseFiles = 64
)

// ContentType is the media type of every body.
const ContentType = "application/json"

// signingTag starts every signed request line, so that the signature can
// never be taken for one over any other document the device key signs.
const signingTag = "licensed-callhome-request-v1"

// SigningMessage is what the device key signs for one request.
func SigningMessage(method, path, udi string, unixTime int64, nonce, idempotencyKey string, body []byte) []byte {
	sum := sha256.Sum256(body)
	var b bytes.Buffer
	b.Grow(len(signingTag) + len(method) + len(path) + len(udi) + len(nonce) + len(idempotencyKey) + 110)
	for _, s := range []string{signingTag, method, path, udi, strconv.FormatInt(unixTime, 10), nonce, idempotencyKey, hex.EncodeToString(sum[:])} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ValidToken reports whether s can be a nonce or an idempotency key: 16 to
// 64 letters, digits, '-' or '_'.
func ValidToken(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// SKU is one line of a PAK as the device sees it.
type SKU struct {
	Name     string   `json:"name"`
	Features []string `json:"features"`
	Type     string   `json:"type"`            // license.Type of the licenses it brings
	Count    int      `json:"count,omitempty"` // units of a counted feature per unit of the SKU
	Days     int      `json:"days,omitempty"`  // usage days (metered types) or calendar days (paidSubscription)
	// Qty is the units the PAK was bought with; Remaining those not yet
	// redeemed. In a redemption's answer Qty is the units redeemed.
	Qty       int `json:"qty"`
	Remaining int `json:"remaining"`
}

// ShowPAKRequest asks what a PAK holds.
type ShowPAKRequest struct {
	PAK string `json:"pak"`
}

// ShowPAKResponse lists a PAK's SKUs.
type ShowPAKResponse struct {
	PAK  string `json:"pak"`
	SKUs []SKU  `json:"skus"`
}

// RedeemRequest redeems a PAK onto the acting UDI. SKUs empty means every
// SKU with units left; Qty 0 means one unit of each.
type RedeemRequest struct {
	PAK  string   `json:"pak"`
	SKUs []string `json:"skus,omitempty"`
	Qty  int      `json:"qty,omitempty"`
}

// RedeemResponse carries the new licenses.
type RedeemResponse struct {
	PAK          string   `json:"pak"`
	UDI          string   `json:"udi"`
	Redeemed     []SKU    `json:"redeemed"`
	LicenseIDs   []string `json:"licenseIds"`
	LicenseFiles []string `json:"licenseFiles"`
}

// ResendRequest asks for every active license of the device's UDIs.
type ResendRequest struct{}

// ResendResponse carries them, split over files of at most
// license.MaxFileSize bytes.
type ResendResponse struct {
	UDIs         []string `json:"udis"`
	LicenseIDs   []string `json:"licenseIds"`
	LicenseFiles []string `json:"licenseFiles"`
}

// PermissionRequest asks to move licenses off the acting UDI to Target.
// Licenses empty means every license the portal holds for the UDI.
type PermissionRequest struct {
	Target   string   `json:"target"`
	Licenses []string `json:"licenses,omitempty"`
}

// PermissionResponse carries the permission ticket for the device to
// process (license revoke).
type PermissionResponse struct {
	Ticket   string    `json:"ticket"`
	TicketID string    `json:"ticketId"`
	Licenses []string  `json:"licenses"`
	Expires  time.Time `json:"expires"`
}

// RehostRequest hands in the device's rehost ticket. Target must be the
// one the permission ticket was issued for.
type RehostRequest struct {
	RehostTicket string `json:"rehostTicket"`
	Target       string `json:"target"`
}

// RehostResponse says what moved. The target device fetches its licenses
// itself (resend): no device receives another UDI's licenses.
type RehostResponse struct {
	Source  string   `json:"source"`
	Target  string   `json:"target"`
	Revoked []string `json:"revoked"`
	Issued  []string `json:"issued"`
}

// StatusRequest asks what the portal knows of the device.
type StatusRequest struct{}

// StatusResponse describes each UDI of the device.
type StatusResponse struct {
	KeyID string      `json:"keyId"`
	UDIs  []UDIStatus `json:"udis"`
}

// UDIStatus is one UDI as the portal sees it.
type UDIStatus struct {
	UDI       string          `json:"udi"`
	FirstSeen time.Time       `json:"firstSeen"`
	Licenses  []LicenseStatus `json:"licenses"`
	// Tickets are the open permission tickets of the UDI.
	Tickets []string `json:"tickets,omitempty"`
}

// LicenseStatus is one license the portal issued for a UDI.
type LicenseStatus struct {
	ID      string `json:"id"`
	Feature string `json:"feature"`
	Type    string `json:"type"`
	State   string `json:"state"` // active, revoked, rehosted, replaced
	PAK     string `json:"pak,omitempty"`
}

// Error codes in ErrorBody. The HTTP status carries the class; the code
// says exactly what is wrong.
const (
	CodeBadRequest      = "bad-request"       // 400: malformed body or header
	CodeUnauthenticated = "unauthenticated"   // 401: missing or bad credential or signature
	CodeKeyMismatch     = "key-mismatch"      // 403: the UDI is bound to another device key
	CodeForbidden       = "forbidden"         // 403: the UDI may not do this (retired by RMA, not its ticket)
	CodeStale           = "stale-request"     // 401: the request time is too far from the portal's clock
	CodeReplay          = "replayed-request"  // 409: this exact request was seen before
	CodeNotFound        = "not-found"         // 404: no such PAK, SKU, ticket or path
	CodeExhausted       = "exhausted"         // 409: the PAK has no units left for the request
	CodeConflict        = "conflict"          // 409: the state does not allow it (already held, ticket used)
	CodeIdempotency     = "idempotency-reuse" // 422: the key was used for a different request
	CodeTooLarge        = "too-large"         // 413: the body is over MaxRequestBody
	CodeRateLimited     = "rate-limited"      // 429: slow down; Retry-After says when
	CodeBusy            = "busy"              // 503: the portal is overloaded; retry later
	CodeInternal        = "internal"          // 500: the portal failed
	CodeMethod          = "method-not-allowed"
	CodeMediaType       = "unsupported-media-type"
)

// ErrorBody is the body of every non-200 answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a machine code and a message for a person.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrMalformed is returned by Decode for input that is not one JSON
// object of the expected shape.
var ErrMalformed = errors.New("malformed JSON")

// Decode reads exactly one JSON object from data into v. With strict,
// unknown fields are refused (the portal is strict with requests; the
// client tolerates fields a newer portal adds).
func Decode(data []byte, v any, strict bool) error {
	d := json.NewDecoder(bytes.NewReader(data))
	if strict {
		d.DisallowUnknownFields()
	}
	// The body must be an object, not null, a number or a list.
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("%w: want a JSON object", ErrMalformed)
	}
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	return nil
}
