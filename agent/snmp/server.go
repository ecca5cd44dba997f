package snmp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
)

// Server is an SNMP agent (command responder and notification originator)
// over an agent's status. Its methods are safe for concurrent use.
type Server struct {
	cfg         Config
	logf        func(string, ...any)
	clock       func() time.Time
	start       time.Time
	engineID    []byte
	boots       uint32
	community   []byte
	sysObjectID string
	users       map[string]*usmUser
	traps       map[string]bool // nil: all groups

	mu      sync.Mutex
	cache   *view
	status  *agent.Status
	cacheAt time.Time

	stats counters
}

// Stats counts what the server did since New. The SNMP counters are also
// served as the MIB objects of the same names (snmpInPkts, usmStats…).
type Stats struct {
	InPkts  uint64 // messages received
	OutPkts uint64 // responses and reports sent
	// SNMPv2-MIB snmp group.
	BadVersions       uint64
	BadCommunityNames uint64 // wrong community, or v1/v2c disabled
	BadCommunityUses  uint64 // SET with the read-only community
	ASNParseErrs      uint64
	SilentDrops       uint64 // requests whose response could not be sent
	// SNMP-MPD-MIB and SNMP-TARGET-MIB.
	UnknownSecurityModels uint64
	InvalidMsgs           uint64
	UnknownPDUHandlers    uint64
	UnknownContexts       uint64
	// SNMP-USER-BASED-SM-MIB usmStats.
	UnsupportedSecLevels uint64
	NotInTimeWindows     uint64
	UnknownUserNames     uint64
	UnknownEngineIDs     uint64
	WrongDigests         uint64
	DecryptionErrors     uint64
	// Notifications.
	TrapsSent    uint64 // traps sent and informs acknowledged
	TrapsFailed  uint64 // send errors and unacknowledged informs
	TrapsDropped uint64 // a receiver's queue was full
	InformsAcked uint64
}

type counters struct {
	inPkts, outPkts                                          atomic.Uint64
	badVersions, badCommunityNames, badCommunityUses         atomic.Uint64
	asnParseErrs, silentDrops                                atomic.Uint64
	unknownSecurityModels, invalidMsgs, unknownPDUHandlers   atomic.Uint64
	unknownContexts                                          atomic.Uint64
	unsupportedSecLevels, notInTimeWindows, unknownUserNames atomic.Uint64
	unknownEngineIDs, wrongDigests, decryptionErrors         atomic.Uint64
	trapsSent, trapsFailed, trapsDropped, informsAcked       atomic.Uint64
	// panics counts decoder panics Handle recovered from (also counted as
	// parse errors); the fuzz test asserts it stays 0.
	panics atomic.Uint64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		InPkts: c.inPkts.Load(), OutPkts: c.outPkts.Load(),
		BadVersions: c.badVersions.Load(), BadCommunityNames: c.badCommunityNames.Load(),
		BadCommunityUses: c.badCommunityUses.Load(), ASNParseErrs: c.asnParseErrs.Load(),
		SilentDrops:           c.silentDrops.Load(),
		UnknownSecurityModels: c.unknownSecurityModels.Load(), InvalidMsgs: c.invalidMsgs.Load(),
		UnknownPDUHandlers: c.unknownPDUHandlers.Load(), UnknownContexts: c.unknownContexts.Load(),
		UnsupportedSecLevels: c.unsupportedSecLevels.Load(), NotInTimeWindows: c.notInTimeWindows.Load(),
		UnknownUserNames: c.unknownUserNames.Load(), UnknownEngineIDs: c.unknownEngineIDs.Load(),
		WrongDigests: c.wrongDigests.Load(), DecryptionErrors: c.decryptionErrors.Load(),
		TrapsSent: c.trapsSent.Load(), TrapsFailed: c.trapsFailed.Load(),
		TrapsDropped: c.trapsDropped.Load(), InformsAcked: c.informsAcked.Load(),
	}
}

