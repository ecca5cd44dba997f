// Package cli is the operator command language of licensed: one cobra
// command tree with the IOS grammar, built over the agent.API interface.
// licensectl runs it over the control socket and the SSH shell runs it in
// process, with a fresh tree for every command.
//
// The grammar is IOS: every keyword may be abbreviated to a unique prefix
// ("sh lic udi"), "?" lists what may follow, and syntax errors are reported
// the way IOS reports them ("% Invalid input detected at '^' marker." under
// an echo of the line, "% Ambiguous command: ...", "% Incomplete command.").
// One output modifier may follow a "|": include, exclude or begin with a
// regular expression, count with an optional one, or json for the structured
// result of the command.
//
// The commands are
//
//	show license [udi | all | detail [FEATURE] | feature | status | file |
//	              statistics | call-home | history]
//	show version
//	show running-config
//	license install FILE|-
//	license clear FEATURE
//	license save FILE|-
//	license save credential FILE|-
//	license boot level LEVEL
//	license boot module MODULE technology-package PACKAGE
//	license accept end user agreement
//	license comment add FEATURE TEXT...
//	license comment delete FEATURE
//	license revoke TICKET|- OUTPUT|-
//	license call-home install pak PAK [--yes]
//	license call-home resend
//	license call-home revoke TARGET-UDI
//	license call-home url URL
//	license call-home show pak PAK
//	license feature acquire|release FEATURE UNITS   (hidden from "?")
//	reload
//
// A "?" typed as the last word, or at the end of the last word, lists the
// possible next words instead of running the command; a "?" meant as text
// must be inside double quotes.
//
// # Exit status
//
// Run and RunLine return the exit status licensectl and SSH exec report:
//
//	0  ExitOK           the command succeeded
//	1  ExitFailed       the command ran and failed: the agent refused it
//	                    (the message names the cause), a file could not be
//	                    read or written, a license in a file failed to
//	                    install, the privilege is too low, or a
//	                    confirmation was declined
//	2  ExitUsage        the command is invalid, ambiguous or incomplete, or
//	                    an output modifier is bad
//	3  ExitUnreachable  licensed cannot be reached
//
// Messages go to Deps.Err in IOS style ("% ..."); command output goes to
// Deps.Out.
package cli
