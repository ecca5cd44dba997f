package featureset

import (
	"math"
	"time"

	"github.com/licensed-dev/licensed/license"
)

// Priorities as devices print them after "License Priority:".
const (
	PriorityMedium = "Medium"
	PriorityLow    = "Low"
	PriorityNone   = "None"
)

// forever is the validity left of a license that never runs out.
const forever = time.Duration(math.MaxInt64)

// class is a license's rank in the order that picks the serving license:
// lower classes serve first.
type class int

const (
	classPermanent  class = iota // permanent, permanentRightToUse, rightToUse
	classTemporary               // extension, gracePeriod, paidSubscription
	classEvaluation              // evaluation, evalRightToUse
)

func classOf(t license.Type) class {
	switch t {
	case license.Permanent, license.PermanentRightToUse, license.RightToUse:
		return classPermanent
	case license.Extension, license.GracePeriod, license.PaidSubscription:
		return classTemporary
	}
	return classEvaluation
}

// entry is one license under resolution.
type entry struct {
	lic  *license.License
	pos  int      // position in input order, built-ins last
	feat *Feature // nil when the feature is not in the catalog
	// builtin: the license is a built-in evaluation (ID from BuiltInID).
	builtin bool
	// evalOrigin: an evaluation or evalRightToUse license; it needs the EULA
	// and runs only where the operator asked for it.
	evalOrigin bool
	// inactive: the license can never serve as it stands (unknown feature,
	// invalid type, period or count, or not started yet).
	inactive bool
	expired  bool
	// rtu: an evalRightToUse whose period is used up and which now counts
	// as a lifetime rightToUse.
	rtu         bool
	eulaBlocked bool
	// contributes: the license adds units to its counted feature.
	contributes bool
	used        time.Duration // metered: usage consumed
	remaining   time.Duration // metered: usage left
	left        time.Duration // validity left, for ordering
}

func (e *entry) usable() bool { return !e.inactive && !e.expired && !e.eulaBlocked }

func (e *entry) class() class {
	if e.rtu {
		return classPermanent
	}
	return classOf(e.lic.Type)
}

// better reports whether a should serve rather than b: the lower class first;
// on image levels a license for exactly that level (exact) next; then the
// most validity left; then an installed license before a built-in one; then
// the lowest ID; then input order.
func better(a, b *entry, exact string) bool {
	if ca, cb := a.class(), b.class(); ca != cb {
		return ca < cb
	}
	if exact != "" {
		if ea, eb := a.lic.Feature == exact, b.lic.Feature == exact; ea != eb {
			return ea
		}
	}
	if a.left != b.left {
		return a.left > b.left
	}
	if a.builtin != b.builtin {
		return !a.builtin
	}
	if a.lic.ID != b.lic.ID {
		return a.lic.ID < b.lic.ID
	}
	return a.pos < b.pos
}

func best(cands []*entry, exact string) *entry {
	var b *entry
	for _, e := range cands {
		if b == nil || better(e, b, exact) {
			b = e
		}
	}
	return b
}

