package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/licensed-dev/licensed/cmd/licportal/internal/statedir"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

// Files of the portal's state beside those init makes.
const (
	storeFile       = "portal.db"  // the bbolt store: SKUs, PAKs, devices, licenses, audit
	adminSocketFile = "admin.sock" // admin socket of a running serve, mode 0600
)

// maxInputFile bounds the credential and ticket files commands read.
const maxInputFile = 1 << 20

// storeLockWait is how long a command waits for the store when another
// command holds it (serve is reached through its socket instead).
const storeLockWait = 2 * time.Second

// adminUser names the person running a command, for the audit log.
func adminUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return ""
}

// openAdmin returns the portal of a state directory: through the admin
// socket when licportal serve runs on it, else over the store opened
// directly (bbolt allows one process at a time). close releases it.
func openAdmin(e *env, dir string) (context.Context, portal.Admin, func(), error) {
	d, err := statedir.New(dir)
	if err != nil {
		return nil, nil, nil, &usageError{err}
	}
	who := adminUser()
	if c, err := portal.DialAdmin(d.File(adminSocketFile), who); err == nil {
		return context.Background(), c, c.Close, nil
	}
	signer, err := d.LoadSigner()
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := portal.OpenBolt(d.File(storeFile), portal.BoltOptions{Timeout: storeLockWait})
	if errors.Is(err, portal.ErrLocked) {
		return nil, nil, nil, fmt.Errorf("%w, and nothing answers on its admin socket %s", err, d.File(adminSocketFile))
	}
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := portal.New(portal.Config{Store: st, Signer: signer, Now: e.Now})
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	actor := "admin uid:" + strconv.Itoa(os.Getuid())
	if who != "" {
		actor += " (" + who + ")"
	}
	ctx := portal.WithActor(context.Background(), actor)
	if err := ensureCatalog(ctx, p); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return ctx, p, func() { st.Close() }, nil
}

// ensureCatalog seeds an empty SKU catalog, as init does: a state
// directory made before the portal had a store starts with the built-in
// SKUs too.
func ensureCatalog(ctx context.Context, a portal.Admin) error {
	skus, err := a.SKUs(ctx)
	if err != nil || len(skus) > 0 {
		return err
	}
	_, err = a.SeedSKUs(ctx)
	return err
}

// readInput reads a file named on the command line ("-" is standard
// input), refusing more than maxInputFile bytes.
func readInput(cmd *cobra.Command, name, what string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInputFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, name, err)
	}
	if len(data) > maxInputFile {
		return nil, fmt.Errorf("%s %s is larger than %d bytes", what, name, maxInputFile)
	}
	return data, nil
}

// writeOutput writes data to the file name, or standard output for "" or
// "-".
func writeOutput(e *env, name string, data []byte) error {
	if name == "" || name == "-" {
		_, err := e.Stdout.Write(data)
		return err
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return err
	}
	return nil
}
