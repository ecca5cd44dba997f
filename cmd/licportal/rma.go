package main

import (
	"fmt"
	"strings"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

type rmaOptions struct {
	stateDir    string
	from, to    string
	force       bool
	licenseFile string
}

func newRMACmd(e *env) *cobra.Command {
	o := &rmaOptions{}
	cmd := &cobra.Command{
		Use:   "rma --state-dir DIR --from PID:SN --to PID:SN",
		Short: "Move a dead device's licenses to its replacement",
		Long: `rma revokes the licenses the portal issued to the dead device --from,
issues the same licenses to the replacement --to, and retires --from: it
may no longer call home. Grace licenses are withdrawn and open permission
tickets of --from cancelled. The replacement gets its licenses with
'license call-home resend', or from --license-file.

The replacement must have the same product ID unless --force is given.`,
		Example: "  licportal rma --state-dir DIR --from WS-C3750E-24TD-S:FDO1234X0AB --to WS-C3750E-24TD-S:FDO9999Z0ZZ",
		Args:    cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if err := license.ValidateUDI(o.from); err != nil {
				return usagef("--from: %v", err)
			}
			if err := license.ValidateUDI(o.to); err != nil {
				return usagef("--to: %v", err)
			}
			ctx, a, done, err := openAdmin(e, o.stateDir)
			if err != nil {
				return err
			}
			defer done()
			res, err := a.RMA(ctx, portal.RMARequest{From: o.from, To: o.to, Force: o.force})
			if err != nil {
				return err
			}
			out := e.Stdout
			fmt.Fprintf(out, "RMA: %s replaced by %s\n", res.From, res.To)
			for i, id := range res.Moved {
				fmt.Fprintf(out, "  license %s -> %s\n", id, res.Issued[i])
			}
			if len(res.Revoked) > 0 {
				fmt.Fprintf(out, "  grace licenses withdrawn: %s\n", strings.Join(res.Revoked, " "))
			}
			if len(res.Cancelled) > 0 {
				fmt.Fprintf(out, "  permission tickets cancelled: %s\n", strings.Join(res.Cancelled, " "))
			}
			if o.licenseFile != "" {
				if err := writeOutput(e, o.licenseFile, []byte(res.LicenseFile)); err != nil {
					return err
				}
				fmt.Fprintf(out, "License file for %s written to %s\n", res.To, o.licenseFile)
			} else {
				fmt.Fprintf(out, "On %s: license call-home resend\n", res.To)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.from, "from", "", "UDI of the dead device, PID:SN (required)")
	f.StringVar(&o.to, "to", "", "UDI of the replacement, PID:SN (required)")
	f.BoolVar(&o.force, "force", false, "allow a replacement with another product ID")
	f.StringVar(&o.licenseFile, "license-file", "", "also write the replacement's license file here")
	for _, name := range []string{"state-dir", "from", "to"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
