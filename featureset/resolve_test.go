package featureset

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/license"
)

// t0 is the wall clock of every case that does not set its own.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// Built-in evaluation IDs of the catalogs.
const (
	bIPS  = "builtin:ipservices"
	bADV  = "builtin:advipservices"
	bSEC  = "builtin:securityk9"
	bDATA = "builtin:datak9"
	bUC   = "builtin:uck9"
)

type opt func(*license.License)

func mk(id, feature string, typ license.Type, opts ...opt) *license.License {
	l := &license.License{ID: id, Feature: feature, Version: "1.0", Type: typ, UDI: "CISCO2911/K9:FTX1234A0BC"}
	if typ.Metered() {
		l.Period = 30 * day
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

func perm(id, feature string, opts ...opt) *license.License {
	return mk(id, feature, license.Permanent, opts...)
}

func ext(id, feature string, opts ...opt) *license.License {
	return mk(id, feature, license.Extension, opts...)
}

func sub(id, feature string, start, end time.Time) *license.License {
	return mk(id, feature, license.PaidSubscription, dates(start, end))
}

func period(d time.Duration) opt { return func(l *license.License) { l.Period = d } }

func dates(start, end time.Time) opt {
	return func(l *license.License) { l.Start, l.End = start, end }
}

func units(n int, a license.Addition) opt {
	return func(l *license.License) { l.Count, l.Addition = n, a }
}

type resolveCase struct {
	name     string
	platform string
	catalog  *Catalog // instead of platform
	in       Input    // Catalog is filled in; Now defaults to t0
	// after, when set, turns the case into a running-boot case: the input
	// is resolved at boot, after changes a copy, and the copy is resolved
	// with Running set to the boot's result.
	after func(in *Input)

	level   string
	enabled []string
	serving map[string]string
	// states must name every non-built-in license of the result; built-ins
	// not named must be in builtins (NotInUse when empty).
	states   map[string]State
	builtins State
	ls       []LicenseState      // full states to compare, by ID
	counted  map[string]Capacity // compared whole when set
}

var resolveCases = []resolveCase{
	// Rule 1: which license serves a feature.
	{
		name: "rule1/permanent serves before extension and evaluation", platform: "c2900",
		in:      Input{Licenses: []*license.License{ext("E", "securityk9"), perm("P", "securityk9")}, Packages: []string{"securityk9"}, EULAAccepted: true},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "P"},
		states:  map[string]State{"P": InUse, "E": NotInUse},
	},
	{
		name: "rule1/rightToUse and permanentRightToUse rank with permanent, lowest ID serves", platform: "c2900",
		in: Input{Licenses: []*license.License{
			perm("c-perm", "datak9"),
			mk("b-prtu", "datak9", license.PermanentRightToUse),
			mk("a-rtu", "datak9", license.RightToUse),
		}, Packages: []string{"datak9"}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "a-rtu"},
		states:  map[string]State{"a-rtu": InUse, "b-prtu": NotInUse, "c-perm": NotInUse},
	},
	{
		name: "rule1/extension serves before evaluation", platform: "c2900",
		in:      Input{Licenses: []*license.License{ext("E", "securityk9")}, Packages: []string{"securityk9"}, EULAAccepted: true},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "E"},
		states:  map[string]State{"E": InUse},
	},
	{
		name: "rule1/extension, gracePeriod and paidSubscription: most validity left serves", platform: "c2900",
		in: Input{
			Licenses: []*license.License{
				mk("G", "uck9", license.GracePeriod, period(10*day)),
				ext("E", "uck9"),
				sub("S", "uck9", t0.Add(-day), t0.Add(20*day)),
			},
			Used:     map[string]time.Duration{"E": 25 * day},
			Packages: []string{"uck9"},
		},
		enabled: []string{"ipbasek9", "uck9"},
		serving: map[string]string{"uck9": "S"},
		states:  map[string]State{"G": NotInUse, "E": NotInUse, "S": InUse},
	},
	{
		name: "rule1/equal validity left: lowest ID serves", platform: "c2900",
		in:      Input{Licenses: []*license.License{ext("x2", "datak9"), ext("x1", "datak9")}, Packages: []string{"datak9"}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "x1"},
		states:  map[string]State{"x1": InUse, "x2": NotInUse},
	},
	{
		name: "rule1/evaluation serves when nothing better is usable", platform: "c2900",
		in: Input{
			Licenses: []*license.License{ext("E", "securityk9")},
			Used:     map[string]time.Duration{"E": 30 * day},
			Packages: []string{"securityk9"}, EULAAccepted: true,
		},
		enabled:  []string{"ipbasek9", "securityk9"},
		serving:  map[string]string{"securityk9": bSEC},
		states:   map[string]State{"E": ExpiredNotInUse, bSEC: InUse},
		builtins: NotInUse,
	},
	{
		name: "rule1/evaluation needs the EULA", platform: "c2900",
		in:      Input{Packages: []string{"securityk9"}},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: bSEC, Feature: "securityk9", State: NotInUse, Priority: PriorityNone, Remaining: EvalPeriod}},
	},
	{
		name: "rule1/installed license serves before a built-in of equal rank", platform: "c2900",
		in: Input{
			Licenses: []*license.License{perm("zz", "securityk9")},
			Used:     map[string]time.Duration{bSEC: EvalPeriod},
			Packages: []string{"securityk9"}, EULAAccepted: true,
		},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "zz"},
		states:  map[string]State{"zz": InUse},
	},

	// Rule 2: metered licenses.
	{
		name: "rule2/metered license runs while usage is below its period", platform: "c2900",
		in: Input{
			Licenses: []*license.License{ext("E", "securityk9")},
			Used:     map[string]time.Duration{"E": 10 * day},
			Packages: []string{"securityk9"},
		},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "E"},
		states:  map[string]State{"E": InUse},
		ls:      []LicenseState{{ID: "E", Feature: "securityk9", State: InUse, Priority: PriorityLow, Remaining: 20 * day, Used: 10 * day}},
	},
	{
		name: "rule2/metered license expires when usage reaches its period", platform: "c2900",
		in: Input{
			Licenses: []*license.License{ext("E", "securityk9")},
			Used:     map[string]time.Duration{"E": 30 * day},
			Packages: []string{"securityk9"},
		},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: "E", Feature: "securityk9", State: ExpiredNotInUse, Priority: PriorityLow, Used: 30 * day, Expired: true}},
		states:  map[string]State{"E": ExpiredNotInUse},
	},
	{
		name: "rule2/usage beyond the period leaves nothing remaining", platform: "c2900",
		in: Input{
			Licenses: []*license.License{ext("E", "securityk9")},
			Used:     map[string]time.Duration{"E": 45 * day},
		},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: "E", Feature: "securityk9", State: ExpiredNotInUse, Priority: PriorityLow, Used: 45 * day, Expired: true}},
		states:  map[string]State{"E": ExpiredNotInUse},
	},
	{
		name: "rule2/negative usage counts as none", platform: "c2900",
		in: Input{
			Licenses: []*license.License{ext("E", "securityk9")},
			Used:     map[string]time.Duration{"E": -5 * day},
			Packages: []string{"securityk9"},
		},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "E"},
		ls:      []LicenseState{{ID: "E", Feature: "securityk9", State: InUse, Priority: PriorityLow, Remaining: 30 * day}},
		states:  map[string]State{"E": InUse},
	},
	{
		name: "rule2/metered license without a period is inactive", platform: "c2900",
		in:      Input{Licenses: []*license.License{ext("E", "securityk9", period(0))}, Packages: []string{"securityk9"}},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: "E", Feature: "securityk9", State: Inactive, Priority: PriorityNone}},
		states:  map[string]State{"E": Inactive},
	},

	// Rule 3: calendar licenses.
	{
		name: "rule3/subscription runs between its start and end", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "datak9", t0.Add(-10*day), t0.Add(10*day))}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "S"},
		ls:      []LicenseState{{ID: "S", Feature: "datak9", State: InUse, Priority: PriorityLow}},
		states:  map[string]State{"S": InUse},
	},
	{
		name: "rule3/subscription not yet started is inactive", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "datak9", t0.Add(day), t0.Add(10*day))}, Packages: []string{"datak9"}},
		enabled: []string{"ipbasek9"},
		states:  map[string]State{"S": Inactive},
	},
	{
		name: "rule3/subscription starting now runs", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "datak9", t0, t0.Add(10*day))}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "S"},
		states:  map[string]State{"S": InUse},
	},
	{
		name: "rule3/subscription past its end is expiredNotInUse at boot", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "datak9", t0.Add(-10*day), t0.Add(-day))}, Packages: []string{"datak9"}},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: "S", Feature: "datak9", State: ExpiredNotInUse, Priority: PriorityLow, Expired: true}},
		states:  map[string]State{"S": ExpiredNotInUse},
	},
	{
		name: "rule3/subscription ending now is expired", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "datak9", t0.Add(-10*day), t0)}},
		enabled: []string{"ipbasek9"},
		states:  map[string]State{"S": ExpiredNotInUse},
	},
	{
		name: "rule3/subscription expiring after boot is expiredInUse", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "datak9", t0.Add(-10*day), t0.Add(10*day))}},
		after:   func(in *Input) { in.Now = t0.Add(20 * day) },
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "S"},
		states:  map[string]State{"S": ExpiredInUse},
	},
	{
		name: "rule3/subscription without an end is inactive", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "datak9", t0.Add(-10*day), time.Time{})}},
		enabled: []string{"ipbasek9"},
		states:  map[string]State{"S": Inactive},
	},
	{
		name: "rule3/end before start is inactive", platform: "c2900",
		in:      Input{Licenses: []*license.License{perm("P", "datak9", dates(t0.Add(-day), t0.Add(-2*day)))}},
		enabled: []string{"ipbasek9"},
		states:  map[string]State{"P": Inactive},
	},
	{
		name: "rule3/dated extension expires at its end with usage left", platform: "c2900",
		in: Input{
			Licenses: []*license.License{ext("E", "datak9", dates(time.Time{}, t0.Add(-time.Hour)))},
			Packages: []string{"datak9"},
		},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: "E", Feature: "datak9", State: ExpiredNotInUse, Priority: PriorityLow, Remaining: 30 * day, Expired: true}},
		states:  map[string]State{"E": ExpiredNotInUse},
	},
	{
		name: "rule3/undated permanent outlasts a dated one", platform: "c2900",
		in: Input{Licenses: []*license.License{
			perm("A", "datak9", dates(time.Time{}, t0.Add(5*day))),
			perm("B", "datak9"),
		}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "B"},
		states:  map[string]State{"A": NotInUse, "B": InUse},
	},

	// Rule 4: booting an image-level platform.
	{
		name: "rule4/no license boots the base level", platform: "c3750e",
		level: "ipbase", enabled: []string{"ipbase"},
	},
	{
		name: "rule4/configured level runs on its permanent license", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("P", "ipservices")}, BootLevel: "ipservices"},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "P"},
		states:  map[string]State{"P": InUse},
	},
	{
		name: "rule4/higher-level permanent license serves a configured lower level", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("A", "advipservices")}, BootLevel: "ipservices"},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "A"},
		states:  map[string]State{"A": InUse},
	},
	{
		name: "rule4/license for exactly the level serves before a higher one", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("a-adv", "advipservices"), perm("z-ips", "ipservices")}, BootLevel: "ipservices"},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "z-ips"},
		states:  map[string]State{"a-adv": NotInUse, "z-ips": InUse},
	},
	{
		name: "rule4/higher-level permanent serves before the level's evaluation", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("A", "advipservices")}, BootLevel: "ipservices", EULAAccepted: true},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "A"},
		states:  map[string]State{"A": InUse},
	},
	{
		name: "rule4/unlicensed configured level falls back to the highest licensed level", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("P", "ipservices")}, BootLevel: "advipservices"},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "P"},
		states:  map[string]State{"P": InUse},
	},
	{
		name: "rule4/no configured level runs the highest licensed level", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("P", "ipservices"), perm("A", "advipservices")}},
		level: "advipservices", enabled: []string{"ipbase", "ipservices", "advipservices"},
		serving: map[string]string{"ipservices": "A", "advipservices": "A"},
		states:  map[string]State{"P": NotInUse, "A": InUse},
	},
	{
		name: "rule4/configured evaluation runs once the EULA is accepted", platform: "c3750e",
		in:    Input{BootLevel: "ipservices", EULAAccepted: true},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": bIPS},
		ls:      []LicenseState{{ID: bIPS, Feature: "ipservices", State: InUse, Priority: PriorityLow, Remaining: EvalPeriod}},
		states:  map[string]State{bIPS: InUse},
	},
	{
		name: "rule4/configured evaluation without the EULA falls back to the base", platform: "c3750e",
		in:    Input{BootLevel: "ipservices"},
		level: "ipbase", enabled: []string{"ipbase"},
	},
	{
		name: "rule4/evaluation never starts without a configured level", platform: "c3750e",
		in:    Input{EULAAccepted: true},
		level: "ipbase", enabled: []string{"ipbase"},
	},
	{
		name: "rule4/higher-level evaluation does not serve a lower configured level", platform: "c3750e",
		in: Input{
			BootLevel: "ipservices", EULAAccepted: true,
			Used: map[string]time.Duration{bIPS: EvalPeriod},
		},
		level: "ipbase", enabled: []string{"ipbase"},
		states: map[string]State{bIPS: ExpiredNotInUse, bADV: NotInUse},
	},
	{
		name: "rule4/expired configured evaluation falls back past other evaluations", platform: "c3750e",
		in: Input{
			Licenses:  []*license.License{perm("B", "ipbase")},
			BootLevel: "advipservices", EULAAccepted: true,
			Used: map[string]time.Duration{bADV: EvalPeriod + day},
		},
		level: "ipbase", enabled: []string{"ipbase"},
		serving: map[string]string{"ipbase": "B"},
		states:  map[string]State{"B": InUse, bADV: ExpiredNotInUse, bIPS: NotInUse},
	},
	{
		name: "rule4/unknown boot level is treated as none", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("P", "ipservices")}, BootLevel: "enterprise", EULAAccepted: true},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "P"},
		states:  map[string]State{"P": InUse},
	},
	{
		name: "rule4/configured base level runs although higher levels are licensed", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("A", "advipservices")}, BootLevel: "ipbase"},
		level: "ipbase", enabled: []string{"ipbase"},
		states: map[string]State{"A": NotInUse},
	},
	{
		name: "rule4/base level is served by its own license", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("B", "ipbase")}},
		level: "ipbase", enabled: []string{"ipbase"},
		serving: map[string]string{"ipbase": "B"},
		states:  map[string]State{"B": InUse},
	},
	{
		name: "rule4/base license is not in use under a higher level", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("B", "ipbase"), perm("P", "ipservices")}},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "P"},
		states:  map[string]State{"B": NotInUse, "P": InUse},
	},
	{
		name: "rule4/extension serves a configured level", platform: "c3750e",
		in:    Input{Licenses: []*license.License{ext("E", "advipservices")}, BootLevel: "advipservices"},
		level: "advipservices", enabled: []string{"ipbase", "ipservices", "advipservices"},
		serving: map[string]string{"ipservices": "E", "advipservices": "E"},
		states:  map[string]State{"E": InUse},
	},

	// Rule 5: booting a technology-package platform.
	{
		name: "rule5/base package always runs", platform: "c2900",
		enabled: []string{"ipbasek9"},
	},
	{
		name: "rule5/base package is served by its license", platform: "c2900",
		in:      Input{Licenses: []*license.License{perm("K", "ipbasek9")}},
		enabled: []string{"ipbasek9"},
		serving: map[string]string{"ipbasek9": "K"},
		states:  map[string]State{"K": InUse},
	},
	{
		name: "rule5/configured package runs on its permanent license", platform: "c2900",
		in:      Input{Licenses: []*license.License{perm("P", "uck9")}, Packages: []string{"uck9"}},
		enabled: []string{"ipbasek9", "uck9"},
		serving: map[string]string{"uck9": "P"},
		states:  map[string]State{"P": InUse},
	},
	{
		name: "rule5/permanent license activates an unconfigured package", platform: "c2900",
		in:      Input{Licenses: []*license.License{perm("P", "datak9")}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "P"},
		states:  map[string]State{"P": InUse},
	},
	{
		name: "rule5/rightToUse license activates an unconfigured package", platform: "c2900",
		in:      Input{Licenses: []*license.License{mk("R", "datak9", license.RightToUse)}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "R"},
		states:  map[string]State{"R": InUse},
	},
	{
		name: "rule5/paid subscription activates an unconfigured package", platform: "c2900",
		in:      Input{Licenses: []*license.License{sub("S", "securityk9", t0.Add(-day), t0.Add(day))}},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "S"},
		states:  map[string]State{"S": InUse},
	},
	{
		name: "rule5/extension needs the package configured", platform: "c2900",
		in:      Input{Licenses: []*license.License{ext("E", "uck9")}},
		enabled: []string{"ipbasek9"},
		states:  map[string]State{"E": NotInUse},
	},
	{
		name: "rule5/extension serves a configured package", platform: "c2900",
		in:      Input{Licenses: []*license.License{ext("E", "uck9")}, Packages: []string{"uck9"}},
		enabled: []string{"ipbasek9", "uck9"},
		serving: map[string]string{"uck9": "E"},
		states:  map[string]State{"E": InUse},
	},
	{
		name: "rule5/expired permanent-class license does not activate a package", platform: "c2900",
		in: Input{Licenses: []*license.License{
			perm("P", "uck9", dates(time.Time{}, t0.Add(-day))),
			ext("E", "uck9"),
		}},
		enabled: []string{"ipbasek9"},
		states:  map[string]State{"P": ExpiredNotInUse, "E": NotInUse},
	},
	{
		name: "rule5/permanent activation lets a better temporary license serve", platform: "c2900",
		in: Input{Licenses: []*license.License{
			sub("S", "uck9", t0.Add(-day), t0.Add(90*day)),
			ext("E", "uck9"),
		}},
		enabled: []string{"ipbasek9", "uck9"},
		serving: map[string]string{"uck9": "S"},
		states:  map[string]State{"S": InUse, "E": NotInUse},
	},
	{
		name: "rule5/evaluation does not serve a package it did not configure", platform: "c2900",
		in: Input{
			Licenses:     []*license.License{sub("S", "uck9", t0.Add(-day), t0.Add(day))},
			Used:         map[string]time.Duration{bUC: EvalPeriod},
			EULAAccepted: true,
		},
		enabled: []string{"ipbasek9", "uck9"},
		serving: map[string]string{"uck9": "S"},
		states:  map[string]State{"S": InUse, bUC: NotInUse},
	},
	{
		name: "rule5/evaluation license of the base package is not used", platform: "c2900",
		in: Input{
			Licenses: []*license.License{mk("V", "ipbasek9", license.Evaluation, period(EvalPeriod))},
			Packages: []string{"ipbasek9"}, EULAAccepted: true,
		},
		enabled: []string{"ipbasek9"},
		states:  map[string]State{"V": NotInUse},
	},
	{
		name: "rule5/evaluation needs the package configured", platform: "c2900",
		in:      Input{EULAAccepted: true},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: bSEC, Feature: "securityk9", State: NotInUse, Priority: PriorityLow, Remaining: EvalPeriod}},
	},
	{
		name: "rule5/configured evaluation runs once the EULA is accepted", platform: "c2900",
		in:      Input{Packages: []string{"datak9"}, EULAAccepted: true},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": bDATA},
		states:  map[string]State{bDATA: InUse},
	},
	{
		name: "rule5/configured package without a usable license does not run", platform: "c2900",
		in:      Input{Packages: []string{"datak9"}},
		enabled: []string{"ipbasek9"},
	},
	{
		name: "rule5/packages are independent", platform: "c2900",
		in: Input{
			Licenses: []*license.License{perm("P", "securityk9")},
			Packages: []string{"datak9"}, EULAAccepted: true,
		},
		enabled: []string{"ipbasek9", "securityk9", "datak9"},
		serving: map[string]string{"securityk9": "P", "datak9": bDATA},
		states:  map[string]State{"P": InUse, bDATA: InUse},
	},
	{
		name: "rule5/unknown and base package names are ignored", platform: "c2900",
		in:      Input{Packages: []string{"enterprise", "ipbasek9", ""}, EULAAccepted: true},
		enabled: []string{"ipbasek9"},
	},

	// Rule 6: counted features.
	{
		name: "rule6/built-in units alone", platform: "uc500",
		in:      Input{InUse: map[string]int{"phones": 3}},
		enabled: []string{"base", "phones"},
		counted: map[string]Capacity{"phones": {Capacity: 8, InUse: 3}},
	},
	{
		name: "rule6/additive licenses add up", platform: "uc500",
		in: Input{
			Licenses: []*license.License{
				perm("a2", "phones", units(16, license.Additive)),
				perm("a1", "phones", units(8, license.Additive)),
			},
			InUse: map[string]int{"phones": 10},
		},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "a1"},
		states:  map[string]State{"a1": InUse, "a2": InUse},
		counted: map[string]Capacity{"phones": {Capacity: 32, InUse: 10}},
	},
	{
		name: "rule6/only the largest exclusive license counts", platform: "uc500",
		in: Input{
			Licenses: []*license.License{
				perm("x1", "phones", units(12, license.Exclusive)),
				perm("x2", "phones", units(24, license.Exclusive)),
			},
			InUse: map[string]int{"phones": 5},
		},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "x2"},
		states:  map[string]State{"x1": NotInUse, "x2": InUse},
		counted: map[string]Capacity{"phones": {Capacity: 32, InUse: 5}},
	},
	{
		name: "rule6/built-in plus additive sum plus largest exclusive", platform: "uc500",
		in: Input{
			Licenses: []*license.License{
				perm("a1", "phones", units(4, license.Additive)),
				perm("x1", "phones", units(10, license.Exclusive)),
				perm("a2", "phones", units(6, license.Additive)),
				perm("x2", "phones", units(20, license.Exclusive)),
			},
			InUse: map[string]int{"phones": 1},
		},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "a1"},
		states:  map[string]State{"a1": InUse, "a2": InUse, "x1": NotInUse, "x2": InUse},
		counted: map[string]Capacity{"phones": {Capacity: 38, InUse: 1}},
	},
	{
		name: "rule6/empty addition counts as exclusive", platform: "uc500",
		in: Input{Licenses: []*license.License{
			perm("e1", "phones", units(5, "")),
			perm("e2", "phones", units(7, "")),
		}},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "e2"},
		states:  map[string]State{"e1": NotInUse, "e2": NotInUse},
		counted: map[string]Capacity{"phones": {Capacity: 15}},
	},
	{
		name: "rule6/equal exclusive counts: the better license adds them", platform: "uc500",
		in: Input{Licenses: []*license.License{
			ext("a", "phones", units(10, license.Exclusive)),
			perm("b", "phones", units(10, license.Exclusive)),
		}, InUse: map[string]int{"phones": 2}},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "b"},
		states:  map[string]State{"a": NotInUse, "b": InUse},
		counted: map[string]Capacity{"phones": {Capacity: 18, InUse: 2}},
	},
	{
		name: "rule6/units in use beyond capacity are a violation", platform: "uc500",
		in:      Input{InUse: map[string]int{"phones": 12}},
		enabled: []string{"base", "phones"},
		counted: map[string]Capacity{"phones": {Capacity: 8, InUse: 12, Violation: 4}},
	},
	{
		name: "rule6/licenses at capacity are usageCountConsumed", platform: "uc500",
		in: Input{
			Licenses: []*license.License{perm("A", "phones", units(8, license.Additive))},
			InUse:    map[string]int{"phones": 16},
		},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "A"},
		states:  map[string]State{"A": UsageCountConsumed},
		counted: map[string]Capacity{"phones": {Capacity: 16, InUse: 16}},
	},
	{
		name: "rule6/licenses with no units in use are notInUse", platform: "uc500",
		in:      Input{Licenses: []*license.License{perm("A", "phones", units(8, license.Additive))}},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "A"},
		ls:      []LicenseState{{ID: "A", Feature: "phones", State: NotInUse, Priority: PriorityMedium}},
		states:  map[string]State{"A": NotInUse},
		counted: map[string]Capacity{"phones": {Capacity: 16}},
	},
	{
		name: "rule6/count zero is inactive", platform: "uc500",
		in:      Input{Licenses: []*license.License{perm("Z", "phones")}, InUse: map[string]int{"phones": 8}},
		enabled: []string{"base", "phones"},
		states:  map[string]State{"Z": Inactive},
		counted: map[string]Capacity{"phones": {Capacity: 8, InUse: 8}},
	},
	{
		name: "rule6/negative count is inactive", platform: "uc500",
		in:      Input{Licenses: []*license.License{perm("N", "phones", units(-4, license.Additive))}},
		enabled: []string{"base", "phones"},
		states:  map[string]State{"N": Inactive},
		counted: map[string]Capacity{"phones": {Capacity: 8}},
	},
	{
		name: "rule6/expired counted license adds nothing", platform: "uc500",
		in: Input{
			Licenses: []*license.License{ext("E", "phones", units(10, license.Additive))},
			Used:     map[string]time.Duration{"E": 30 * day},
		},
		enabled: []string{"base", "phones"},
		states:  map[string]State{"E": ExpiredNotInUse},
		counted: map[string]Capacity{"phones": {Capacity: 8}},
	},
	{
		name: "rule6/capacity applies at once after boot", platform: "uc500",
		in: Input{InUse: map[string]int{"phones": 8}},
		after: func(in *Input) {
			in.Licenses = []*license.License{perm("A", "phones", units(10, license.Additive))}
			in.InUse = map[string]int{"phones": 9}
		},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "A"},
		states:  map[string]State{"A": InUse},
		counted: map[string]Capacity{"phones": {Capacity: 18, InUse: 9}},
	},
	{
		name: "rule6/counted license expiring after boot stops adding at once", platform: "uc500",
		in: Input{
			Licenses: []*license.License{ext("E", "phones", units(10, license.Additive))},
			InUse:    map[string]int{"phones": 12},
		},
		after:   func(in *Input) { in.Used = map[string]time.Duration{"E": 30 * day} },
		enabled: []string{"base", "phones"},
		states:  map[string]State{"E": ExpiredInUse},
		counted: map[string]Capacity{"phones": {Capacity: 8, InUse: 12, Violation: 4}},
	},
	{
		name: "rule6/counts saturate instead of overflowing", platform: "uc500",
		in: Input{Licenses: []*license.License{
			perm("m1", "phones", units(math.MaxInt, license.Additive)),
			perm("m2", "phones", units(math.MaxInt, license.Additive)),
			perm("m3", "phones", units(math.MaxInt, license.Exclusive)),
		}, InUse: map[string]int{"phones": math.MaxInt}},
		enabled: []string{"base", "phones"},
		serving: map[string]string{"phones": "m1"},
		states:  map[string]State{"m1": UsageCountConsumed, "m2": UsageCountConsumed, "m3": UsageCountConsumed},
		counted: map[string]Capacity{"phones": {Capacity: math.MaxInt, InUse: math.MaxInt}},
	},
	{
		name: "rule6/negative units in use count as none", platform: "uc500",
		in:      Input{InUse: map[string]int{"phones": -3}},
		enabled: []string{"base", "phones"},
		counted: map[string]Capacity{"phones": {Capacity: 8}},
	},
	{
		name: "rule6/counted feature of an image-level platform", catalog: portsCatalog(),
		in: Input{
			Licenses:  []*license.License{perm("L", "l2"), perm("C", "ports", units(24, license.Additive))},
			BootLevel: "l2",
			InUse:     map[string]int{"ports": 30},
		},
		level: "l2", enabled: []string{"l1", "ports", "l2"},
		serving: map[string]string{"l2": "L", "ports": "C"},
		states:  map[string]State{"L": InUse, "C": UsageCountConsumed},
		counted: map[string]Capacity{"ports": {Capacity: 24, InUse: 30, Violation: 6}},
	},

	// Rule 7: after boot only states change.
	{
		name: "rule7/running level is kept when its license is cleared", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("P", "ipservices")}, BootLevel: "ipservices"},
		after: func(in *Input) { in.Licenses = nil },
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": "P"},
	},
	{
		name: "rule7/expired evaluation keeps running as expiredInUse", platform: "c3750e",
		in: Input{
			BootLevel: "ipservices", EULAAccepted: true,
			Used: map[string]time.Duration{bIPS: EvalPeriod - time.Hour},
		},
		after: func(in *Input) { in.Used = map[string]time.Duration{bIPS: EvalPeriod} },
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": bIPS},
		ls:      []LicenseState{{ID: bIPS, Feature: "ipservices", State: ExpiredInUse, Priority: PriorityLow, Used: EvalPeriod, Expired: true}},
		states:  map[string]State{bIPS: ExpiredInUse},
	},
	{
		name: "rule7/license installed after boot waits for the reload", platform: "c3750e",
		after: func(in *Input) {
			in.Licenses = []*license.License{perm("A", "advipservices")}
			in.BootLevel = "advipservices"
		},
		level: "ipbase", enabled: []string{"ipbase"},
		states: map[string]State{"A": NotInUse},
	},
	{
		name: "rule7/package configured after boot waits for the reload", platform: "c2900",
		in:      Input{EULAAccepted: true},
		after:   func(in *Input) { in.Packages = []string{"uck9"} },
		enabled: []string{"ipbasek9"},
		states:  map[string]State{bUC: NotInUse},
	},
	{
		name: "rule7/expired license not serving is expiredNotInUse", platform: "c2900",
		in: Input{
			Licenses: []*license.License{perm("P", "securityk9"), ext("E", "securityk9")},
			Packages: []string{"securityk9"},
		},
		after:   func(in *Input) { in.Used = map[string]time.Duration{"E": 30 * day} },
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "P"},
		states:  map[string]State{"P": InUse, "E": ExpiredNotInUse},
	},
	{
		name: "rule7/usable license not serving is notInUse", platform: "c2900",
		in:      Input{Licenses: []*license.License{ext("E", "datak9")}, Packages: []string{"datak9"}},
		after:   func(in *Input) { in.Licenses = append(in.Licenses, perm("P", "datak9")) },
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "E"},
		states:  map[string]State{"E": InUse, "P": NotInUse},
	},

	// Rule 8: built-in evaluations and priorities.
	{
		name: "rule8/evaluation before the EULA is notInUse with priority None", platform: "c3750e",
		level: "ipbase", enabled: []string{"ipbase"},
		ls: []LicenseState{
			{ID: bIPS, Feature: "ipservices", State: NotInUse, Priority: PriorityNone, Remaining: EvalPeriod},
			{ID: bADV, Feature: "advipservices", State: NotInUse, Priority: PriorityNone, Remaining: EvalPeriod},
		},
	},
	{
		name: "rule8/evaluation after the EULA has priority Low", platform: "c2900",
		in:      Input{EULAAccepted: true, Used: map[string]time.Duration{bUC: day}},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: bUC, Feature: "uck9", State: NotInUse, Priority: PriorityLow, Remaining: EvalPeriod - day, Used: day}},
	},
	{
		name: "rule8/priority by class", platform: "c2900",
		in: Input{Licenses: []*license.License{
			perm("1", "securityk9"),
			mk("2", "securityk9", license.PermanentRightToUse),
			mk("3", "securityk9", license.RightToUse),
			ext("4", "securityk9"),
			mk("5", "securityk9", license.GracePeriod),
			sub("6", "securityk9", t0.Add(-day), t0.Add(day)),
		}},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": "1"},
		states:  map[string]State{"1": InUse, "2": NotInUse, "3": NotInUse, "4": NotInUse, "5": NotInUse, "6": NotInUse},
		ls: []LicenseState{
			{ID: "1", Feature: "securityk9", State: InUse, Priority: PriorityMedium},
			{ID: "2", Feature: "securityk9", State: NotInUse, Priority: PriorityMedium},
			{ID: "3", Feature: "securityk9", State: NotInUse, Priority: PriorityMedium},
			{ID: "4", Feature: "securityk9", State: NotInUse, Priority: PriorityLow, Remaining: 30 * day},
			{ID: "5", Feature: "securityk9", State: NotInUse, Priority: PriorityLow, Remaining: 30 * day},
			{ID: "6", Feature: "securityk9", State: NotInUse, Priority: PriorityLow},
		},
	},
	{
		name: "rule8/evaluation is never inUse without the EULA", platform: "c2900",
		in: Input{
			EULAAccepted: false,
			Running:      &Result{Enabled: []string{"ipbasek9", "datak9"}, Serving: map[string]string{"datak9": bDATA}},
		},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": bDATA},
		ls:      []LicenseState{{ID: bDATA, Feature: "datak9", State: NotInUse, Priority: PriorityNone, Remaining: EvalPeriod}},
	},

	// Rule 9: what the catalog does not know.
	{
		name: "rule9/license for a feature not in the catalog is inactive", platform: "c3750e",
		in:    Input{Licenses: []*license.License{perm("X", "securityk9"), perm("Y", "")}},
		level: "ipbase", enabled: []string{"ipbase"},
		ls: []LicenseState{
			{ID: "X", Feature: "securityk9", State: Inactive, Priority: PriorityNone},
			{ID: "Y", State: Inactive, Priority: PriorityNone},
		},
		states: map[string]State{"X": Inactive, "Y": Inactive},
	},
	{
		name: "rule9/license of an unknown type is inactive", platform: "c3750e",
		in:    Input{Licenses: []*license.License{mk("T", "ipservices", "demo")}, BootLevel: "ipservices", EULAAccepted: true},
		level: "ipservices", enabled: []string{"ipbase", "ipservices"},
		serving: map[string]string{"ipservices": bIPS},
		states:  map[string]State{"T": Inactive, bIPS: InUse},
	},
	{
		name: "rule9/nil license is inactive", platform: "c2900",
		in:      Input{Licenses: []*license.License{nil, perm("P", "datak9")}},
		enabled: []string{"ipbasek9", "datak9"},
		serving: map[string]string{"datak9": "P"},
		states:  map[string]State{"": Inactive, "P": InUse},
	},

	{
		name: "rule9/image-level catalog without levels runs only its counted features",
		catalog: &Catalog{Kind: ImageLevels, Features: []Feature{
			{Name: "ports", Version: "1.0", Counted: true, BuiltIn: 2, WhatIsCounted: "ports"},
		}},
		in:      Input{BootLevel: "ports", Licenses: []*license.License{perm("C", "ports", units(2, license.Additive))}},
		enabled: []string{"ports"},
		serving: map[string]string{"ports": "C"},
		states:  map[string]State{"C": NotInUse},
		counted: map[string]Capacity{"ports": {Capacity: 4}},
	},

	// Rule 11: evalRightToUse becomes rightToUse; evaluation expires.
	{
		name: "rule11/evalRightToUse becomes rightToUse when its period is used", platform: "c2900",
		in: Input{
			Packages: []string{"securityk9"}, EULAAccepted: true,
			Used: map[string]time.Duration{bSEC: EvalPeriod + 3*day},
		},
		enabled: []string{"ipbasek9", "securityk9"},
		serving: map[string]string{"securityk9": bSEC},
		ls:      []LicenseState{{ID: bSEC, Feature: "securityk9", State: InUse, Priority: PriorityMedium, Used: EvalPeriod + 3*day, RightToUse: true}},
		states:  map[string]State{bSEC: InUse},
	},
	{
		name: "rule11/evalRightToUse reaching its period after boot stays inUse", platform: "c2900",
		in: Input{
			Packages: []string{"uck9"}, EULAAccepted: true,
			Used: map[string]time.Duration{bUC: EvalPeriod - day},
		},
		after:   func(in *Input) { in.Used = map[string]time.Duration{bUC: EvalPeriod} },
		enabled: []string{"ipbasek9", "uck9"},
		serving: map[string]string{"uck9": bUC},
		ls:      []LicenseState{{ID: bUC, Feature: "uck9", State: InUse, Priority: PriorityMedium, Used: EvalPeriod, RightToUse: true}},
		states:  map[string]State{bUC: InUse},
	},
	{
		name: "rule11/rightToUse from an evaluation still needs the package configured", platform: "c2900",
		in: Input{
			EULAAccepted: true,
			Used:         map[string]time.Duration{bSEC: EvalPeriod},
		},
		enabled: []string{"ipbasek9"},
		ls:      []LicenseState{{ID: bSEC, Feature: "securityk9", State: NotInUse, Priority: PriorityMedium, Used: EvalPeriod, RightToUse: true}},
	},
	{
		name: "rule11/evaluation expires instead", platform: "c3750e",
		in: Input{
			BootLevel: "advipservices", EULAAccepted: true,
			Used: map[string]time.Duration{bADV: EvalPeriod},
		},
		level: "ipbase", enabled: []string{"ipbase"},
		ls:     []LicenseState{{ID: bADV, Feature: "advipservices", State: ExpiredNotInUse, Priority: PriorityLow, Used: EvalPeriod, Expired: true}},
		states: map[string]State{bADV: ExpiredNotInUse},
	},
}

