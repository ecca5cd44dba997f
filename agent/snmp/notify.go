package snmp

import (
	"context"
	"net"
	"strconv"
	"sync"

	"github.com/gosnmp/gosnmp"
	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/license"
)

// notification is one trap or inform, ready for any receiver.
type notification struct {
	name string // for logs: "clmgmtLicenseInstalled"
	vbs  []gosnmp.SnmpPDU
}

// Notify sends a coldStart, then a notification for every agent event
// that has one, to every receiver, until ctx is done. Each receiver has
// its own goroutine, gosnmp session and queue of Config.QueueSize; when a
// queue is full (an unreachable receiver of informs) the notification is
// dropped and counted, so a receiver never holds up the agent. Events
// also invalidate the status snapshot, so run Notify even without
// receivers. Call it once per Server.
func (s *Server) Notify(ctx context.Context, events <-chan agent.Event) {
	var wg sync.WaitGroup
	defer wg.Wait()
	queues := make([]chan notification, len(s.cfg.Receivers))
	for i, r := range s.cfg.Receivers {
		q := make(chan notification, s.cfg.QueueSize)
		queues[i] = q
		wg.Go(func() { s.sendLoop(ctx, r, q) })
	}
	enqueue := func(n notification) {
		for i, q := range queues {
			select {
			case q <- n:
			default:
				s.stats.trapsDropped.Add(1)
				s.logf("snmp: notification queue of %s is full, dropping %s", s.cfg.Receivers[i].Addr, n.name)
			}
		}
	}
	if s.groupOn(TrapsSNMP) {
		enqueue(notification{name: "coldStart", vbs: []gosnmp.SnmpPDU{s.upTimeVarbind(), trapOID(oidColdStart)}})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil // keep serving the queues until ctx is done
				continue
			}
			// A file of many licenses raises a burst of events: take what
			// is already queued and rebuild the snapshot once for all of it.
			batch := []agent.Event{ev}
		drain:
			for len(batch) < 4096 {
				select {
				case e, ok := <-events:
					if !ok {
						events = nil
						break drain
					}
					batch = append(batch, e)
				default:
					break drain
				}
			}
			s.invalidate()
			if len(queues) == 0 {
				continue // no receivers: the snapshot just had to go stale
			}
			for _, e := range batch {
				if n, ok := s.notification(ctx, e); ok {
					enqueue(n)
				}
			}
		}
	}
}

// groupOn reports whether Config.Traps lets a notification group through.
func (s *Server) groupOn(g string) bool { return s.traps == nil || s.traps[g] }

func (s *Server) upTimeVarbind() gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: oidSysUpTimeInstance, Type: gosnmp.TimeTicks, Value: s.sysUpTime()}
}

func trapOID(o string) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: oidSnmpTrapOID, Type: gosnmp.ObjectIdentifier, Value: o}
}

// sendLoop owns one receiver's gosnmp session (a GoSNMP is not safe for
// concurrent use).
func (s *Server) sendLoop(ctx context.Context, r Receiver, q <-chan notification) {
	g, err := s.client(ctx, r)
	if err != nil {
		s.logf("snmp: trap receiver %s: %v", r.Addr, err)
	}
	connected := false
	defer func() {
		if connected {
			_ = g.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-q:
			if g == nil {
				s.stats.trapsFailed.Add(1)
				continue
			}
			if !connected {
				if err := g.Connect(); err != nil {
					s.stats.trapsFailed.Add(1)
					s.logf("snmp: trap receiver %s: %v", r.Addr, err)
					continue
				}
				connected = true
			}
			if sp, ok := g.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok && !r.Inform {
				sp.AuthoritativeEngineTime = s.engineTime() // we are authoritative for traps
			}
			if _, err := g.SendTrap(gosnmp.SnmpTrap{Variables: n.vbs, IsInform: r.Inform}); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.stats.trapsFailed.Add(1)
				s.logf("snmp: sending %s to %s: %v", n.name, r.Addr, err)
				continue
			}
			s.stats.trapsSent.Add(1)
			if r.Inform {
				s.stats.informsAcked.Add(1)
			}
		}
	}
}