// satAdd adds two non-negative ints, stopping at math.MaxInt.
func satAdd(a, b int) int {
	if b > 0 && a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// Resolve decides the feature set and the state of every license. It never
// panics, whatever the input.
//
// in.Now must be max(wall clock, high-water mark): a clock set back must not
// revive an expired calendar license.
//
// Which license serves a feature: a usable license of the permanent class
// (permanent, permanentRightToUse, rightToUse, and an evalRightToUse that
// has become rightToUse) before the temporary class (extension,
// gracePeriod, paidSubscription) before the evaluation class (evaluation,
// evalRightToUse). Within a class, on image levels a license for exactly the
// running level comes first; then the most validity left (usage left for
// metered licenses, time to End for dated ones, whichever is less); then an
// installed license before a built-in one; then the lowest ID.
//
// A license is usable when its feature is in the catalog, its type is
// known, it is not expired and it is valid as it stands:
//   - metered types need Period > 0 and run while Used < Period, Used being
//     in.Used[ID]. An evalRightToUse license whose period is used up becomes
//     a lifetime rightToUse (LicenseState.RightToUse) instead of expiring;
//     the other metered types expire.
//   - licenses with Start or End run while Start <= Now < End; before Start
//     they are Inactive, from End on expired. A paidSubscription needs an End;
//     End must be after Start.
//   - licenses of a counted feature need Count > 0.
//   - evaluation-class licenses need the EULA accepted.
//
// Booting (in.Running nil) on an ImageLevels platform: the configured
// in.BootLevel runs if a usable license enables it (the base level always
// may); otherwise the highest level that a usable non-evaluation license
// enables; otherwise the base level. An evaluation license serves only its
// own level and only when that level is the configured one, so accepting
// the EULA never starts an evaluation the operator did not pick. Enabled is
// the running level and every lower level; one license serves them all
// (Serving maps each of them to it). The base level is served only by a
// license for the base feature itself, and needs none.
//
// Booting on other platforms: the base feature always runs (served by the
// best non-evaluation base license, if any). Any other feature runs when it
// is configured in in.Packages, or when a usable license of the permanent
// class or a usable paidSubscription activates it without configuration;
// it needs a usable license. Evaluation licenses serve only configured
// features.
//
// Counted features (any platform) always run; their capacity limits the
// units device software may acquire, and applies at once, also after boot:
// built-in units (Feature.BuiltIn), plus the Count of every usable additive
// license, plus the Count of the largest usable exclusive license (other
// exclusive licenses add nothing; an empty Addition counts as exclusive).
// Violation is the units in use beyond capacity. The license serving a
// counted feature is the best of those adding units.
//
// After boot (in.Running set) Level, Enabled and Serving are those of
// in.Running (image changes need a reload), except that Serving of counted
// features is recomputed as their capacity is. Only states change: a
// license serving a running feature is InUse, or ExpiredInUse once expired
// (the feature runs on until the reload); other licenses are NotInUse when
// usable and ExpiredNotInUse when expired.
//
// States: Inactive for licenses that cannot serve (see above, and licenses
// of features the catalog lacks); NotInUse for evaluation-class licenses
// while the EULA is not accepted; licenses adding units to a counted feature
// are UsageCountConsumed when units in use reach capacity, else InUse while
// any unit is in use, else NotInUse.
//
// Priorities: "None" for Inactive licenses and for evaluation-class licenses
// before the EULA is accepted; "Medium" for the permanent class; "Low" for
// the rest.
//
// Result.Licenses holds one state per input license (nil entries included,
// as Inactive) in input order, then one per built-in evaluation of the
// catalog in catalog order, except built-ins whose ID an input license
// already uses. Enabled is in catalog order. A nil catalog enables nothing
// and leaves every license Inactive.
func Resolve(in Input) Result {
	r := &resolver{in: &in, c: in.Catalog, byFeature: map[string][]*entry{}}
	res := Result{Enabled: []string{}, Serving: map[string]string{}, Counted: map[string]Capacity{}}

	all := r.collect()
	r.entries = make([]entry, len(all))
	for i, l := range all {
		r.entries[i] = r.assess(l, i)
		if e := &r.entries[i]; e.feat != nil {
			r.byFeature[e.feat.Name] = append(r.byFeature[e.feat.Name], e)
		}
	}

	if r.c != nil {
		countedServing := r.counted(&res)
		if in.Running != nil {
			res.Level = in.Running.Level
			res.Enabled = append(res.Enabled, in.Running.Enabled...)
			for f, id := range in.Running.Serving {
				res.Serving[f] = id
			}
		} else if r.c.Kind == ImageLevels {
			r.bootLevels(&res)
		} else {
			r.bootPackages(&res)
		}
		for i := range r.c.Features {
			if f := &r.c.Features[i]; f.Counted {
				delete(res.Serving, f.Name)
				if id, ok := countedServing[f.Name]; ok {
					res.Serving[f.Name] = id
				}
			}
		}
	}

	serving := map[string]bool{}
	from := res.Serving
	if in.Running != nil {
		from = in.Running.Serving
	}
	for _, id := range from {
		serving[id] = true
	}
	res.Licenses = make([]LicenseState, len(r.entries))
	for i := range r.entries {
		res.Licenses[i] = r.state(&r.entries[i], serving, res.Counted)
	}
	return res
}

type resolver struct {
	in        *Input
	c         *Catalog
	entries   []entry
	byFeature map[string][]*entry
}

// collect returns the input licenses followed by the catalog's built-ins
// that no input license shadows.
func (r *resolver) collect() []*license.License {
	builtins := BuiltIns(r.c)
	all := make([]*license.License, 0, len(r.in.Licenses)+len(builtins))
	all = append(all, r.in.Licenses...)
	taken := map[string]bool{}
	for _, l := range r.in.Licenses {
		if l != nil && IsBuiltIn(l.ID) {
			taken[l.ID] = true
		}
	}
	for _, b := range builtins {
		if !taken[b.ID] {
			all = append(all, b)
		}
	}
	return all
}

func (r *resolver) assess(l *license.License, pos int) entry {
	e := entry{lic: l, pos: pos, left: forever}
	if l == nil {
		e.inactive = true
		return e
	}
	e.builtin = IsBuiltIn(l.ID)
	e.evalOrigin = l.Type == license.Evaluation || l.Type == license.EvalRightToUse
	e.feat, _ = r.c.Feature(l.Feature)
	if e.feat == nil || !l.Type.Valid() {
		e.inactive = true
	}
	if l.Type.Metered() {
		e.used = max(0, r.in.Used[l.ID])
		switch {
		case l.Period <= 0:
			e.inactive = true
		case e.used < l.Period:
			e.remaining = l.Period - e.used
			e.left = e.remaining
		case l.Type == license.EvalRightToUse:
			e.rtu = true
		default:
			e.expired = true
			e.left = 0
		}
	}
	if e.feat != nil && e.feat.Counted && l.Count <= 0 && !e.builtin {
		e.inactive = true
	}
	if l.Type == license.PaidSubscription && l.End.IsZero() {
		e.inactive = true
	}
	if !l.Start.IsZero() && !l.End.IsZero() && !l.End.After(l.Start) {
		e.inactive = true
	}
	now := r.in.Now
	if !l.Start.IsZero() && now.Before(l.Start) {
		e.inactive = true
	}
	if !l.End.IsZero() {
		if !now.Before(l.End) {
			e.expired = true
			e.left = 0
		} else if d := l.End.Sub(now); d < e.left {
			e.left = d
		}
	}
	e.eulaBlocked = e.evalOrigin && !r.in.EULAAccepted
	return e
}

// counted computes the capacity of every counted feature, marks the
// licenses that add units and returns the serving license of each.
func (r *resolver) counted(res *Result) map[string]string {
	serving := map[string]string{}
	for i := range r.c.Features {
		f := &r.c.Features[i]
		if !f.Counted {
			continue
		}
		capacity := max(0, f.BuiltIn)
		var excl *entry
		var adding []*entry
		for _, e := range r.byFeature[f.Name] {
			if !e.usable() || e.lic.Count <= 0 {
				continue
			}
			if e.lic.Addition == license.Additive {
				capacity = satAdd(capacity, e.lic.Count)
				e.contributes = true
				adding = append(adding, e)
				continue
			}
			if excl == nil || e.lic.Count > excl.lic.Count || (e.lic.Count == excl.lic.Count && better(e, excl, "")) {
				excl = e
			}
		}
		if excl != nil {
			capacity = satAdd(capacity, excl.lic.Count)
			excl.contributes = true
			adding = append(adding, excl)
		}
		inUse := max(0, r.in.InUse[f.Name])
		res.Counted[f.Name] = Capacity{Capacity: capacity, InUse: inUse, Violation: max(0, inUse-capacity)}
		if b := best(adding, ""); b != nil {
			serving[f.Name] = b.lic.ID
		}
	}
	return serving
}

// levelCandidates lists the usable licenses that may serve image level
// level. allowEval admits evaluation-class licenses for exactly that level.
func (r *resolver) levelCandidates(level, base string, allowEval bool) []*entry {
	var out []*entry
	for i := range r.entries {
		e := &r.entries[i]
		if !e.usable() || e.feat.Counted {
			continue
		}
		switch {
		case e.evalOrigin:
			if allowEval && level != base && e.lic.Feature == level {
				out = append(out, e)
			}
		case level == base:
			if e.lic.Feature == base {
				out = append(out, e)
			}
		case EnablesLevel(r.c, e.lic.Feature, level):
			out = append(out, e)
		}
	}
	return out
}

func (r *resolver) bootLevels(res *Result) {
	levels := r.c.Levels()
	if len(levels) == 0 {
		for i := range r.c.Features {
			res.Enabled = append(res.Enabled, r.c.Features[i].Name)
		}
		return
	}
	base := levels[0]
	level := base
	boot := r.in.BootLevel
	switch {
	case boot == base:
	case r.c.isLevel(boot) && len(r.levelCandidates(boot, base, true)) > 0:
		level = boot
	default:
		for i := len(levels) - 1; i > 0; i-- {
			if len(r.levelCandidates(levels[i], base, false)) > 0 {
				level = levels[i]
				break
			}
		}
	}
	res.Level = level
	serving := best(r.levelCandidates(level, base, level == boot), level)
	for i := range r.c.Features {
		f := &r.c.Features[i]
		switch {
		case f.Counted:
			res.Enabled = append(res.Enabled, f.Name)
		case EnablesLevel(r.c, level, f.Name):
			res.Enabled = append(res.Enabled, f.Name)
			// The running level's license serves every non-base level up
			// to it; the base level has a serving license only when it is
			// the running level and a license for it is installed.
			if serving != nil && (f.Name != base || level == base) {
				res.Serving[f.Name] = serving.lic.ID
			}
		}
	}
}

func (r *resolver) bootPackages(res *Result) {
	configured := map[string]bool{}
	for _, p := range r.in.Packages {
		configured[p] = true
	}
	for i := range r.c.Features {
		f := &r.c.Features[i]
		if f.Counted {
			res.Enabled = append(res.Enabled, f.Name)
			continue
		}
		var cands []*entry
		activated := f.Base || configured[f.Name]
		for _, e := range r.byFeature[f.Name] {
			if !e.usable() {
				continue
			}
			if e.evalOrigin {
				if configured[f.Name] && !f.Base {
					cands = append(cands, e)
				}
				continue
			}
			cands = append(cands, e)
			if e.class() == classPermanent || e.lic.Type == license.PaidSubscription {
				activated = true
			}
		}
		if !activated {
			continue
		}
		b := best(cands, "")
		if b == nil && !f.Base {
			continue
		}
		res.Enabled = append(res.Enabled, f.Name)
		if b != nil {
			res.Serving[f.Name] = b.lic.ID
		}
	}
}

func (r *resolver) state(e *entry, serving map[string]bool, counted map[string]Capacity) LicenseState {
	if e.lic == nil {
		return LicenseState{State: Inactive, Priority: PriorityNone}
	}
	ls := LicenseState{
		ID:         e.lic.ID,
		Feature:    e.lic.Feature,
		Remaining:  e.remaining,
		Used:       e.used,
		Expired:    e.expired,
		RightToUse: e.rtu,
	}
	switch {
	case e.inactive:
		ls.State = Inactive
	case e.expired:
		ls.State = ExpiredNotInUse
		if r.in.Running != nil && serving[e.lic.ID] {
			ls.State = ExpiredInUse
		}
	case e.eulaBlocked:
		ls.State = NotInUse
	case e.feat.Counted:
		c := counted[e.feat.Name]
		switch {
		case !e.contributes:
			ls.State = NotInUse
		case c.InUse >= c.Capacity:
			ls.State = UsageCountConsumed
		case c.InUse > 0:
			ls.State = InUse
		default:
			ls.State = NotInUse
		}
	case serving[e.lic.ID]:
		ls.State = InUse
	default:
		ls.State = NotInUse
	}
	switch {
	case ls.State == Inactive || e.eulaBlocked:
		ls.Priority = PriorityNone
	case e.class() == classPermanent:
		ls.Priority = PriorityMedium
	default:
		ls.Priority = PriorityLow
	}
	return ls
}
