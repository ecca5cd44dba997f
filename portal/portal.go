package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
)

// Defaults for Config fields left zero.
const (
	DefaultDeviceRate     = 2.0 // requests per second per device key, sustained
	DefaultDeviceBurst    = 20
	DefaultPAKRate        = 20.0 // requests per second per PAK, sustained
	DefaultPAKBurst       = 200
	DefaultMaxInFlight    = 256
	DefaultTicketValidity = 7 * 24 * time.Hour
	DefaultGracePeriod    = 30 * 24 * time.Hour
	DefaultExtensionDays  = 90
	DefaultMaxTracked     = 200_000
	// DefaultLastSeenInterval: a read-only request updates a device's
	// last-seen time at most this often, so reads rarely write.
	DefaultLastSeenInterval = time.Hour
	DefaultIdempotencyTTL   = 30 * 24 * time.Hour
)

// Config is what a Portal needs. Store and Signer are required.
type Config struct {
	Store  Store
	Signer *license.Signer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand makes license, ticket and PAK identifiers (default crypto/rand).
	Rand io.Reader
	// Logf logs operational messages (default: discard).
	Logf func(format string, args ...any)

	// DeviceRate and DeviceBurst bound call-home requests per device key
	// (token bucket; defaults 2/s, burst 20).
	DeviceRate  float64
	DeviceBurst int
	// PAKRate and PAKBurst bound requests naming one PAK, across devices
	// (defaults 20/s, burst 200).
	PAKRate  float64
	PAKBurst int
	// MaxInFlight bounds call-home requests served at once (default 256);
	// beyond it the portal answers 503 busy at once.
	MaxInFlight int
	// MaxTracked bounds the devices and PAKs the rate limiter and the
	// replay cache remember (default 200000).
	MaxTracked int
	// TicketValidity is how long a permission ticket may be used (default
	// 7 days).
	TicketValidity time.Duration
	// GracePeriod is the usage time of the grace licenses a permission
	// ticket carries (default 30 days; negative: none).
	GracePeriod time.Duration
	// ExtensionDays is the usage time of an extension license when the
	// administrator gives none (default 90).
	ExtensionDays int
	// LastSeenInterval: see DefaultLastSeenInterval.
	LastSeenInterval time.Duration
	// IdempotencyTTL is how long the answer to a mutating request is kept
	// for its retries (default 30 days, beyond the week a device keeps
	// retrying).
	IdempotencyTTL time.Duration
}

// Portal is the licensing portal's logic over a Store. Its methods are
// safe for concurrent use.
type Portal struct {
	cfg    Config
	store  Store
	signer *license.Signer

	devLimit *limiter
	pakLimit *limiter
	replay   *replayCache
	inflight chan struct{}

	requests atomic.Uint64 // call-home requests answered
	refused  atomic.Uint64 // of which were refused (any non-200)
}

