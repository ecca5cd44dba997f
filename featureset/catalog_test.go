package featureset

import (
	"slices"
	"testing"

	"github.com/licensed-dev/licensed/license"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		platform    string
		kind        Kind
		module      string
		description string
		features    []string
		base        string
		evals       []string // built-in evaluation IDs, catalog order
		evalType    license.Type
	}{
		{
			platform: "c3750e", kind: ImageLevels, module: "c3750e", description: "Catalyst 3750-E switch",
			features: []string{"ipbase", "ipservices", "advipservices"}, base: "ipbase",
			evals: []string{bIPS, bADV}, evalType: license.Evaluation,
		},
		{
			platform: "c2900", kind: TechnologyPackages, module: "c2900", description: "Cisco 2900 series router",
			features: []string{"ipbasek9", "securityk9", "datak9", "uck9"}, base: "ipbasek9",
			evals: []string{bSEC, bDATA, bUC}, evalType: license.EvalRightToUse,
		},
		{
			platform: "uc500", kind: Counted, module: "uc500", description: "UC500 unified communications",
			features: []string{"base", "phones"}, base: "base",
		},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			c, ok := Lookup(tt.platform)
			if !ok || c == nil {
				t.Fatalf("Lookup(%q) = %v, %v", tt.platform, c, ok)
			}
			if c.Platform != tt.platform || c.Kind != tt.kind || c.Module != tt.module || c.Description != tt.description {
				t.Errorf("catalog = {%q %q %q %q}, want {%q %q %q %q}",
					c.Platform, c.Kind, c.Module, c.Description, tt.platform, tt.kind, tt.module, tt.description)
			}
			var names []string
			for _, f := range c.Features {
				names = append(names, f.Name)
				if f.Version != "1.0" {
					t.Errorf("%s: Version = %q, want 1.0", f.Name, f.Version)
				}
				if f.Description == "" {
					t.Errorf("%s: no description", f.Name)
				}
				if f.Base && (f.Rank != 0 || f.Eval != "" || f.Counted) {
					t.Errorf("%s: base feature with rank %d, eval %q, counted %v", f.Name, f.Rank, f.Eval, f.Counted)
				}
				if f.Counted && f.WhatIsCounted == "" {
					t.Errorf("%s: counted feature without WhatIsCounted", f.Name)
				}
			}
			if !slices.Equal(names, tt.features) {
				t.Errorf("features = %q, want %q", names, tt.features)
			}
			if b := c.Base(); b == nil || b.Name != tt.base {
				t.Errorf("Base() = %v, want %s", b, tt.base)
			}
			var ids []string
			for _, l := range BuiltIns(c) {
				ids = append(ids, l.ID)
				want := license.License{
					ID: l.ID, Feature: l.ID[len(BuiltInPrefix):], Version: "1.0", Type: tt.evalType,
					Addition: license.Additive, Period: EvalPeriod,
				}
				if l.Feature != want.Feature || l.Version != want.Version || l.Type != want.Type ||
					l.Addition != want.Addition || l.Period != want.Period || l.Locked() || l.Count != 0 {
					t.Errorf("built-in %s = %+v, want %+v", l.ID, *l, want)
				}
				if !IsBuiltIn(l.ID) || l.ID != BuiltInID(l.Feature) {
					t.Errorf("built-in ID %q does not round-trip", l.ID)
				}
			}
			if !slices.Equal(ids, tt.evals) {
				t.Errorf("built-ins = %q, want %q", ids, tt.evals)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, p := range []string{"", "C3750E", "c3750e ", "c9300", "builtin:"} {
		if c, ok := Lookup(p); ok || c != nil {
			t.Errorf("Lookup(%q) = %v, %v; want nil, false", p, c, ok)
		}
	}
}

func TestPlatforms(t *testing.T) {
	ps := Platforms()
	if !slices.Equal(ps, []string{"c2900", "c3750e", "uc500"}) {
		t.Errorf("Platforms() = %q", ps)
	}
	ps[0] = "changed"
	if Platforms()[0] != "c2900" {
		t.Error("changing the result of Platforms changed the next result")
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	a, _ := Lookup("c2900")
	a.Features[1].Name = "changed"
	a.Description = "changed"
	b, _ := Lookup("c2900")
	if b.Features[1].Name != "securityk9" || b.Description != "Cisco 2900 series router" {
		t.Error("changing one catalog changed the next Lookup")
	}
}

func TestTechnologyNames(t *testing.T) {
	c, _ := Lookup("c2900")
	want := map[string]string{"ipbasek9": "ipbase", "securityk9": "security", "datak9": "data", "uck9": "uc"}
	for _, f := range c.Features {
		if f.Technology != want[f.Name] {
			t.Errorf("%s: Technology = %q, want %q", f.Name, f.Technology, want[f.Name])
		}
	}
}

func TestCountedPhones(t *testing.T) {
	c, _ := Lookup("uc500")
	f, ok := c.Feature("phones")
	if !ok || !f.Counted || f.BuiltIn != 8 || f.WhatIsCounted != "IP phones registered" || f.Eval != "" {
		t.Errorf("phones = %+v", f)
	}
}

func TestLevels(t *testing.T) {
	c3750e, _ := Lookup("c3750e")
	c2900, _ := Lookup("c2900")
	uc500, _ := Lookup("uc500")
	shuffled := &Catalog{Kind: ImageLevels, Features: []Feature{
		{Name: "top", Rank: 5},
		{Name: "units", Rank: 0, Counted: true},
		{Name: "low", Rank: 0, Base: true},
		{Name: "mid", Rank: 2},
		{Name: "mid2", Rank: 2},
	}}
	tests := []struct {
		name string
		c    *Catalog
		want []string
	}{
		{"c3750e", c3750e, []string{"ipbase", "ipservices", "advipservices"}},
		{"technology packages have no levels", c2900, nil},
		{"counted platform has no levels", uc500, nil},
		{"ascending rank, catalog order among equals, counted left out", shuffled, []string{"low", "mid", "mid2", "top"}},
		{"nil catalog", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Levels(); !slices.Equal(got, tt.want) {
				t.Errorf("Levels() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFeatureAndBase(t *testing.T) {
	c, _ := Lookup("c3750e")
	f, ok := c.Feature("ipservices")
	if !ok || f.Name != "ipservices" || f.Rank != 1 || f.Eval != license.Evaluation {
		t.Errorf("Feature(ipservices) = %+v, %v", f, ok)
	}
	if f != &c.Features[1] {
		t.Error("Feature does not point into the catalog")
	}
	for _, name := range []string{"", "IPSERVICES", "securityk9"} {
		if f, ok := c.Feature(name); ok || f != nil {
			t.Errorf("Feature(%q) = %v, %v; want nil, false", name, f, ok)
		}
	}
	var nilCatalog *Catalog
	if f, ok := nilCatalog.Feature("ipbase"); ok || f != nil {
		t.Error("Feature on a nil catalog found something")
	}
	if nilCatalog.Base() != nil {
		t.Error("Base on a nil catalog found something")
	}
	if b := (&Catalog{Features: []Feature{{Name: "x"}}}).Base(); b != nil {
		t.Errorf("Base() without a base feature = %+v, want nil", b)
	}
	if BuiltIns(nil) != nil {
		t.Error("BuiltIns(nil) is not empty")
	}
}

func TestEnablesLevel(t *testing.T) {
	c3750e, _ := Lookup("c3750e")
	c2900, _ := Lookup("c2900")
	tests := []struct {
		name           string
		c              *Catalog
		feature, level string
		want           bool
	}{
		{"own level", c3750e, "ipservices", "ipservices", true},
		{"lower level", c3750e, "advipservices", "ipservices", true},
		{"base level", c3750e, "advipservices", "ipbase", true},
		{"base license enables base", c3750e, "ipbase", "ipbase", true},
		{"higher level", c3750e, "ipservices", "advipservices", false},
		{"base license does not enable higher", c3750e, "ipbase", "ipservices", false},
		{"unknown license feature", c3750e, "enterprise", "ipbase", false},
		{"unknown level", c3750e, "advipservices", "enterprise", false},
		{"technology packages are not levels", c2900, "securityk9", "ipbasek9", false},
		{"nil catalog", nil, "ipservices", "ipservices", false},
		{"counted feature is not a level", portsCatalog(), "ports", "l1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EnablesLevel(tt.c, tt.feature, tt.level); got != tt.want {
				t.Errorf("EnablesLevel(%q, %q) = %v, want %v", tt.feature, tt.level, got, tt.want)
			}
		})
	}
}