// portsCatalog is an image-level platform with a counted feature in the
// middle of its list.
func portsCatalog() *Catalog {
	return &Catalog{
		Platform: "test", Kind: ImageLevels,
		Features: []Feature{
			{Name: "l1", Version: "1.0", Rank: 0, Base: true},
			{Name: "ports", Version: "1.0", Rank: 1, Counted: true, WhatIsCounted: "ports"},
			{Name: "l2", Version: "1.0", Rank: 1},
		},
	}
}

func TestResolveRules(t *testing.T) {
	for _, tc := range resolveCases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Catalog = tc.catalog
			if tc.platform != "" {
				c, ok := Lookup(tc.platform)
				if !ok {
					t.Fatalf("Lookup(%q) failed", tc.platform)
				}
				in.Catalog = c
			}
			if in.Now.IsZero() {
				in.Now = t0
			}
			if tc.after != nil {
				boot := Resolve(in)
				tc.after(&in)
				in.Running = &boot
			}
			got := Resolve(in)
			checkResult(t, tc, got)
		})
	}
}

func checkResult(t *testing.T, tc resolveCase, got Result) {
	t.Helper()
	if got.Level != tc.level {
		t.Errorf("Level = %q, want %q", got.Level, tc.level)
	}
	if !slices.Equal(got.Enabled, tc.enabled) {
		t.Errorf("Enabled = %q, want %q", got.Enabled, tc.enabled)
	}
	wantServing := tc.serving
	if wantServing == nil {
		wantServing = map[string]string{}
	}
	if !reflect.DeepEqual(got.Serving, wantServing) {
		t.Errorf("Serving = %v, want %v", got.Serving, wantServing)
	}
	builtins := tc.builtins
	if builtins == "" {
		builtins = NotInUse
	}
	seen := map[string]bool{}
	for _, ls := range got.Licenses {
		seen[ls.ID] = true
		want, ok := tc.states[ls.ID]
		if !ok {
			if !IsBuiltIn(ls.ID) {
				t.Errorf("license %q: state %s not expected by the case", ls.ID, ls.State)
				continue
			}
			want = builtins
		}
		if ls.State != want {
			t.Errorf("license %q: State = %s, want %s", ls.ID, ls.State, want)
		}
	}
	for id := range tc.states {
		if !seen[id] {
			t.Errorf("license %q missing from the result", id)
		}
	}
	for _, want := range tc.ls {
		i := slices.IndexFunc(got.Licenses, func(ls LicenseState) bool { return ls.ID == want.ID })
		if i < 0 {
			t.Errorf("license %q missing from the result", want.ID)
			continue
		}
		if got.Licenses[i] != want {
			t.Errorf("license %q:\n got  %+v\n want %+v", want.ID, got.Licenses[i], want)
		}
	}
	if tc.counted != nil && !reflect.DeepEqual(got.Counted, tc.counted) {
		t.Errorf("Counted = %+v, want %+v", got.Counted, tc.counted)
	}
}

