package main

import (
	"fmt"
	"strings"

	"github.com/licensed-dev/licensed/license"
	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

type permissionOptions struct {
	stateDir   string
	udi        string
	target     string
	licenses   []string
	graceDays  int
	validDays  int
	credential string
	output     string
}

func newPermissionTicketCmd(e *env) *cobra.Command {
	o := &permissionOptions{}
	cmd := &cobra.Command{
		Use:   "permission-ticket --state-dir DIR --udi PID:SN [--target PID:SN] [--license ID]...",
		Short: "Start a rehost: print a permission ticket for the device to process",
		Long: `permission-ticket issues a permission ticket that lets the device --udi give
up licenses (every license the portal issued to it that can move, or each
--license), with grace licenses that keep the features running there for
--grace-days of use (0: the portal's default of 30; -1: none).

On the device: 'license revoke TICKET REHOST-TICKET' removes the licenses
and writes the rehost ticket, signed with the device key. Bring it back
with 'licportal rehost'. The portal checks the rehost ticket against the
device key it learned at the device's first call home; for a device that
never called home, give its credential (license save credential) here.`,
		Example: "  licportal permission-ticket --state-dir DIR --udi WS-C3750E-24TD-S:FDO1234X0AB --target WS-C3750E-24TD-S:FDO1234X0CD > permission.txt",
		Args:    cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if err := license.ValidateUDI(o.udi); err != nil {
				return usagef("--udi: %v", err)
			}
			if o.target != "" {
				if err := license.ValidateUDI(o.target); err != nil {
					return usagef("--target: %v", err)
				}
			}
			if o.graceDays < -1 || o.validDays < 0 || o.validDays > 366 {
				return usagef("--grace-days must be -1 or more, --valid-days 0 to 366")
			}
			req := portal.PermissionRequest{UDI: o.udi, Target: o.target, Licenses: o.licenses, GraceDays: o.graceDays, ValidDays: o.validDays}
			if o.credential != "" {
				data, err := readInput(cmd, o.credential, "credential")
				if err != nil {
					return err
				}
				req.Credential = data
			}
			ctx, a, done, err := openAdmin(e, o.stateDir)
			if err != nil {
				return err
			}
			defer done()
			res, err := a.PermissionTicket(ctx, req)
			if err != nil {
				return err
			}
			return writeOutput(e, o.output, []byte(res.File))
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.udi, "udi", "", "UDI the licenses move off, PID:SN (required)")
	f.StringVar(&o.target, "target", "", "UDI the licenses move to (may also be given to rehost)")
	f.StringArrayVar(&o.licenses, "license", nil, "license ID to move (repeatable; default: all that can move)")
	f.IntVar(&o.graceDays, "grace-days", 0, "days of use of the grace licenses (0: default, -1: none)")
	f.IntVar(&o.validDays, "valid-days", 0, "days the ticket may be used (0: default of 7)")
	f.StringVar(&o.credential, "credential", "", "device credential file, when the portal does not know the device key")
	f.StringVarP(&o.output, "output", "o", "", "write the ticket here instead of standard output")
	for _, name := range []string{"state-dir", "udi"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

type rehostOptions struct {
	stateDir string
	ticket   string
	target   string
	output   string
}

func newRehostCmd(e *env) *cobra.Command {
	o := &rehostOptions{}
	cmd := &cobra.Command{
		Use:   "rehost --state-dir DIR --rehost-ticket FILE [--to PID:SN]",
		Short: "Finish a rehost: take the device's rehost ticket, print the target's license file",
		Long: `rehost checks a rehost ticket (written by 'license revoke' on the device)
against the device key the portal knows and the permission ticket it
answers, marks the licenses moved, and prints a license file with the
same licenses for the target UDI (--to, or the permission ticket's
target). The target may also fetch them with 'license call-home resend'.`,
		Args: cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if o.target != "" {
				if err := license.ValidateUDI(o.target); err != nil {
					return usagef("--to: %v", err)
				}
			}
			data, err := readInput(cmd, o.ticket, "rehost ticket")
			if err != nil {
				return err
			}
			ctx, a, done, err := openAdmin(e, o.stateDir)
			if err != nil {
				return err
			}
			defer done()
			res, err := a.Rehost(ctx, portal.RehostRequest{RehostTicket: data, Target: o.target})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.Stderr, "Licenses %s moved from %s to %s as %s\n", strings.Join(res.Ticket.Licenses, " "),
				res.Ticket.UDI, res.Ticket.MovedTo, strings.Join(res.Ticket.NewLicenses, " "))
			return writeOutput(e, o.output, []byte(res.LicenseFile))
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", "", "portal state directory (required)")
	f.StringVar(&o.ticket, "rehost-ticket", "", "rehost ticket file from the device, - for standard input (required)")
	f.StringVar(&o.target, "to", "", "UDI the licenses move to (default: the permission ticket's target)")
	f.StringVarP(&o.output, "output", "o", "", "write the license file here instead of standard output")
	for _, name := range []string{"state-dir", "rehost-ticket"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
