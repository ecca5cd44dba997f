package licensestore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// The seal is a small file next to the store (Path+".seal") that mirrors
// the store's generation and counters after every commit. A store older
// than its seal was replaced by an older copy or deleted; counters never
// go below the seal's, so snmpEngineBoots and friends stay monotonic even
// across a restore.
//
//	{"seal": {"version":1,"store":"<id>","generation":N,"counters":{…}}, "mac": "<hex>"}
//	mac = HMAC-SHA256(MACKey, "licensestore seal" || 0 || the raw "seal" JSON)
//
// No bucket is named "licensestore seal", so a seal MAC can never pass for
// a record MAC.

const (
	sealVersion = 1
	sealDomain  = "licensestore seal"
	maxSealSize = 64 << 10
)

type sealBody struct {
	Version    int               `json:"version"`
	Store      string            `json:"store"`
	Generation uint64            `json:"generation"`
	Counters   map[string]uint64 `json:"counters,omitempty"`
}

type sealFile struct {
	Seal json.RawMessage `json:"seal"`
	MAC  string          `json:"mac"`
}

func (m macer) sealMAC(body []byte) []byte {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(sealDomain))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}

// readSeal reads and checks the seal; a missing file is an error that
// matches fs.ErrNotExist.
func readSeal(path string, m macer) (sealBody, error) {
	f, err := os.Open(path)
	if err != nil {
		return sealBody{}, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxSealSize+1))
	if err != nil {
		return sealBody{}, err
	}
	if len(raw) > maxSealSize {
		return sealBody{}, fmt.Errorf("larger than %d bytes", maxSealSize)
	}
	var sf sealFile
	if err := json.Unmarshal(raw, &sf); err != nil {
		return sealBody{}, fmt.Errorf("not a seal: %v", err)
	}
	mac, err := hex.DecodeString(sf.MAC)
	if err != nil || !hmac.Equal(mac, m.sealMAC(sf.Seal)) {
		return sealBody{}, fmt.Errorf("MAC mismatch (edited, or written with another key)")
	}
	var b sealBody
	if err := json.Unmarshal(sf.Seal, &b); err != nil {
		return sealBody{}, fmt.Errorf("malformed: %v", err)
	}
	if b.Version != sealVersion {
		return sealBody{}, fmt.Errorf("unknown seal version %d", b.Version)
	}
	return b, nil
}

func writeSeal(path string, m macer, b sealBody) error {
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	out, err := json.Marshal(sealFile{Seal: body, MAC: hex.EncodeToString(m.sealMAC(body))})
	if err != nil {
		return err
	}
	// Not followed by a directory fsync: a seal that lags after a power cut
	// only weakens one check, and it keeps each commit's writes down.
	return writeFileAtomic(path, append(out, '\n'), false)
}

// reconcileSeal compares the store with its seal at Open. A store behind
// its seal is a rollback: the generation and counters are raised past the
// seal's so neither ever goes backwards. The seal is then brought up to
// date; an Open that finds store and seal in step writes nothing.
//
// seal and serr come from readSeal and gen is the store's generation, both
// read before Open wrote anything (a migration commits, and so rewrites the
// seal).
func (s *Store) reconcileSeal(rep *OpenReport, seal sealBody, serr error, gen uint64) error {
	path := s.o.sealPath()
	var now uint64
	var counters map[string]uint64
	err := s.View(func(t *Tx) (err error) {
		if now, _, err = t.metaUint(metaGeneration); err != nil {
			return err
		}
		counters, err = t.counters()
		return err
	})
	if err != nil {
		return err
	}
	current := sealBody{Version: sealVersion, Store: s.storeID, Generation: now, Counters: counters}
	switch {
	case os.IsNotExist(serr):
		// First run with a seal (or a new store): write one.
		return s.writeSealLogged(current)
	case serr != nil:
		s.o.Logf("licensestore: seal %s is not valid (%v); writing a new one", path, serr)
		return s.writeSealLogged(current)
	}

	var why string
	switch {
	case rep.Created:
		why = fmt.Sprintf("no store, but its seal (generation %d) shows one existed", seal.Generation)
	case seal.Store != s.storeID:
		why = fmt.Sprintf("the store was replaced by a different store (generation %d; the seal is for store %.8s… at generation %d)", gen, seal.Store, seal.Generation)
	case gen < seal.Generation:
		why = fmt.Sprintf("the store (generation %d) is older than its seal (generation %d)", gen, seal.Generation)
	}
	raise := map[string]uint64{}
	for _, name := range sortedKeys(seal.Counters) {
		if v := seal.Counters[name]; v > counters[name] {
			raise[name] = v
		}
	}
	if why == "" && len(raise) == 0 {
		if now == seal.Generation && seal.Store == s.storeID && equalCounters(counters, seal.Counters) {
			return nil
		}
		return s.writeSealLogged(current)
	}
	if why != "" {
		rep.Rollback = true
		if rep.Reason != "" {
			rep.Reason += "; "
		}
		rep.Reason += why
		s.o.Logf("licensestore: %s: rollback: %s", s.o.Path, why)
	}
	if len(raise) > 0 {
		s.o.Logf("licensestore: %s: raising counters to their sealed values %v", s.o.Path, raise)
	}
	// The commit bumps the generation once more and writes the seal.
	return s.updateLocked(func(t *Tx) error {
		if now < seal.Generation {
			if err := t.putMetaJSON(metaGeneration, seal.Generation); err != nil {
				return err
			}
		}
		for name, v := range raise {
			if err := t.setCounter(name, v); err != nil {
				return err
			}
		}
		t.dirty = true
		return nil
	})
}

func (s *Store) writeSealLogged(b sealBody) error {
	if err := writeSeal(s.o.sealPath(), s.mac, b); err != nil {
		s.o.Logf("licensestore: write seal %s: %v", s.o.sealPath(), err)
	}
	return nil
}

func sortedKeys(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equalCounters(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
