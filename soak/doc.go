// Package soak proves the agent's reliability promises against the real
// binaries: licensed is built once, started on simulated devices in
// temporary state directories and driven through licensectl, the control
// socket, SSH and SNMP on loopback, while the tests kill it with SIGKILL,
// damage and tamper with its store between runs and load it with
// concurrent clients.
//
// The package has only tests. `go test ./soak/` (and so `make test`) runs
// the short versions, sized to finish in well under a minute on two
// cores. With SOAK=1 the same tests run their long versions (500 crash
// cycles, 200 clients for 60 s, …), which is what `make soak`
// (bench/soak.sh) does; each test then writes its figures to the file
// named by SOAK_FIGURES. docs/RELIABILITY.md reports the figures and the
// command that reproduces each.
//
// Knobs for the long run: SOAK_CYCLES (crash cycles, default 500),
// SOAK_CLIENTS (default 200) and SOAK_LOAD_SECONDS (default 60).
package soak
