package soak

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/licensestore"
)

// tamperScale runs the usage clock fast enough that a fraction of a second
// uses hours of the evaluation, and slow enough that it never expires here.
const tamperScale = "100000"

// usedDevice is a device with a paid (signed) license installed and its
// advipservices evaluation used for a while, stopped cleanly. It logs to
// sink over syslog.
func usedDevice(t *testing.T, p *portal, sink *syslogSink) (d *device, paid string) {
	t.Helper()
	d = newDevice(t, p, "--time-scale", tamperScale, "--syslog", sink.url())
	d.start()
	l := p.license(t, "ipservices", nil)
	d.must("license", "install", p.file(t, l))
	d.startEvaluation()
	time.Sleep(300 * time.Millisecond)
	d.stop()
	return d, l.ID
}

// evalUsedUp reports whether the advipservices evaluation has no time left.
func evalUsedUp(t *testing.T, st *agent.Status) bool {
	t.Helper()
	l, ok := lic(st, "advipservices", "evaluation")
	if !ok {
		t.Fatal("no advipservices evaluation")
	}
	return l.Remaining == 0 && l.Used >= l.Period
}

// expectTamper checks the restarted daemon reported tampering in its local
// log and to the syslog receiver, treats the evaluation as used up and
// still holds the paid licenses named.
func expectTamper(t *testing.T, d *device, sink *syslogSink, mnemonic string, paid ...string) *agent.Status {
	t.Helper()
	if !d.waitLog("%LICENSE-", mnemonic) {
		t.Fatalf("no %s message in the local log:\n%s", mnemonic, d.log)
	}
	if _, ok := sink.wait(mnemonic, devUDI); !ok {
		t.Fatalf("no %s message reached the syslog receiver; got:\n%s", mnemonic, sink.all())
	}
	st := d.status()
	if len(st.Tamper) == 0 || st.Statistics.TamperEvents == 0 {
		t.Fatalf("the status reports no tamper finding: %+v", st.Tamper)
	}
	if out := d.must("show", "license", "status"); !strings.Contains(out, "Tamper findings:\n") {
		t.Fatalf("show license status does not list the tamper findings:\n%s", out)
	}
	if !evalUsedUp(t, st) {
		l, _ := lic(st, "advipservices", "evaluation")
		t.Fatalf("the evaluation kept time after tampering: %+v", l)
	}
	have := ids(st)
	for _, id := range paid {
		if !have[id] {
			t.Fatalf("paid license %s did not survive; licenses now %v", id, have)
		}
	}
	return st
}

// TestTamperUsageEdited: the evaluation's usage record is rewritten with a
// raw bbolt handle (usage set back to zero, MAC left as it was).
func TestTamperUsageEdited(t *testing.T) {
	p := newPortal(t)
	sink := newSyslogSink(t)
	d, paid := usedDevice(t, p, sink)
	rawEdit(t, d.db(), bucketUsage, "builtin:advipservices", func(p []byte) []byte {
		var u map[string]any
		if err := json.Unmarshal(p, &u); err != nil {
			t.Fatal(err)
		}
		if u["used_ns"].(float64) <= 0 {
			t.Fatalf("no usage to roll back: %s", p)
		}
		u["used_ns"] = 0
		out, _ := json.Marshal(u)
		return out
	})
	d.start()
	expectTamper(t, d, sink, "STORE_RECOVERED", paid)
	if !strings.Contains(d.log.String(), "usage/builtin:advipservices: MAC mismatch") {
		t.Errorf("the log does not name the edited record:\n%s", d.log)
	}
}

// TestTamperOlderCopy: the store is replaced by an older copy of itself
// after more usage (the seal next to it is kept).
func TestTamperOlderCopy(t *testing.T) {
	p := newPortal(t)
	sink := newSyslogSink(t)
	d, paid := usedDevice(t, p, sink)
	old := d.db() + ".copy"
	copyFile(t, d.db(), old)
	d.start()
	time.Sleep(300 * time.Millisecond)
	later := p.license(t, "ipservices", nil)
	d.must("license", "install", p.file(t, later))
	d.stop()
	if err := os.Rename(old, d.db()); err != nil {
		t.Fatal(err)
	}
	d.start()
	st := expectTamper(t, d, sink, "TAMPER", paid)
	if !strings.Contains(d.log.String(), "older than its seal") {
		t.Errorf("the log does not say the store is older than its seal:\n%s", d.log)
	}
	// A license installed after the copy was made is not in it: the
	// rollback loses it like any restore of an old copy would.
	if ids(st)[later.ID] {
		t.Errorf("license %s installed after the copy is back, which the copy cannot hold", later.ID)
	}
}

