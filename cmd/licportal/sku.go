package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

func newSKUCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sku",
		Short: "Manage the SKU catalog (what each part number licenses)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("a subcommand is required (add, list)")
		},
	}
	cmd.AddCommand(newSKUAddCmd(e), newSKUListCmd(e))
	return cmd
}

type skuAddOptions struct {
	stateDir    string
	name        string
	features    []string
	typ         string
	count       int
	days        int
	version     string
	description string
}

func newSKUAddCmd(e *env) *cobra.Command {
	o := &skuAddOptions{}
	cmd := &cobra.Command{
		Use:   "add --state-dir DIR --name SKU --feature F [--feature F]... [flags]",
		Short: "Add a SKU: features, license type, count and days",
		Long: `add puts a SKU in the catalog. One unit of it licenses each --feature with a
license of --type: --count units of a counted feature (multiplied by the
units redeemed at once), --days of usage for metered types (extension,
evalRightToUse) or calendar days for paidSubscription. SKUs cannot change
once added, as PAKs refer to them.`,
		Example: "  licportal sku add --state-dir DIR --name uc500-phones-16 --feature phones --count 16\n" +
			"  licportal sku add --state-dir DIR --name c2900-sec-trial --feature securityk9 --type extension --days 120",
		Args: cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			s := portal.SKU{Name: o.name, Features: o.features, Type: license.Type(o.typ), Count: o.count,
				Days: o.days, Version: o.version, Description: o.description}
			if err := s.Validate(); err != nil {
				return &usageError{err}
			}
			ctx, a, done, err := openAdmin(e, o.stateDir)
			if err != nil {
				return err
			}
			defer done()
			if err := a.AddSKU(ctx, s); err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "SKU %s added\n", s.Name)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.name, "name", "", "SKU name, e.g. c3750e-ipservices (required)")
	f.StringArrayVar(&o.features, "feature", nil, "feature the SKU licenses (repeatable; required)")
	f.StringVar(&o.typ, "type", string(license.Permanent), "license type: permanent, extension, paidSubscription, evalRightToUse, rightToUse, permanentRightToUse")
	f.IntVar(&o.count, "count", 0, "units of a counted feature per unit of the SKU (0: uncounted)")
	f.IntVar(&o.days, "days", 0, "usage days (metered types) or calendar days (paidSubscription)")
	f.StringVar(&o.version, "version", "1.0", "feature version")
	f.StringVar(&o.description, "description", "", "one line for people")
	for _, name := range []string{"state-dir", "name", "feature"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newSKUListCmd(e *env) *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "list --state-dir DIR",
		Short: "List the SKU catalog",
		Args:  cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			ctx, a, done, err := openAdmin(e, stateDir)
			if err != nil {
				return err
			}
			defer done()
			skus, err := a.SKUs(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SKU\tFeatures\tType\tCount\tDays\tDescription")
			for _, s := range skus {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, strings.Join(s.Features, ","), s.Type, dash(s.Count), dash(s.Days), s.Description)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", "", "portal state directory (required)")
	_ = cmd.MarkFlagRequired("state-dir")
	return cmd
}

// dash prints 0 as "-".
func dash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