func TestResolveZeroInput(t *testing.T) {
	got := Resolve(Input{})
	if got.Level != "" || len(got.Enabled) != 0 || len(got.Serving) != 0 || len(got.Licenses) != 0 || len(got.Counted) != 0 {
		t.Errorf("Resolve(Input{}) = %+v, want an empty result", got)
	}
	// Without a catalog every license is inactive.
	got = Resolve(Input{Licenses: []*license.License{perm("P", "ipservices"), nil}})
	want := []LicenseState{
		{ID: "P", Feature: "ipservices", State: Inactive, Priority: PriorityNone},
		{State: Inactive, Priority: PriorityNone},
	}
	if !reflect.DeepEqual(got.Licenses, want) {
		t.Errorf("licenses without a catalog = %+v, want %+v", got.Licenses, want)
	}
	// A catalog and nothing else boots the base feature set at the zero time.
	for _, p := range Platforms() {
		c, _ := Lookup(p)
		got := Resolve(Input{Catalog: c})
		var want []string
		for _, f := range c.Features {
			if f.Base || f.Counted {
				want = append(want, f.Name)
			}
		}
		if !slices.Equal(got.Enabled, want) {
			t.Errorf("%s: Enabled = %q, want %q", p, got.Enabled, want)
		}
		if c.Kind == ImageLevels && got.Level != c.Base().Name {
			t.Errorf("%s: Level = %q, want %q", p, got.Level, c.Base().Name)
		}
		if len(got.Licenses) != len(BuiltIns(c)) {
			t.Errorf("%s: %d license states, want one per built-in (%d)", p, len(got.Licenses), len(BuiltIns(c)))
		}
	}
}