// TestTamperStoreDeleted: licenses.db is deleted on a device that had used
// its evaluations; the seal stays. Paid licenses live only in the store, so
// the test records whether the daemon brought them back by itself and
// proves the operator's way back: the file `license save` wrote installs
// them again.
func TestTamperStoreDeleted(t *testing.T) {
	for _, keepBackup := range []bool{true, false} {
		name := "backup deleted too"
		if keepBackup {
			name = "backup kept"
		}
		t.Run(name, func(t *testing.T) {
			p := newPortal(t)
			sink := newSyslogSink(t)
			d, paid := usedDevice(t, p, sink)
			d.start()
			saved := d.dir + "/saved.lic"
			d.must("license", "save", saved)
			d.stop()
			if err := os.Remove(d.db()); err != nil {
				t.Fatal(err)
			}
			if !keepBackup {
				if err := os.Remove(d.db() + ".bak"); err != nil {
					t.Fatal(err)
				}
			}
			d.start()
			st := expectTamper(t, d, sink, "TAMPER")
			if !strings.Contains(d.log.String(), "shows one existed") {
				t.Errorf("the log does not say a store existed:\n%s", d.log)
			}
			if ids(st)[paid] {
				figure(t, "store deleted (%s): the daemon restored paid license %s by itself", name, paid)
			} else {
				figure(t, "store deleted (%s): the daemon came up without paid license %s; tamper reported, evaluation used up; `license install` of the `license save` file brought it back", name, paid)
				out := d.must("license", "install", saved)
				if !strings.Contains(out, "1/1 licenses were successfully installed") {
					t.Fatalf("reinstalling the saved file:\n%s", out)
				}
				st = d.status()
				if !ids(st)[paid] || !evalUsedUp(t, st) {
					t.Fatalf("after reinstalling: licenses %v, evaluation used up %v", ids(st), evalUsedUp(t, st))
				}
			}
			// A restart does not give the evaluation back.
			d.stop()
			d.start()
			if !evalUsedUp(t, d.status()) {
				t.Fatal("a restart after the deletion gave the evaluation its time back")
			}
		})
	}
}

// TestTamperLicenseBitsFlipped flips bits in the signed text of an
// installed license, once with a raw bbolt handle (the record's MAC no
// longer matches) and once with the device's own store key (the MAC is
// valid and only the license signature can tell). Both are reported as
// tampering; the flipped license is never served.
func TestTamperLicenseBitsFlipped(t *testing.T) {
	p := newPortal(t)
	flips := 3
	if long() {
		flips = 40
	}
	for i := range flips {
		for _, withKey := range []bool{false, true} {
			sink := newSyslogSink(t)
			d, paid := usedDevice(t, p, sink)
			var other string
			func() { // a second paid license that nobody touches
				d.start()
				defer d.stop()
				l := p.license(t, "advipservices", nil)
				d.must("license", "install", p.file(t, l))
				other = l.ID
			}()
			flip := func(raw []byte) []byte {
				out := slices.Clone(raw)
				signed := signedBytes(raw)
				pos := signed[(i*7919+13)%len(signed)]
				out[pos] ^= 1 << (i % 8)
				return out
			}
			if withKey {
				st := d.openStore()
				err := st.Update(func(tx *licensestore.Tx) error {
					rec, err := tx.License(paid)
					if err != nil {
						return err
					}
					rec.Raw = flip(rec.Raw)
					return tx.PutLicense(rec)
				})
				st.Close()
				if err != nil {
					t.Fatal(err)
				}
			} else {
				rawEdit(t, d.db(), bucketLicenses, paid, func(p []byte) []byte {
					var rec map[string]any
					if err := json.Unmarshal(p, &rec); err != nil {
						t.Fatal(err)
					}
					var raw []byte
					b, _ := json.Marshal(rec["raw"])
					json.Unmarshal(b, &raw)
					rec["raw"] = flip(raw)
					out, _ := json.Marshal(rec)
					return out
				})
			}
			d.start()
			d.waitLog("LICENSE_LEVEL")
			log := d.log.String()
			st := d.status()
			have := ids(st)
			if withKey {
				// The store is sound; the agent's own check of the
				// signature refuses the license.
				if !strings.Contains(log, "TAMPER") || !strings.Contains(log, paid) {
					t.Fatalf("flip %d with a valid MAC: no tamper report naming %s:\n%s", i, paid, log)
				}
				if _, ok := sink.wait("TAMPER", paid); !ok {
					t.Fatalf("flip %d with a valid MAC: no TAMPER syslog message", i)
				}
				if have[paid] {
					t.Fatalf("flip %d: the altered license %s is served", i, paid)
				}
			} else {
				// The record's MAC fails: the store is restored from the
				// backup, which holds the license as it was signed.
				if !strings.Contains(log, "STORE_RECOVERED") || !strings.Contains(log, "licenses/"+paid+": MAC mismatch") {
					t.Fatalf("flip %d without the key: not reported as a tampered record:\n%s", i, log)
				}
				if _, ok := sink.wait("STORE_RECOVERED"); !ok {
					t.Fatalf("flip %d: no STORE_RECOVERED syslog message", i)
				}
				if !have[paid] {
					t.Fatalf("flip %d: license %s not restored from the backup: %v", i, paid, have)
				}
			}
			if !have[other] {
				t.Fatalf("flip %d: the untouched paid license %s was lost: %v", i, other, have)
			}
			d.stop()
		}
	}
	figure(t, "%d bit flips in installed licenses, each with and without the store key: all reported as tampering, no altered license served, untouched paid licenses kept", flips)
}

// signedBytes lists the offsets in a license file that the signature
// covers or that hold the signature: every byte of the field lines except
// line ends, the signature's final character and its padding (base64
// decoders ignore the unused low bits of the final character, and the
// "# …" note lines are for people and not signed).
func signedBytes(raw []byte) []int {
	var out []int
	start := 0
	for i, line := range strings.SplitAfter(string(raw), "\n") {
		body := strings.TrimRight(line, "\n")
		switch {
		case i == 0, body == "", strings.HasPrefix(body, "#"):
		case strings.HasPrefix(body, "signature: "):
			end := len(strings.TrimRight(body, "=")) - 1
			for j := len("signature: "); j < end; j++ {
				out = append(out, start+j)
			}
		default:
			for j := range len(body) {
				out = append(out, start+j)
			}
		}
		start += len(line)
	}
	return out
}
