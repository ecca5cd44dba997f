package licensestore

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func BenchmarkUpdateUsage(b *testing.B) {
	s, _ := mustOpen(b, testOptions(b))
	defer s.Close()
	fill(b, s, 20)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.Update(func(tx *Tx) error {
			return tx.PutUsage("eval-ipservices", Usage{Used: time.Duration(i) * time.Second, Updated: testNow})
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1000Licenses(b *testing.B) {
	o := testOptions(b)
	o.Logf = nil
	s, _ := mustOpen(b, o)
	mustUpdate(b, s, func(tx *Tx) error {
		for i := 0; i < 1000; i++ {
			id := fmt.Sprintf("lic-%04d", i)
			if err := tx.PutLicense(LicenseRecord{ID: id, Raw: licenseText(id), StoreIndex: 1, Slot: i, Installed: testNow}); err != nil {
				return err
			}
		}
		return nil
	})
	size, _ := s.Stats()
	s.Close()
	b.ReportMetric(float64(size), "file-B")
	b.ResetTimer()
	for b.Loop() {
		s, rep, err := Open(o)
		if err != nil || rep.Recovered || rep.Created {
			b.Fatalf("Open: %+v, %v", rep, err)
		}
		s.Close()
	}
}

// BenchmarkCheckpointBytes measures what one evaluation checkpoint (one
// usage record in one Update) writes: bytes handed to write(2) by this
// process (bbolt pages, meta page, freelist and the seal; from
// /proc/self/io wchar), growth of the store file, and the seal. day-KiB
// projects the agent's idle day, 48 checkpoints at 30-minute intervals.
func BenchmarkCheckpointBytes(b *testing.B) {
	o := testOptions(b)
	o.Logf = nil
	s, _ := mustOpen(b, o)
	defer s.Close()
	fill(b, s, 20)
	size0, _ := s.Stats()
	w0, haveIO := wchar()
	var sealBytes int64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.Update(func(tx *Tx) error {
			return tx.PutUsage("eval-ipservices", Usage{Used: time.Duration(i) * 30 * time.Minute, Updated: testNow})
		}); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(o.Path + ".seal")
		if err != nil {
			b.Fatal(err)
		}
		sealBytes += fi.Size()
	}
	b.StopTimer()
	size1, _ := s.Stats()
	n := float64(b.N)
	b.ReportMetric(float64(size1-size0)/n, "growth-B/op")
	b.ReportMetric(float64(sealBytes)/n, "seal-B/op")
	if w1, ok := wchar(); ok && haveIO {
		per := float64(w1-w0) / n
		b.ReportMetric(per, "written-B/op")
		b.ReportMetric(per*48/1024, "day-KiB")
	}
}

// wchar reads the bytes this process has passed to write calls.
func wchar() (int64, bool) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