func TestResolveOrder(t *testing.T) {
	c, _ := Lookup("c2900")
	lics := []*license.License{
		perm("z", "uck9"),
		ext("m", "securityk9"),
		perm("a", "datak9"),
		// Shadows the built-in of securityk9: it is an input license and
		// the built-in is not listed again.
		mk(bSEC, "securityk9", license.EvalRightToUse, period(EvalPeriod)),
	}
	in := Input{
		Catalog:  c,
		Licenses: lics,
		Packages: []string{"uck9", "securityk9", "datak9"},
		Now:      t0,
	}
	got := Resolve(in)
	var ids []string
	for _, ls := range got.Licenses {
		ids = append(ids, ls.ID)
	}
	wantIDs := []string{"z", "m", "a", bSEC, bDATA, bUC}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("license order = %q, want %q", ids, wantIDs)
	}
	wantEnabled := []string{"ipbasek9", "securityk9", "datak9", "uck9"}
	if !slices.Equal(got.Enabled, wantEnabled) {
		t.Errorf("Enabled = %q, want %q (catalog order)", got.Enabled, wantEnabled)
	}
	for i := 0; i < 20; i++ {
		if again := Resolve(in); !reflect.DeepEqual(again, got) {
			t.Fatalf("Resolve is not deterministic:\n%+v\n%+v", got, again)
		}
	}
}

