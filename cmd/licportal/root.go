package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // invalid command line: unknown command or flag, bad flag value
)

// env is what commands get from the outside world.
type env struct {
	Stdout, Stderr io.Writer
	Now            func() time.Time // the wall clock; tests fix it

	started bool // a command's RunE began: errors from here on are failures unless usageErrors
}

// usageError is an invalid command line found by a command's own checks.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// run executes one command line and returns the exit code.
func run(args []string, e *env) int {
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(e.Stderr, "licportal: %v\n", err)
	var ue *usageError
	if !e.started || errors.As(err, &ue) {
		path := root.CommandPath()
		if cmd, _, ferr := root.Find(args); ferr == nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(e.Stderr, "Run '%s --help' for usage.\n", path)
		return exitUsage
	}
	return exitFailure
}

// newRootCmd builds the command tree. Each command lives in its own file
// and is added here.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "licportal",
		Short: "Licensing portal for licensed agents",
		Long: `licportal is the licensing portal for licensed agents: it holds the key
that signs their licenses.

Exit status: 0 success, 1 the command failed, 2 invalid command line.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		RunE: func(cmd *cobra.Command, args []string) error {
			var names []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return usagef("a command is required (%s)", strings.Join(names, ", "))
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newInitCmd(e), newIssueCmd(e), newServeCmd(e), newSKUCmd(e), newPAKCmd(e),
		newExtensionCmd(e), newDeviceCmd(e), newPermissionTicketCmd(e), newRehostCmd(e), newRMACmd(e),
		newRedeemCmd(e), newAuditCmd(e))
	return root
}

// runE marks the start of a command's own work, so that its errors count
// as failures rather than usage errors.
func runE(e *env, f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		e.started = true
		return f(cmd, args)
	}
}