// client makes the gosnmp session of a receiver. A v3 trap carries this
// engine's ID, boots and time with keys localized to it; a v3 inform
// leaves the engine ID empty so gosnmp discovers the receiver's.
func (s *Server) client(ctx context.Context, r Receiver) (*gosnmp.GoSNMP, error) {
	host, port, err := net.SplitHostPort(r.Addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, err
	}
	g := &gosnmp.GoSNMP{
		Target: host, Port: uint16(p), Transport: "udp", Context: ctx,
		Timeout: s.cfg.InformTimeout, Retries: s.cfg.InformRetries,
	}
	switch r.Version {
	case "3":
		var engine []byte
		if !r.Inform {
			engine = s.engineID
		}
		sp, err := r.User.securityParameters(engine)
		if err != nil {
			return nil, err
		}
		if !r.Inform {
			sp.AuthoritativeEngineBoots = s.boots
		}
		g.Version, g.SecurityModel, g.MsgFlags, g.SecurityParameters = gosnmp.Version3, gosnmp.UserSecurityModel, r.User.level(), sp
	default:
		g.Version, g.Community = gosnmp.Version2c, r.Community
	}
	return g, nil
}

// Notification OIDs under ciscoLicenseMgmtMIBNotifs.
const (
	ntfExpired              = 1
	ntfExpiryWarning        = 2
	ntfUsageCountExceeded   = 3
	ntfUsageCountAboutToExc = 4
	ntfInstalled            = 5
	ntfCleared              = 6
	ntfRevoked              = 7
	ntfEULAAccepted         = 8
	ntfRTUTransitionWarning = 13
	ntfRTUTransition        = 14
)

var ntfNames = map[uint32]string{
	ntfExpired: "clmgmtLicenseExpired", ntfExpiryWarning: "clmgmtLicenseExpiryWarning",
	ntfUsageCountExceeded: "clmgmtLicenseUsageCountExceeded", ntfUsageCountAboutToExc: "clmgmtLicenseUsageCountAboutToExceed",
	ntfInstalled: "clmgmtLicenseInstalled", ntfCleared: "clmgmtLicenseCleared", ntfRevoked: "clmgmtLicenseRevoked",
	ntfEULAAccepted: "clmgmtLicenseEULAAccepted", ntfRTUTransitionWarning: "clmgmtLicenseEvalRTUTransitionWarning",
	ntfRTUTransition: "clmgmtLicenseEvalRTUTransition",
}

// defaultEnables are the MIB's DEFVALs, used when no status can be read.
var defaultEnables = agent.NotifySettings{Usage: true, Deployment: true, Error: true}

