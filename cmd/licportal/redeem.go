package main

import (
	"fmt"
	"strings"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

type redeemOptions struct {
	stateDir   string
	credential string
	pak        string
	skus       []string
	qty        int
	udi        string
	output     string
}

func newRedeemCmd(e *env) *cobra.Command {
	o := &redeemOptions{}
	cmd := &cobra.Command{
		Use:   "redeem --state-dir DIR --credential FILE --pak PAK",
		Short: "Redeem a PAK for a device that cannot call home; print the license file",
		Long: `redeem is the offline path: the device's credential (from 'license save
credential FILE' on the device) names its UDIs and device key; the PAK is
redeemed onto its active UDI (or --udi) and the license file printed, to
be carried to the device and installed with 'license install'. The
credential binds the device key as a first call home would.`,
		Example: "  licportal redeem --state-dir DIR --credential sw1.cred --pak 7K2M9X4PQ84 > sw1.lic",
		Args:    cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			pak, err := protocol.NormalizePAK(o.pak)
			if err != nil {
				return &usageError{err}
			}
			if o.qty < 0 || o.qty > protocol.MaxQty {
				return usagef("--qty %d: want 1 to %d", o.qty, protocol.MaxQty)
			}
			if o.udi != "" {
				if err := license.ValidateUDI(o.udi); err != nil {
					return usagef("--udi: %v", err)
				}
			}
			cred, err := readInput(cmd, o.credential, "credential")
			if err != nil {
				return err
			}
			ctx, a, done, err := openAdmin(e, o.stateDir)
			if err != nil {
				return err
			}
			defer done()
			res, err := a.Redeem(ctx, portal.OfflineRedeemRequest{Credential: cred, UDI: o.udi, PAK: pak, SKUs: o.skus, Qty: o.qty})
			if err != nil {
				return err
			}
			var parts []string
			for _, s := range res.Redeemed {
				parts = append(parts, fmt.Sprintf("%s x%d (%d left)", s.Name, s.Qty, s.Remaining))
			}
			fmt.Fprintf(e.Stderr, "PAK %s redeemed for %s: %s\n", res.PAK, res.UDI, strings.Join(parts, ", "))
			if len(res.LicenseFiles) != 1 {
				return fmt.Errorf("the portal returned %d license files for one redemption", len(res.LicenseFiles))
			}
			return writeOutput(e, o.output, []byte(res.LicenseFiles[0]))
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.credential, "credential", "", "device credential file, - for standard input (required)")
	f.StringVar(&o.pak, "pak", "", "the PAK to redeem (required)")
	f.StringArrayVar(&o.skus, "sku", nil, "redeem only this SKU of the PAK (repeatable; default: all with units left)")
	f.IntVar(&o.qty, "qty", 0, "units of each SKU to take from a partial-fulfilment PAK (default 1)")
	f.StringVar(&o.udi, "udi", "", "UDI of the credential to license (default: its active UDI)")
	f.StringVarP(&o.output, "output", "o", "", "write the license file here instead of standard output")
	for _, name := range []string{"state-dir", "credential", "pak"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
