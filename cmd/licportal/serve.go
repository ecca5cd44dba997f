package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/licensed-dev/licensed/cmd/licportal/internal/statedir"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

type serveOptions struct {
	stateDir    string
	listen      string
	deviceRate  float64
	deviceBurst int
	pakRate     float64
	pakBurst    int
	maxInFlight int
}

func newServeCmd(e *env) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve --state-dir DIR --listen ADDR",
		Short: "Serve the call-home API over HTTPS",
		Long: `serve answers devices' call-home requests over HTTPS (TLS 1.2 or later, with
the certificate init made) until interrupted, and administrative commands
run on the same state directory over the admin socket DIR/admin.sock
(mode 0600, this user and root only).

Requests are limited per device key and per PAK (token buckets); a device
over its limit gets 429 with Retry-After. See docs/CALLHOME.md.`,
		Example: "  licportal serve --state-dir /var/lib/licportal --listen 127.0.0.1:8443",
		Args:    cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, e, o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.listen, "listen", "", "address to serve HTTPS on, e.g. 127.0.0.1:8443 (required)")
	f.Float64Var(&o.deviceRate, "device-rate", portal.DefaultDeviceRate, "requests per second one device may sustain")
	f.IntVar(&o.deviceBurst, "device-burst", portal.DefaultDeviceBurst, "requests one device may send at once")
	f.Float64Var(&o.pakRate, "pak-rate", portal.DefaultPAKRate, "requests per second naming one PAK, across devices")
	f.IntVar(&o.pakBurst, "pak-burst", portal.DefaultPAKBurst, "requests naming one PAK at once")
	f.IntVar(&o.maxInFlight, "max-in-flight", portal.DefaultMaxInFlight, "requests served at once; more are answered 503 busy")
	for _, name := range []string{"state-dir", "listen"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runServe(cmd *cobra.Command, e *env, o *serveOptions) error {
	if o.deviceRate <= 0 || o.pakRate <= 0 || o.deviceBurst < 1 || o.pakBurst < 1 || o.maxInFlight < 1 {
		return usagef("rates must be above 0, bursts and --max-in-flight at least 1")
	}
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return usagef("--listen %q: %v", o.listen, err)
	}
	d, err := statedir.New(o.stateDir)
	if err != nil {
		return &usageError{err}
	}
	signer, err := d.LoadSigner()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(d.File(statedir.TLSCertFile), d.File(statedir.TLSKeyFile))
	if err != nil {
		return fmt.Errorf("TLS certificate: %w (run licportal init --state-dir %s)", err, d.Path)
	}
	logger := log.New(e.Stderr, "licportal: ", log.LstdFlags)
	st, err := portal.OpenBolt(d.File(storeFile), portal.BoltOptions{Timeout: storeLockWait})
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := portal.New(portal.Config{
		Store: st, Signer: signer, Now: e.Now, Logf: logger.Printf,
		DeviceRate: o.deviceRate, DeviceBurst: o.deviceBurst, PAKRate: o.pakRate, PAKBurst: o.pakBurst,
		MaxInFlight: o.maxInFlight,
	})
	if err != nil {
		return err
	}
	if err := ensureCatalog(portal.WithActor(cmd.Context(), "licportal serve"), p); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	adminLn, err := portal.ListenAdmin(d.File(adminSocketFile))
	if err != nil {
		ln.Close()
		return err
	}
	defer os.Remove(d.File(adminSocketFile))

	srv := portal.NewHTTPServer(p.Handler(), cert, logger.Printf)
	admin := portal.NewAdminServer(p)
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	go func() { errc <- admin.Serve(adminLn) }()

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go prune(ctx, p, logger)
	logger.Printf("serving call-home on https://%s (signing key %s); admin socket %s", ln.Addr(), signer.KeyID, d.File(adminSocketFile))

	var serr error
	select {
	case <-ctx.Done():
	case serr = <-errc:
		if errors.Is(serr, http.ErrServerClosed) {
			serr = nil
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	admin.Shutdown(sctx)
	logger.Printf("stopped")
	return serr
}

// prune drops stale idempotency records now and then.
func prune(ctx context.Context, p *portal.Portal, logger *log.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := p.Prune(ctx); err != nil {
			logger.Printf("pruning idempotency records: %v", err)
		} else if n > 0 {
			logger.Printf("pruned %d idempotency records", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