// notification maps an agent event to its notification, honouring
// Config.Traps and the enables of the MIBs. Events without a MIB
// notification (tamper, clock, store recovery, start and reload) give none.
func (s *Server) notification(ctx context.Context, ev agent.Event) (notification, bool) {
	st := s.currentStatus(ctx)
	enables := defaultEnables
	var active agent.Member
	if st != nil {
		enables = st.Notifications
		_, active = members(st)
	}

	var num uint32
	var usage bool
	switch ev.Kind {
	case agent.EventInstalled:
		num = ntfInstalled
	case agent.EventCleared:
		num = ntfCleared
	case agent.EventRevoked:
		num = ntfRevoked
	case agent.EventEULAAccepted:
		num = ntfEULAAccepted
	case agent.EventExpiryWarning:
		num, usage = ntfExpiryWarning, true
	case agent.EventExpired:
		num, usage = ntfExpired, true
	case agent.EventCountAboutToExceed:
		num, usage = ntfUsageCountAboutToExc, true
	case agent.EventCountExceeded:
		num, usage = ntfUsageCountExceeded, true
	case agent.EventRTUWarning:
		num, usage = ntfRTUTransitionWarning, true
	case agent.EventRTUTransition:
		num, usage = ntfRTUTransition, true
	case agent.EventBootLevel:
		if !s.groupOn(TrapsImageLevel) || !enables.ImageLevel {
			return notification{}, false
		}
		return s.levelNotification(ev, st, active), true
	default:
		return notification{}, false
	}
	if !s.groupOn(TrapsLicense) || (usage && !enables.Usage) || (!usage && !enables.Deployment) {
		return notification{}, false
	}

	ent := u32(ev.EntPhysicalIndex)
	if ent == 0 {
		ent = u32(active.EntPhysicalIndex)
	}
	licRow := []uint32{ent, storeIndexMIB(ev.StoreIndex), u32(ev.LicenseIndex)}
	typeMIB := license.Type(ev.Type).MIB()
	featIdx := u32(ev.FeatureIndex)
	if st != nil {
		for i := range st.Licenses {
			l := &st.Licenses[i]
			if ev.LicenseID != "" && l.ID == ev.LicenseID && ev.LicenseIndex == 0 {
				licRow = []uint32{licenseEnt(l, active), storeIndexMIB(l.StoreIndex), u32(l.Index)}
				if typeMIB == 0 {
					typeMIB = license.Type(l.Type).MIB()
				}
			}
		}
		for _, f := range st.Features {
			if featIdx == 0 && f.Name == ev.Feature {
				featIdx = u32(f.Index)
			}
		}
	}
	lic := func(col uint32) string { return oidCLMLicEntry.child(col).child(licRow...).String() }
	feat := func(col uint32) string { return oidCLMFeatEntry.child(col, ent, featIdx).String() }
	str := func(name, v string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.OctetString, Value: v}
	}
	gauge := func(name string, v uint32) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.Gauge32, Value: v}
	}

	vbs := []gosnmp.SnmpPDU{s.upTimeVarbind(), trapOID(oidCLMNotifs.child(num).String())}
	switch num {
	case ntfInstalled, ntfCleared, ntfRevoked:
		vbs = append(vbs,
			str(lic(licFeatureName), ev.Feature),
			str(lic(licFeatureVersion), ev.Version),
			gosnmp.SnmpPDU{Name: lic(licType), Type: gosnmp.Integer, Value: typeMIB},
			str(lic(licComments), ev.Comment))
	case ntfEULAAccepted, ntfExpired, ntfRTUTransition:
		vbs = append(vbs, str(feat(featName), ev.Feature), str(feat(featVersion), ev.Version))
	case ntfExpiryWarning, ntfRTUTransitionWarning:
		vbs = append(vbs, str(feat(featName), ev.Feature), str(feat(featVersion), ev.Version),
			gauge(feat(featValidityRemain), u32(ev.Remaining)))
	case ntfUsageCountExceeded, ntfUsageCountAboutToExc:
		vbs = append(vbs,
			str(lic(licFeatureName), ev.Feature),
			str(lic(licFeatureVersion), ev.Version),
			gauge(lic(licMaxUsageCount), u32(ev.Capacity)),
			str(feat(featWhatIsCounted), ev.WhatIsCounted),
			str(lic(licComments), ev.Comment))
		if num == ntfUsageCountAboutToExc {
			vbs = append(vbs, gauge(lic(licUsageCountLeft), u32(ev.Capacity-ev.InUse)))
		}
	}
	return notification{name: ntfNames[num], vbs: vbs}, true
}

// levelNotification is cilmBootImageLevelChanged: the running level and
// the level configured for the next boot, in the member's module row.
func (s *Server) levelNotification(ev agent.Event, st *agent.Status, active agent.Member) notification {
	module, configured := ev.Module, ev.NextLevel
	if st != nil {
		if module == "" {
			module = st.Module
		}
		configured = st.ConfiguredLevel
	}
	ent := u32(ev.EntPhysicalIndex)
	if ent == 0 {
		ent = u32(active.EntPhysicalIndex)
	}
	return notification{name: "cilmBootImageLevelChanged", vbs: []gosnmp.SnmpPDU{
		s.upTimeVarbind(),
		trapOID(oidCILMLevelNtf),
		{Name: bootRow(bootCurrentLevel, ent, module).String(), Type: gosnmp.OctetString, Value: ev.Level},
		{Name: bootRow(bootConfiguredLevel, ent, module).String(), Type: gosnmp.OctetString, Value: configured},
	}}
}
