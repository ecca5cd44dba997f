package main

import (
	"fmt"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

func newExtensionCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "extension",
		Short: "Extension licenses: a longer trial for one device",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("a subcommand is required (issue)")
		},
	}
	cmd.AddCommand(newExtensionIssueCmd(e))
	return cmd
}

type extensionOptions struct {
	stateDir string
	portal.ExtensionRequest
	output string
}

func newExtensionIssueCmd(e *env) *cobra.Command {
	o := &extensionOptions{}
	cmd := &cobra.Command{
		Use:   "issue --state-dir DIR --udi PID:SN --feature F [--days N]",
		Short: "Issue an extension license and print the license file",
		Long: fmt.Sprintf(`issue signs an extension license: node-locked to --udi, metered like an
evaluation but for --days of use (default %d), for a trial longer than the
built-in 60 days. The portal records it, so the device also gets it with
'license call-home resend'.`, portal.DefaultExtensionDays),
		Example: "  licportal extension issue --state-dir DIR --udi WS-C3750E-24TD-S:FDO1234X0AB --feature ipservices --days 120 > ext.lic",
		Args:    cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if err := license.ValidateUDI(o.UDI); err != nil {
				return usagef("--udi: %v", err)
			}
			if !portal.ValidFeature(o.Feature) {
				return usagef("--feature %q: want a lowercase token such as ipservices", o.Feature)
			}
			if o.Days < 0 || o.Count < 0 {
				return usagef("--days and --count may not be negative")
			}
			ctx, a, done, err := openAdmin(e, o.stateDir)
			if err != nil {
				return err
			}
			defer done()
			res, err := a.IssueExtension(ctx, o.ExtensionRequest)
			if err != nil {
				return err
			}
			return writeOutput(e, o.output, []byte(res.LicenseFile))
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.UDI, "udi", "", "UDI of the device, PID:SN (required)")
	f.StringVar(&o.Feature, "feature", "", "feature to extend, e.g. ipservices (required)")
	f.IntVar(&o.Days, "days", 0, fmt.Sprintf("days of use (default %d)", portal.DefaultExtensionDays))
	f.IntVar(&o.Count, "count", 0, "units of a counted feature")
	f.StringVar(&o.Version, "version", "1.0", "feature version")
	f.StringVar(&o.Comment, "comment", "", "comment carried in the license")
	f.StringVarP(&o.output, "output", "o", "", "write the license file here instead of standard output")
	for _, name := range []string{"state-dir", "udi", "feature"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