func TestResolveDoesNotChangeItsInput(t *testing.T) {
	c, _ := Lookup("c3750e")
	running := &Result{
		Level:   "ipservices",
		Enabled: []string{"ipbase", "ipservices"},
		Serving: map[string]string{"ipservices": "P"},
	}
	in := Input{
		Catalog:  c,
		Licenses: []*license.License{perm("P", "ipservices")},
		Running:  running,
		Now:      t0,
	}
	got := Resolve(in)
	got.Enabled[0] = "changed"
	got.Serving["ipservices"] = "changed"
	if running.Enabled[0] != "ipbase" || running.Serving["ipservices"] != "P" {
		t.Errorf("changing the result changed Input.Running: %+v", running)
	}
}

func BenchmarkResolve1000(b *testing.B) {
	c, _ := Lookup("c2900")
	feats := []string{"ipbasek9", "securityk9", "datak9", "uck9"}
	in := Input{
		Catalog:      c,
		Packages:     []string{"securityk9", "datak9"},
		EULAAccepted: true,
		Used:         map[string]time.Duration{},
		Now:          t0,
	}
	for i := range 1000 {
		id := "L" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		f := feats[i%len(feats)]
		var l *license.License
		switch i % 4 {
		case 0:
			l = perm(id, f)
		case 1:
			l = ext(id, f)
			in.Used[id] = time.Duration(i) * time.Hour
		case 2:
			l = sub(id, f, t0.Add(-time.Duration(i)*time.Hour), t0.Add(time.Duration(i)*time.Hour))
		default:
			l = mk(id, f, license.GracePeriod)
		}
		in.Licenses = append(in.Licenses, l)
	}
	boot := Resolve(in)
	in.Running = &boot
	b.ReportAllocs()
	for b.Loop() {
		Resolve(in)
	}
}
