package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/licensed-dev/licensed/license"
	"github.com/spf13/cobra"
)

func newDeviceCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "device",
		Short: "What the portal knows of a device (UDI)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("a subcommand is required (show, reset-key)")
		},
	}
	cmd.AddCommand(newDeviceShowCmd(e), newDeviceResetKeyCmd(e))
	return cmd
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newDeviceShowCmd(e *env) *cobra.Command {
	var stateDir, udi string
	cmd := &cobra.Command{
		Use:   "show --state-dir DIR --udi PID:SN",
		Short: "Show a UDI's device key, licenses, permission tickets and history",
		Args:  cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if err := license.ValidateUDI(udi); err != nil {
				return usagef("--udi: %v", err)
			}
			ctx, a, done, err := openAdmin(e, stateDir)
			if err != nil {
				return err
			}
			defer done()
			v, err := a.Device(ctx, udi)
			if err != nil {
				return err
			}
			out := e.Stdout
			d := v.Device
			key := d.KeyID
			if key == "" {
				key = "not known (the device has not called home)"
			}
			fmt.Fprintf(out, "UDI:         %s\n", udi)
			fmt.Fprintf(out, "Device key:  %s\n", key)
			if d.Hostname != "" {
				fmt.Fprintf(out, "Hostname:    %s\n", d.Hostname)
			}
			fmt.Fprintf(out, "First seen:  %s\n", stamp(d.FirstSeen))
			fmt.Fprintf(out, "Last seen:   %s\n", stamp(d.LastSeen))
			if d.RetiredTo != "" {
				fmt.Fprintf(out, "Replaced by: %s (RMA on %s)\n", d.RetiredTo, stamp(d.Retired))
			}
			fmt.Fprintln(out, "\nLicenses:")
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tFeature\tType\tCount\tState\tSource\tPAK\tIssued")
			for _, l := range v.Licenses {
				state := l.State
				if l.ReplacedBy != "" {
					state += " -> " + l.ReplacedBy
				}
				src := l.Source
				if l.From != "" {
					src += " from " + l.From
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Feature, l.Type, dash(l.Count), state, src, orDash(l.PAK), stamp(l.Issued))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(v.Tickets) > 0 {
				fmt.Fprintln(out, "\nPermission tickets:")
				tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tState\tLicenses\tTarget\tExpires")
				for _, t := range v.Tickets {
					target := t.MovedTo
					if target == "" {
						target = t.Target
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.State, strings.Join(t.Licenses, " "), orDash(target), stamp(t.Expires))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			fmt.Fprintln(out, "\nHistory:")
			return printAudit(e, v.History)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&udi, "udi", "", "UDI of the device, PID:SN (required)")
	for _, name := range []string{"state-dir", "udi"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newDeviceResetKeyCmd(e *env) *cobra.Command {
	var stateDir, udi string
	cmd := &cobra.Command{
		Use:   "reset-key --state-dir DIR --udi PID:SN",
		Short: "Forget the device key bound to a UDI (a device that lost its key)",
		Long: `reset-key forgets the device key the portal learned at the UDI's first call
home. The next call-home request binds the key it is signed with. Use it
only for a device known to have lost its key (a new device key file):
until then the portal refuses any other key for the UDI.`,
		Args: cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if err := license.ValidateUDI(udi); err != nil {
				return usagef("--udi: %v", err)
			}
			ctx, a, done, err := openAdmin(e, stateDir)
			if err != nil {
				return err
			}
			defer done()
			if err := a.ResetDeviceKey(ctx, udi); err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "Device key of %s forgotten; the next call-home binds a new one\n", udi)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&udi, "udi", "", "UDI of the device, PID:SN (required)")
	for _, name := range []string{"state-dir", "udi"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
