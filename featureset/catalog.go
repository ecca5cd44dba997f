package featureset

import (
	"sort"
	"strings"

	"github.com/licensed-dev/licensed/license"
)

// BuiltInPrefix starts the ID of every built-in evaluation license.
const BuiltInPrefix = "builtin:"

// BuiltInID is the ID of the built-in evaluation license of a feature. Usage
// time of a built-in evaluation is kept under this ID in Input.Used.
func BuiltInID(feature string) string { return BuiltInPrefix + feature }

// IsBuiltIn reports whether id names a built-in evaluation license.
func IsBuiltIn(id string) bool { return strings.HasPrefix(id, BuiltInPrefix) }

// Platforms lists the platform ids Lookup knows, sorted.
func Platforms() []string {
	return []string{"c2900", "c3750e", "uc500"}
}

// Lookup returns the catalog of a platform id as written in identity files
// (exact match). Each call returns a fresh copy, so callers may not change
// what another caller sees.
func Lookup(platform string) (*Catalog, bool) {
	switch platform {
	case "c3750e":
		return c3750e(), true
	case "c2900":
		return c2900(), true
	case "uc500":
		return uc500(), true
	}
	return nil, false
}

func c3750e() *Catalog {
	return &Catalog{
		Platform:    "c3750e",
		Description: "Catalyst 3750-E switch",
		Module:      "c3750e",
		Kind:        ImageLevels,
		Features: []Feature{
			{Name: "ipbase", Version: "1.0", Rank: 0, Base: true,
				Description: "IP Base image level: switching, static and basic routing"},
			{Name: "ipservices", Version: "1.0", Rank: 1, Eval: license.Evaluation,
				Description: "IP Services image level: dynamic routing protocols"},
			{Name: "advipservices", Version: "1.0", Rank: 2, Eval: license.Evaluation,
				Description: "Advanced IP Services image level: IP Services plus IPv6 routing"},
		},
	}
}

func c2900() *Catalog {
	return &Catalog{
		Platform:    "c2900",
		Description: "Cisco 2900 series router",
		Module:      "c2900",
		Kind:        TechnologyPackages,
		Features: []Feature{
			{Name: "ipbasek9", Version: "1.0", Rank: 0, Base: true, Technology: "ipbase",
				Description: "IP Base technology package"},
			{Name: "securityk9", Version: "1.0", Rank: 1, Eval: license.EvalRightToUse, Technology: "security",
				Description: "Security technology package: VPN, firewall, intrusion prevention"},
			{Name: "datak9", Version: "1.0", Rank: 1, Eval: license.EvalRightToUse, Technology: "data",
				Description: "Data technology package: MPLS, BFD, multiprotocol"},
			{Name: "uck9", Version: "1.0", Rank: 1, Eval: license.EvalRightToUse, Technology: "uc",
				Description: "Unified Communications technology package: voice and call control"},
		},
	}
}

func uc500() *Catalog {
	return &Catalog{
		Platform:    "uc500",
		Description: "UC500 unified communications",
		Module:      "uc500",
		Kind:        Counted,
		Features: []Feature{
			{Name: "base", Version: "1.0", Rank: 0, Base: true,
				Description: "Base system: routing, switching and call control"},
			{Name: "phones", Version: "1.0", Rank: 1, Counted: true, BuiltIn: 8,
				WhatIsCounted: "IP phones registered",
				Description:   "IP phone registrations"},
		},
	}
}

// Feature returns the feature with the given name. The pointer refers into
// c.Features.
func (c *Catalog) Feature(name string) (*Feature, bool) {
	if c == nil {
		return nil, false
	}
	for i := range c.Features {
		if c.Features[i].Name == name {
			return &c.Features[i], true
		}
	}
	return nil, false
}

// Base returns the feature that runs without a license, or nil if the
// catalog has none.
func (c *Catalog) Base() *Feature {
	if c == nil {
		return nil
	}
	for i := range c.Features {
		if c.Features[i].Base {
			return &c.Features[i]
		}
	}
	return nil
}

// Levels lists the image levels of an ImageLevels catalog, base first, in
// ascending rank (catalog order among equal ranks). Every non-counted
// feature of such a catalog is a level. Other kinds have no levels: nil.
func (c *Catalog) Levels() []string {
	if c == nil || c.Kind != ImageLevels {
		return nil
	}
	var fs []*Feature
	for i := range c.Features {
		if !c.Features[i].Counted {
			fs = append(fs, &c.Features[i])
		}
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Rank < fs[j].Rank })
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// isLevel reports whether name is an image level of c.
func (c *Catalog) isLevel(name string) bool {
	if c == nil || c.Kind != ImageLevels {
		return false
	}
	f, ok := c.Feature(name)
	return ok && !f.Counted
}

// EnablesLevel reports whether a license for licenseFeature enables image
// level level: both must be levels of an ImageLevels catalog, and a license
// enables its own level and every level of lower or equal rank. It is false
// for anything else, including other kinds of catalog.
func EnablesLevel(c *Catalog, licenseFeature, level string) bool {
	if !c.isLevel(licenseFeature) || !c.isLevel(level) {
		return false
	}
	lf, _ := c.Feature(licenseFeature)
	l, _ := c.Feature(level)
	return lf.Rank >= l.Rank
}

// BuiltIns returns the built-in evaluation licenses of a catalog, one per
// feature with an Eval type, in catalog order: ID BuiltInID(feature), the
// feature's version, type Feature.Eval, Period EvalPeriod, not node-locked,
// additive, Count 0 (built-in units of counted features are
// Feature.BuiltIn, not a license).
func BuiltIns(c *Catalog) []*license.License {
	if c == nil {
		return nil
	}
	var out []*license.License
	for i := range c.Features {
		f := &c.Features[i]
		if f.Eval == "" {
			continue
		}
		out = append(out, &license.License{
			ID:       BuiltInID(f.Name),
			Feature:  f.Name,
			Version:  f.Version,
			Type:     f.Eval,
			Addition: license.Additive,
			Period:   EvalPeriod,
		})
	}
	return out
}