// New checks cfg and returns a Server. Without Config.EngineID it reads
// the status once to derive the engine ID from the active member.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil {
		return nil, ErrNoSource
	}
	s := &Server{cfg: cfg, logf: cfg.Logf, clock: cfg.Clock}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.start = s.clock()
	if s.cfg.Listen == "" {
		s.cfg.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(s.cfg.Listen); err != nil {
		return nil, fmt.Errorf("snmp listen address %q: %w", s.cfg.Listen, err)
	}
	if s.cfg.CacheTTL <= 0 {
		s.cfg.CacheTTL = DefaultCacheTTL
	}
	if s.cfg.Workers <= 0 {
		s.cfg.Workers = DefaultWorkers
	}
	if s.cfg.QueueSize <= 0 {
		s.cfg.QueueSize = DefaultQueueSize
	}
	if s.cfg.InformTimeout <= 0 {
		s.cfg.InformTimeout = DefaultInformTimeout
	}
	if s.cfg.InformRetries < 0 {
		return nil, fmt.Errorf("snmp inform retries %d: must not be negative", s.cfg.InformRetries)
	}
	if s.cfg.InformRetries == 0 {
		s.cfg.InformRetries = DefaultInformRetries
	}
	if len(cfg.Community) > maxCommunity {
		return nil, fmt.Errorf("snmp community is %d octets, at most %d", len(cfg.Community), maxCommunity)
	}
	s.community = []byte(cfg.Community)

	s.sysObjectID = cfg.SysObjectID
	if s.sysObjectID == "" {
		s.sysObjectID = DefaultSysObjectID
	}
	if _, err := parseOID(s.sysObjectID); err != nil {
		return nil, fmt.Errorf("snmp sysObjectID: %w", err)
	}

	switch {
	case cfg.EngineBoots >= math.MaxInt32:
		return nil, fmt.Errorf("snmp engine boots %d reached its limit; configure a new engine ID and reset the boots to 1", cfg.EngineBoots)
	case cfg.EngineBoots == 0:
		s.boots = 1
		s.logf("snmp: engine boots not set, using 1; SNMPv3 trap receivers may drop traps after a restart")
	default:
		s.boots = cfg.EngineBoots
	}

	if len(cfg.EngineID) > 0 {
		s.engineID = append([]byte(nil), cfg.EngineID...)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := cfg.Source.Status(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("snmp engine ID: reading status: %w", err)
		}
		if s.engineID, err = DeriveEngineID(st); err != nil {
			return nil, err
		}
	}
	if len(s.engineID) < 5 || len(s.engineID) > 32 {
		return nil, fmt.Errorf("snmp engine ID of %d octets, want 5 to 32", len(s.engineID))
	}

	s.users = make(map[string]*usmUser, len(cfg.Users))
	for _, u := range cfg.Users {
		if err := u.normalize(); err != nil {
			return nil, err
		}
		if _, dup := s.users[u.Name]; dup {
			return nil, fmt.Errorf("snmp user %q is configured twice", u.Name)
		}
		sp, err := u.securityParameters(s.engineID)
		if err != nil {
			return nil, err
		}
		s.users[u.Name] = &usmUser{name: u.Name, level: u.level(), tmpl: sp}
	}

	s.cfg.Receivers = make([]Receiver, len(cfg.Receivers))
	copy(s.cfg.Receivers, cfg.Receivers)
	for i := range s.cfg.Receivers {
		if err := validateReceiver(&s.cfg.Receivers[i], cfg.Community); err != nil {
			return nil, err
		}
	}
	if cfg.Traps != nil {
		s.traps = make(map[string]bool, len(cfg.Traps))
		for _, g := range cfg.Traps {
			switch g {
			case TrapsLicense, TrapsImageLevel, TrapsSNMP:
				s.traps[g] = true
			default:
				return nil, fmt.Errorf("snmp notification group %q, want license, image-level or snmp", g)
			}
		}
	}
	return s, nil
}

// Enterprise number in engine IDs: 9 (ciscoSystems), as the MIBs served.
const engineEnterprise = 9

