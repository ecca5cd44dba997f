// Command portal_bench measures the licensing portal under a fleet: N
// simulated devices, each with its own UDI and device key, redeem one PAK
// each over HTTPS against one licportal serve, each device on a fresh TLS
// connection as separate devices would be.
//
//	go run ./bench/portal_bench --licportal bin/licportal --devices 30000
//
// It prints the total time, the latency percentiles and the portal's
// durable commits per second (several redemptions share a commit), as
// rows for docs/PERFORMANCE.md. Setup (keys, credentials, PAKs) is not
// timed.
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "portal_bench:", err)
		os.Exit(1)
	}
}

type device struct {
	udi     string
	key     ed25519.PrivateKey
	cred    string // base64 credential
	pak     string
	start   time.Time
	took    time.Duration
	retries int
	err     error
}

// maxRetries: a device retries a redemption that got no answer or a
// "try later" answer, as call-home does, with the same idempotency key.
const maxRetries = 3

func run() error {
	var (
		bin         = flag.String("licportal", "bin/licportal", "licportal binary")
		n           = flag.Int("devices", 30000, "simulated devices (one redemption each)")
		concurrency = flag.Int("concurrency", 128, "devices calling at once")
		keep        = flag.Bool("keep", false, "keep the portal state directory")
	)
	flag.Parse()
	if *n < 1 || *concurrency < 1 {
		return errors.New("--devices and --concurrency must be at least 1")
	}
	dir, err := os.MkdirTemp("", "portal-bench-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	state := filepath.Join(dir, "portal")
	if out, err := exec.Command(*bin, "init", "--state-dir", state).CombinedOutput(); err != nil {
		return fmt.Errorf("licportal init: %v\n%s", err, out)
	}

	// Setup, untimed: the PAKs (one admin command, one transaction), the
	// device keys and credentials.
	t0 := time.Now()
	out, err := exec.Command(*bin, "pak", "create", "--state-dir", state, "--sku", "c3750e-ipservices", "--count", strconv.Itoa(*n)).Output()
	if err != nil {
		return fmt.Errorf("licportal pak create: %v", err)
	}
	paks := strings.Fields(string(out))
	if len(paks) != *n {
		return fmt.Errorf("pak create made %d PAKs; want %d", len(paks), *n)
	}
	pakTime := time.Since(t0)
	devs := make([]*device, *n)
	now := time.Now()
	for i := range devs {
		k, err := license.GenerateKey()
		if err != nil {
			return err
		}
		d := &device{udi: fmt.Sprintf("WS-C3750E-24TD-S:BENCH%06d", i), key: k, pak: paks[i]}
		c, err := license.NewCredential([]string{d.udi}, "bench", k, now)
		if err != nil {
			return err
		}
		d.cred = base64.StdEncoding.EncodeToString(c.Encode())
		devs[i] = d
	}
	var setup syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &setup)
	setupCPU := time.Duration(setup.Utime.Nano() + setup.Stime.Nano())
	caPEM, err := os.ReadFile(filepath.Join(state, "ca.pem"))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)

	// The portal, with room for the fleet's burst on its in-flight limit.
	srv := exec.Command(*bin, "serve", "--state-dir", state, "--listen", "127.0.0.1:0", "--max-in-flight", strconv.Itoa(max(*concurrency*2, 256)))
	logBuf := &lockedBuffer{}
	srv.Stdout, srv.Stderr = logBuf, logBuf
	if err := srv.Start(); err != nil {
		return err
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Process.Signal(os.Interrupt)
			srv.Wait()
		}
	}
	defer stop()
	addr, err := waitServing(logBuf)
	if err != nil {
		return err
	}
	admin, err := portal.DialAdmin(filepath.Join(state, "admin.sock"), "bench")
	if err != nil {
		return err
	}
	before, err := admin.Stats(context.Background())
	if err != nil {
		return err
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(devs) {
					return
				}
				d := devs[i]
				d.start = time.Now()
				idem := token()
				for {
					var retry bool
					retry, d.err = redeem(addr, roots, d, idem)
					if !retry || d.retries == maxRetries {
						break
					}
					d.retries++
					time.Sleep(time.Duration(d.retries) * 100 * time.Millisecond)
				}
				d.took = time.Since(d.start)
			}
		}()
	}
	wg.Wait()
	total := time.Since(start)
	after, err := admin.Stats(context.Background())
	if err != nil {
		return err
	}
	admin.Close()
	var self syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	stop()
	portalCPU := cpu(srv.ProcessState.SysUsage())
	fleetCPU := time.Duration(self.Utime.Nano() + self.Stime.Nano())

	var lat []time.Duration
	failed, retried := 0, 0
	var firstErr error
	for _, d := range devs {
		retried += d.retries
		if d.err != nil {
			failed++
			if firstErr == nil {
				firstErr = d.err
			}
			continue
		}
		lat = append(lat, d.took)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	commits := after.Store.Commits - before.Store.Commits
	updates := after.Store.Updates - before.Store.Updates
	fmt.Printf("portal_bench: %d devices, %d at once, %d CPUs, %s/%s; setup: %d PAKs in %s\n",
		*n, *concurrency, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, len(paks), pakTime.Round(time.Millisecond))
	fmt.Println()
	fmt.Println("| figure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| %d devices redeem a PAK over HTTPS (fresh TLS connection each), total | %.1f s |\n", *n, total.Seconds())
	fmt.Printf("| redemptions per second | %.0f |\n", float64(len(lat))/total.Seconds())
	fmt.Printf("| latency p50 / p99 / max | %s / %s / %s |\n", ms(pct(0.50)), ms(pct(0.99)), ms(pct(1)))
	fmt.Printf("| durable commits (fsync'd bbolt transactions) per second | %.0f (%d commits for %d updates, %.1f per commit) |\n",
		float64(commits)/total.Seconds(), commits, updates, float64(updates)/float64(max(commits, 1)))
	fmt.Printf("| CPU per redemption: portal / fleet (TLS client, signing) | %s / %s |\n",
		us(portalCPU/time.Duration(*n)), us((fleetCPU-setupCPU)/time.Duration(*n)))
	fmt.Printf("| retries (no answer or 429/503, same idempotency key) / devices that failed | %d / %d |\n", retried, failed)
	if failed > 0 {
		return fmt.Errorf("%d requests failed; first: %v", failed, firstErr)
	}
	return nil
}

