package featureset

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
)

// fuzzReader hands out the fuzz bytes; past the end it returns zeros.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) int8() int { return int(int8(r.byte())) }

func (r *fuzzReader) int16() int { return int(int16(uint16(r.byte())<<8 | uint16(r.byte()))) }

// fuzzInput builds an Input from bytes:
//
//	platform, flags (bit 0: EULA), boot level, packages bitmask,
//	now (days from t0, int8), license count, then per license
//	id, feature, type, period (hours, int16), count (int8; 127: MaxInt),
//	addition, start and end (days from t0, int8; 0: none),
//	used (hours, int16), then units in use per counted feature (int16;
//	32767: MaxInt).
//
// Names index the catalog's features plus an unknown and an empty one.
func fuzzInput(data []byte) Input {
	r := &fuzzReader{b: data}
	ps := Platforms()
	c, _ := Lookup(ps[int(r.byte())%len(ps)])
	var names []string
	for _, f := range c.Features {
		names = append(names, f.Name)
	}
	names = append(names, "enterprise", "")
	pick := func() string { return names[int(r.byte())%len(names)] }
	types := append(slices.Clone(license.Types), "bogus", "")
	additions := []license.Addition{license.Additive, license.Exclusive, ""}
	at := func(days int) time.Time {
		if days == 0 {
			return time.Time{}
		}
		return t0.Add(time.Duration(days) * day)
	}

	in := Input{Catalog: c, Used: map[string]time.Duration{}, InUse: map[string]int{}}
	in.EULAAccepted = r.byte()&1 == 1
	in.BootLevel = pick()
	mask := r.byte()
	for i, n := range names {
		if mask&(1<<i) != 0 {
			in.Packages = append(in.Packages, n)
		}
	}
	in.Now = t0.Add(time.Duration(r.int8()) * day)
	n := int(r.byte()) % 12
	for range n {
		idb := r.byte()
		if idb == 0xff {
			in.Licenses = append(in.Licenses, nil)
			continue
		}
		l := &license.License{Feature: pick(), Version: "1.0"}
		l.ID = "L" + strconv.Itoa(int(idb%8))
		if idb&0x80 != 0 {
			l.ID = BuiltInID(l.Feature)
		}
		l.Type = types[int(r.byte())%len(types)]
		l.Period = time.Duration(r.int16()) * time.Hour
		l.Count = r.int8()
		if l.Count == 127 {
			l.Count = math.MaxInt
		}
		l.Addition = additions[int(r.byte())%len(additions)]
		l.Start, l.End = at(r.int8()), at(r.int8())
		in.Used[l.ID] = time.Duration(r.int16()) * time.Hour
		in.Licenses = append(in.Licenses, l)
	}
	for _, f := range c.Features {
		if f.Counted {
			u := r.int16()
			if u == math.MaxInt16 {
				u = math.MaxInt
			}
			in.InUse[f.Name] = u
		}
	}
	return in
}

func FuzzResolve(f *testing.F) {
	// c3750e, EULA, boot advipservices, 2 licenses: an ipservices
	// permanent and an advipservices extension half used.
	f.Add([]byte{1, 1, 2, 0, 0, 2,
		0x01, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0,
		0x02, 2, 1, 0x02, 0xd0, 0, 0, 0, 0, 0x01, 0x68})
	// c2900, no EULA, packages securityk9+datak9, a subscription for
	// datak9 and a used-up built-in of securityk9.
	f.Add([]byte{0, 0, 0, 0x06, 3, 2,
		0x03, 2, 4, 0, 0, 0, 0, 0xfe, 0x0a, 0, 0,
		0x80, 1, 5, 0x05, 0xa0, 0, 0, 0, 0, 0x05, 0xa0})
	// uc500 with counted licenses of every addition and units in use.
	f.Add([]byte{2, 0, 0, 0, 0, 4,
		0x01, 1, 3, 0, 0, 10, 0, 0, 0, 0, 0,
		0x02, 1, 3, 0, 0, 20, 1, 0, 0, 0, 0,
		0x03, 1, 1, 0x02, 0xd0, 127, 0, 0, 0, 0, 0,
		0xff,
		0x00, 0x30})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput(data)
		boot := Resolve(in)
		checkInvariants(t, in, boot)
		if again := Resolve(in); !reflect.DeepEqual(again, boot) {
			t.Fatalf("Resolve is not deterministic:\n%+v\n%+v", boot, again)
		}

		// The same boot later: more usage, a later clock.
		later := in
		later.Used = map[string]time.Duration{}
		for id, u := range in.Used {
			later.Used[id] = u + 40*day
		}
		later.Now = in.Now.Add(45 * day)
		later.Running = &boot
		run := Resolve(later)
		checkInvariants(t, later, run)
		if run.Level != boot.Level || !slices.Equal(run.Enabled, boot.Enabled) {
			t.Errorf("after boot the feature set changed: %q %q -> %q %q", boot.Level, boot.Enabled, run.Level, run.Enabled)
		}
		for feat, id := range boot.Serving {
			if ff, _ := in.Catalog.Feature(feat); !ff.Counted && run.Serving[feat] != id {
				t.Errorf("after boot Serving[%s] changed from %q to %q", feat, id, run.Serving[feat])
			}
		}
	})
}