// DeriveEngineID returns the default snmpEngineID (RFC 3411
// SnmpEngineID): 0x80000009, then format 4 (text) with the active
// member's serial number when it is 1 to 27 printable ASCII characters,
// else format 5 (octets) with the first 16 octets of SHA-256 of its UDI.
// It is stable for a device and unique between devices.
func DeriveEngineID(st *agent.Status) ([]byte, error) {
	if st == nil {
		return nil, errors.New("snmp engine ID: no status")
	}
	ms, active := members(st)
	if len(ms) == 0 {
		return nil, errors.New("snmp engine ID: the status has no member with an entPhysicalIndex; set an engine ID")
	}
	id := []byte{0x80, 0, 0, engineEnterprise}
	sn := active.SN
	printable := sn != "" && len(sn) <= 27
	for i := 0; i < len(sn) && printable; i++ {
		printable = sn[i] > ' ' && sn[i] < 0x7f
	}
	if printable {
		return append(append(id, 4), sn...), nil
	}
	sum := sha256.Sum256([]byte(active.UDI()))
	return append(append(id, 5), sum[:16]...), nil
}

// EngineID returns snmpEngineID.
func (s *Server) EngineID() []byte { return append([]byte(nil), s.engineID...) }

// EngineBoots returns snmpEngineBoots.
func (s *Server) EngineBoots() uint32 { return s.boots }

// engineTime is snmpEngineTime: seconds since New, at most 2^31-1.
func (s *Server) engineTime() uint32 {
	d := s.clock().Sub(s.start)
	if d < 0 {
		return 0
	}
	return uint32(min(int64(d/time.Second), math.MaxInt32))
}

// sysUpTime is hundredths of a second since New, wrapping as TimeTicks do.
func (s *Server) sysUpTime() uint32 {
	d := s.clock().Sub(s.start)
	if d < 0 {
		return 0
	}
	return uint32(uint64(d / (10 * time.Millisecond)))
}

// snapshot returns the view for a request: the cached one while it is
// fresh, else one built from a new status. If the status cannot be read,
// the last view is used; without one the request fails.
func (s *Server) snapshot(ctx context.Context) (*view, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if s.cache != nil && !now.Before(s.cacheAt) && now.Sub(s.cacheAt) < s.cfg.CacheTTL {
		return s.cache, nil
	}
	st, err := s.cfg.Source.Status(ctx)
	if err != nil {
		if s.cache != nil {
			s.logf("snmp: reading status: %v; serving the previous snapshot", err)
			return s.cache, nil
		}
		return nil, fmt.Errorf("reading status: %w", err)
	}
	s.cache, s.status, s.cacheAt = s.buildView(st), st, now
	return s.cache, nil
}

// currentStatus returns the status of the current snapshot, or nil.
func (s *Server) currentStatus(ctx context.Context) *agent.Status {
	if _, err := s.snapshot(ctx); err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// invalidate makes the next request read a fresh status.
func (s *Server) invalidate() {
	s.mu.Lock()
	s.cache = nil
	s.mu.Unlock()
}

// ListenAndServe opens Config.Listen and serves on it until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("snmp: %w", err)
	}
	defer pc.Close()
	return s.Serve(ctx, pc)
}

// Serve answers requests arriving on pc until ctx is done (it then
// returns nil) or reading fails. The caller opens and closes pc.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		<-ctx.Done()
		_ = pc.SetReadDeadline(time.Unix(1, 0)) // unblock ReadFrom
	}()

	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		serveErr error
	)
	for range s.cfg.Workers {
		wg.Go(func() {
			buf := make([]byte, MaxMessageSize+1)
			for {
				n, addr, err := pc.ReadFrom(buf)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						continue
					}
					errOnce.Do(func() { serveErr = fmt.Errorf("snmp: reading: %w", err) })
					cancel()
					return
				}
				if n > MaxMessageSize {
					s.stats.inPkts.Add(1)
					s.stats.asnParseErrs.Add(1)
					continue
				}
				resp := s.Handle(ctx, buf[:n], addr)
				if resp == nil {
					continue
				}
				if _, err := pc.WriteTo(resp, addr); err != nil && ctx.Err() == nil {
					s.stats.silentDrops.Add(1)
					s.logf("snmp: sending response to %v: %v", addr, err)
				}
			}
		})
	}
	wg.Wait()
	cancel()
	<-watched
	_ = pc.SetReadDeadline(time.Time{})
	return serveErr
}

// usmUser is a configured user with keys localized to this engine.
type usmUser struct {
	name  string
	level gosnmp.SnmpV3MsgFlags
	tmpl  *gosnmp.UsmSecurityParameters
}
