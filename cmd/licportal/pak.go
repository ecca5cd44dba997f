package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/licensed-dev/licensed/call-home/protocol"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

func newPAKCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pak",
		Short: "Create and show PAKs (product authorization keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("a subcommand is required (create, show)")
		},
	}
	cmd.AddCommand(newPAKCreateCmd(e), newPAKShowCmd(e))
	return cmd
}

type pakCreateOptions struct {
	stateDir string
	skus     []string
	qty      int
	count    int
	order    string
}

func newPAKCreateCmd(e *env) *cobra.Command {
	o := &pakCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --state-dir DIR --sku SKU [--sku SKU]... [--qty N] [--count N]",
		Short: "Create a PAK and print it",
		Long: fmt.Sprintf(`create makes a new PAK of %d characters holding each --sku, --qty units of
each, and prints it alone on standard output (with --count, one PAK per
line). A PAK with more than one unit of a SKU is partially fulfilled:
devices redeem it in parts until it is exhausted.`, protocol.PAKLength),
		Example: "  licportal pak create --state-dir DIR --sku c3750e-ipservices\n" +
			"  licportal pak create --state-dir DIR --sku c3750e-ipservices --qty 3   # three devices",
		Args: cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if o.qty < 1 || o.qty > protocol.MaxQty {
				return usagef("--qty %d: want 1 to %d", o.qty, protocol.MaxQty)
			}
			if o.count < 1 || o.count > portal.MaxPAKsPerRequest {
				return usagef("--count %d: want 1 to %d", o.count, portal.MaxPAKsPerRequest)
			}
			req := portal.PAKRequest{Count: o.count, Order: o.order}
			for _, s := range o.skus {
				req.Lines = append(req.Lines, portal.PAKLineRequest{SKU: s, Qty: o.qty})
			}
			ctx, a, done, err := openAdmin(e, o.stateDir)
			if err != nil {
				return err
			}
			defer done()
			codes, err := a.CreatePAKs(ctx, req)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.Stdout, strings.Join(codes, "\n"))
			return err
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringArrayVar(&o.skus, "sku", nil, "SKU the PAK holds (repeatable; required; see licportal sku list)")
	f.IntVar(&o.qty, "qty", 1, "units of each SKU; above 1 the PAK is redeemed in parts across devices")
	f.IntVar(&o.count, "count", 1, "how many such PAKs to create")
	f.StringVar(&o.order, "order", "", "order reference kept with the PAK")
	for _, name := range []string{"state-dir", "sku"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newPAKShowCmd(e *env) *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "show --state-dir DIR PAK",
		Short: "Show what a PAK holds, what is left and who redeemed it",
		Args:  cobra.ExactArgs(1),
		RunE: runE(e, func(cmd *cobra.Command, args []string) error {
			code, err := protocol.NormalizePAK(args[0])
			if err != nil {
				return &usageError{err}
			}
			ctx, a, done, err := openAdmin(e, stateDir)
			if err != nil {
				return err
			}
			defer done()
			v, err := a.PAK(ctx, code)
			if err != nil {
				return err
			}
			out := e.Stdout
			fmt.Fprintf(out, "PAK:         %s\n", v.PAK.Code)
			fmt.Fprintf(out, "Created:     %s\n", v.PAK.Created.UTC().Format(time.RFC3339))
			if v.PAK.Order != "" {
				fmt.Fprintf(out, "Order:       %s\n", v.PAK.Order)
			}
			state := "available"
			switch {
			case v.PAK.Exhausted():
				state = "exhausted"
			case v.PAK.Redemptions > 0:
				state = "partially redeemed"
			}
			fmt.Fprintf(out, "State:       %s (%d redemptions)\n\n", state, v.PAK.Redemptions)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SKU\tFeatures\tType\tCount\tDays\tQty\tRemaining")
			for _, s := range v.SKUs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", s.Name, strings.Join(s.Features, ","), s.Type, dash(s.Count), dash(s.Days), s.Qty, s.Remaining)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(v.Redemptions) > 0 {
				fmt.Fprintln(out, "\nRedemptions:")
				tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "Time\tUDI\tSKUs\tLicenses\tBy")
				for _, r := range v.Redemptions {
					var parts []string
					for _, s := range r.SKUs {
						parts = append(parts, fmt.Sprintf("%s x%d", s.SKU, s.Qty))
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Time.UTC().Format(time.RFC3339), r.UDI, strings.Join(parts, ", "), strings.Join(r.LicenseIDs, " "), r.Actor)
				}
				return tw.Flush()
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", "", "portal state directory (required)")
	_ = cmd.MarkFlagRequired("state-dir")
	return cmd
}