// New returns a portal over cfg.Store.
func New(cfg Config) (*Portal, error) {
	if cfg.Store == nil {
		return nil, errors.New("portal: Config.Store is required")
	}
	if cfg.Signer == nil || cfg.Signer.Public() == nil {
		return nil, errors.New("portal: Config.Signer with a valid key is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.DeviceRate <= 0 {
		cfg.DeviceRate = DefaultDeviceRate
	}
	if cfg.DeviceBurst <= 0 {
		cfg.DeviceBurst = DefaultDeviceBurst
	}
	if cfg.PAKRate <= 0 {
		cfg.PAKRate = DefaultPAKRate
	}
	if cfg.PAKBurst <= 0 {
		cfg.PAKBurst = DefaultPAKBurst
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxTracked <= 0 {
		cfg.MaxTracked = DefaultMaxTracked
	}
	if cfg.TicketValidity <= 0 {
		cfg.TicketValidity = DefaultTicketValidity
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.ExtensionDays <= 0 {
		cfg.ExtensionDays = DefaultExtensionDays
	}
	if cfg.LastSeenInterval <= 0 {
		cfg.LastSeenInterval = DefaultLastSeenInterval
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = DefaultIdempotencyTTL
	}
	return &Portal{
		cfg:      cfg,
		store:    cfg.Store,
		signer:   cfg.Signer,
		devLimit: newLimiter(cfg.DeviceRate, cfg.DeviceBurst, cfg.MaxTracked),
		pakLimit: newLimiter(cfg.PAKRate, cfg.PAKBurst, cfg.MaxTracked),
		replay:   newReplayCache(2*protocol.MaxSkew, cfg.MaxTracked),
		inflight: make(chan struct{}, cfg.MaxInFlight),
	}, nil
}

func (p *Portal) now() time.Time { return p.cfg.Now().UTC().Truncate(time.Second) }

// newID is 16 random hex digits: license and ticket identifiers.
func (p *Portal) newID() (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(p.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("random identifier: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Error is a request the portal refuses, or a failure, with a code from
// package protocol and a message that names what is wrong.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err: its own if it is an *Error, internal
// otherwise.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return protocol.CodeInternal
}

// HTTPStatus maps an error code to the status of a call-home answer.
func HTTPStatus(code string) int {
	switch code {
	case protocol.CodeBadRequest:
		return http.StatusBadRequest
	case protocol.CodeUnauthenticated, protocol.CodeStale:
		return http.StatusUnauthorized
	case protocol.CodeKeyMismatch, protocol.CodeForbidden:
		return http.StatusForbidden
	case protocol.CodeNotFound:
		return http.StatusNotFound
	case protocol.CodeReplay, protocol.CodeExhausted, protocol.CodeConflict:
		return http.StatusConflict
	case protocol.CodeIdempotency:
		return http.StatusUnprocessableEntity
	case protocol.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case protocol.CodeRateLimited:
		return http.StatusTooManyRequests
	case protocol.CodeBusy:
		return http.StatusServiceUnavailable
	case protocol.CodeMethod:
		return http.StatusMethodNotAllowed
	case protocol.CodeMediaType:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

type actorKey struct{}

// WithActor returns a context naming who asks, for the audit log.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor of ctx, "admin" when none was set.
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "admin"
}

// audit appends an entry, indexed under each UDI it concerns.
func (p *Portal) audit(tx Tx, now time.Time, actor, action, target, detail string, udis ...string) error {
	seq, err := tx.NextSeq(TableAudit)
	if err != nil {
		return err
	}
	e := AuditEntry{Seq: seq, Time: now, Actor: actor, Action: action, Target: target, Detail: detail, UDIs: udis}
	if err := putJSON(tx, TableAudit, seqKey(seq), e); err != nil {
		return err
	}
	for _, u := range udis {
		if err := tx.Put(TableDeviceLog, u+"/"+seqKey(seq), nil); err != nil {
			return err
		}
	}
	return nil
}

// Stats are the portal's counters.
type Stats struct {
	Requests uint64     `json:"requests"` // call-home requests answered
	Refused  uint64     `json:"refused"`  // of which were not 200
	Store    StoreStats `json:"store"`
}

// Stats returns the counters since start.
func (p *Portal) Stats(context.Context) (Stats, error) {
	return Stats{Requests: p.requests.Load(), Refused: p.refused.Load(), Store: p.store.Stats()}, nil
}

// pruneBatch bounds the records one Prune transaction deletes.
const pruneBatch = 10_000

// Prune deletes idempotency records older than Config.IdempotencyTTL and
// returns how many went.
func (p *Portal) Prune(ctx context.Context) (int, error) {
	total := 0
	for {
		cutoff := p.now().Add(-p.cfg.IdempotencyTTL)
		var old []string
		err := p.store.View(ctx, func(tx Tx) error {
			old = old[:0]
			return tx.Scan(TableIdempotency, "", func(k string, v []byte) error {
				var r struct {
					Time time.Time `json:"time"`
				}
				if json.Unmarshal(v, &r) == nil && r.Time.Before(cutoff) {
					old = append(old, k)
				}
				if len(old) >= pruneBatch {
					return errStopScan
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, errStopScan) {
			return total, err
		}
		if len(old) == 0 {
			return total, nil
		}
		err = p.store.Update(ctx, func(tx Tx) error {
			for _, k := range old {
				if err := tx.Delete(TableIdempotency, k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(old)
		if len(old) < pruneBatch {
			return total, nil
		}
	}
}

var errStopScan = errors.New("stop scan")
