// Package agent is the license agent: the one owner of licensed's state.
//
// An Agent reads the device identity, opens the license store, verifies the
// installed licenses, decides the feature set of this boot and publishes it;
// then it meters evaluation licenses by usage time, raises events for
// warnings and expiries, and serves every surface (control socket, SSH
// shell, SNMP, syslog) through the methods of the API interface. Surfaces
// are thin adapters; none of them opens the store.
//
// Usage time is measured on the monotonic clock and checkpointed to the
// store every Config.CheckpointInterval (default 30 minutes) and at
// shutdown, so a power cut loses at most one interval of usage; the wall
// clock is used only for calendar-dated licenses and timestamps, guarded by
// a high-water mark.
package agent
