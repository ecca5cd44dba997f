package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/licensed-dev/licensed/portal"
	"github.com/spf13/cobra"
)

func newAuditCmd(e *env) *cobra.Command {
	var stateDir string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit --state-dir DIR [--limit N]",
		Short: "Show the audit log: every change to the portal, oldest first",
		Args:  cobra.NoArgs,
		RunE: runE(e, func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usagef("--limit %d: want 0 (all) or more", limit)
			}
			ctx, a, done, err := openAdmin(e, stateDir)
			if err != nil {
				return err
			}
			defer done()
			es, err := a.Audit(ctx, limit)
			if err != nil {
				return err
			}
			return printAudit(e, es)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&stateDir, "state-dir", "", "portal state directory (required)")
	f.IntVar(&limit, "limit", 50, "newest entries to show (0: all)")
	_ = cmd.MarkFlagRequired("state-dir")
	return cmd
}

func printAudit(e *env, es []portal.AuditEntry) error {
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Seq\tTime\tActor\tAction\tTarget\tDetail")
	for _, a := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.Seq, a.Time.UTC().Format(time.RFC3339), a.Actor, a.Action, a.Target, a.Detail)
	}
	return tw.Flush()
}