func checkInvariants(t *testing.T, in Input, res Result) {
	t.Helper()
	c := in.Catalog
	builtins := 0
	for _, b := range BuiltIns(c) {
		if !slices.ContainsFunc(in.Licenses, func(l *license.License) bool { return l != nil && l.ID == b.ID }) {
			builtins++
		}
	}
	if len(res.Licenses) != len(in.Licenses)+builtins {
		t.Fatalf("%d license states for %d licenses and %d built-ins", len(res.Licenses), len(in.Licenses), builtins)
	}
	serving := map[string]bool{}
	for _, id := range res.Serving {
		serving[id] = true
	}
	for i, ls := range res.Licenses {
		var l *license.License
		if i < len(in.Licenses) {
			l = in.Licenses[i]
			if l == nil {
				if ls.ID != "" || ls.State != Inactive {
					t.Errorf("state %d of a nil license = %+v", i, ls)
				}
				continue
			}
			if ls.ID != l.ID || ls.Feature != l.Feature {
				t.Errorf("state %d is for %s/%s, license is %s/%s", i, ls.ID, ls.Feature, l.ID, l.Feature)
			}
		}
		switch ls.State {
		case Inactive, NotInUse, InUse, ExpiredInUse, ExpiredNotInUse, UsageCountConsumed:
		default:
			t.Errorf("%s: unknown state %q", ls.ID, ls.State)
		}
		switch ls.Priority {
		case PriorityMedium, PriorityLow, PriorityNone:
		default:
			t.Errorf("%s: unknown priority %q", ls.ID, ls.Priority)
		}
		if ls.State == Inactive && ls.Priority != PriorityNone {
			t.Errorf("%s: inactive with priority %s", ls.ID, ls.Priority)
		}
		if ls.Remaining < 0 || ls.Used < 0 {
			t.Errorf("%s: remaining %v, used %v", ls.ID, ls.Remaining, ls.Used)
		}
		if ls.Expired != (ls.State == ExpiredInUse || ls.State == ExpiredNotInUse) && ls.State != Inactive {
			t.Errorf("%s: Expired %v in state %s", ls.ID, ls.Expired, ls.State)
		}
		if ls.State == ExpiredInUse && (in.Running == nil || !slices.Contains(mapValues(in.Running.Serving), ls.ID)) {
			t.Errorf("%s: expiredInUse without having served", ls.ID)
		}
		if l != nil && ls.RightToUse && l.Type != license.EvalRightToUse {
			t.Errorf("%s: RightToUse on a %s license", ls.ID, l.Type)
		}
		ff, _ := c.Feature(ls.Feature)
		if ls.State == InUse && ff != nil && !ff.Counted && in.Running == nil && !serving[ls.ID] {
			t.Errorf("%s: inUse but serving nothing", ls.ID)
		}
		if !in.EULAAccepted && ls.State == InUse && l != nil && (l.Type == license.Evaluation || l.Type == license.EvalRightToUse) {
			t.Errorf("%s: evaluation in use without the EULA", ls.ID)
		}
	}

	for key := range res.Counted {
		if ff, ok := c.Feature(key); !ok || !ff.Counted {
			t.Errorf("Counted has %q, not a counted feature", key)
		}
	}
	for _, f := range c.Features {
		if !f.Counted {
			continue
		}
		cp, ok := res.Counted[f.Name]
		if !ok {
			t.Errorf("no capacity for %s", f.Name)
			continue
		}
		if cp.Capacity < max(0, f.BuiltIn) {
			t.Errorf("%s: capacity %d below the built-in %d", f.Name, cp.Capacity, f.BuiltIn)
		}
		if want := max(0, in.InUse[f.Name]); cp.InUse != want {
			t.Errorf("%s: InUse %d, want %d", f.Name, cp.InUse, want)
		}
		if want := max(0, cp.InUse-cp.Capacity); cp.Violation != want {
			t.Errorf("%s: Violation %d, want max(0, %d-%d)", f.Name, cp.Violation, cp.InUse, cp.Capacity)
		}
	}

	var wantEnabled []string
	levels := c.Levels()
	if c.Kind == ImageLevels {
		if !slices.Contains(levels, res.Level) {
			t.Fatalf("Level %q is not a level of %s", res.Level, c.Platform)
		}
	} else if res.Level != "" {
		t.Errorf("Level %q on a %s platform", res.Level, c.Kind)
	}
	for _, f := range c.Features {
		switch {
		case f.Counted, f.Base:
			wantEnabled = append(wantEnabled, f.Name)
		case c.Kind == ImageLevels && EnablesLevel(c, res.Level, f.Name):
			wantEnabled = append(wantEnabled, f.Name)
		case c.Kind != ImageLevels && slices.Contains(res.Enabled, f.Name):
			wantEnabled = append(wantEnabled, f.Name)
		}
	}
	if !slices.Equal(res.Enabled, wantEnabled) {
		t.Errorf("Enabled = %q, want %q", res.Enabled, wantEnabled)
	}
	for _, name := range res.Enabled {
		ff, _ := c.Feature(name)
		if _, ok := res.Serving[name]; !ok && !ff.Base && !ff.Counted {
			t.Errorf("enabled %s has no serving license", name)
		}
	}
	for feat, id := range res.Serving {
		if !slices.Contains(res.Enabled, feat) {
			t.Errorf("Serving has %s, which is not enabled", feat)
		}
		if in.Running != nil {
			continue
		}
		// IDs may repeat in fuzzed input: one license with the ID must be
		// in a state that can serve.
		if !slices.ContainsFunc(res.Licenses, func(ls LicenseState) bool {
			return ls.ID == id && (ls.State == InUse || ls.State == NotInUse || ls.State == UsageCountConsumed)
		}) {
			t.Errorf("Serving[%s] = %q, not a license of the result that can serve", feat, id)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