func us(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }

// cpu is the user and system time of a finished process.
func cpu(u any) time.Duration {
	r, ok := u.(*syscall.Rusage)
	if !ok {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

var servingRE = regexp.MustCompile(`serving call-home on https://(\S+) `)

func waitServing(b *lockedBuffer) (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingRE.FindStringSubmatch(b.String()); m != nil {
			return m[1], nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("licportal serve did not start:\n%s", b.String())
}

func token() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// redeem is one device's call home: a new TLS connection, one signed
// redemption. retry reports a failure a device would retry.
func redeem(addr string, roots *x509.CertPool, d *device, idem string) (retry bool, err error) {
	body := fmt.Appendf(nil, `{"pak":%q}`, d.pak)
	nonce := token()
	ts := time.Now().Unix()
	sig := ed25519.Sign(d.key, protocol.SigningMessage(http.MethodPost, protocol.PathRedeem, d.udi, ts, nonce, idem, body))
	req, err := http.NewRequest(http.MethodPost, "https://"+addr+protocol.PathRedeem, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	h := req.Header
	h.Set("Content-Type", protocol.ContentType)
	h.Set(protocol.HeaderCredential, d.cred)
	h.Set(protocol.HeaderUDI, d.udi)
	h.Set(protocol.HeaderTime, strconv.FormatInt(ts, 10))
	h.Set(protocol.HeaderNonce, nonce)
	h.Set(protocol.HeaderIdempotency, idem)
	h.Set(protocol.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, protocol.MaxResponseBody))
	if err != nil {
		return true, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
	}
	var r protocol.RedeemResponse
	if err := protocol.Decode(data, &r, false); err != nil || len(r.LicenseIDs) != 1 {
		return false, fmt.Errorf("bad answer %q: %v", data, err)
	}
	return false, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
