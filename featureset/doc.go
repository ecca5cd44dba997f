// Package featureset knows what each supported platform can license and
// decides, from the installed licenses and the device's configuration, which
// features run and what state every license is in.
//
// The package is pure: Resolve reads nothing but its Input, keeps no state
// between calls and takes the time as Input.Now. The agent calls it at boot
// (Input.Running nil) to make the boot's decision, and again whenever
// licenses, usage or the clock change (Input.Running set to that decision) to
// refresh license states and counted capacity without changing what runs.
//
// Three kinds of platform are modelled:
//
//   - ImageLevels (c3750e): one image level runs; a license for a level
//     also enables every lower level.
//   - TechnologyPackages (c2900): independent packages beside an always-on
//     base package.
//   - Counted (uc500): features whose units device software acquires and
//     releases; capacity is built-in units plus licensed units.
//
// Any kind may also hold counted features.
package featureset
