// Command licensectl is the operator's CLI for licensed. Its words are
// exactly what an operator types at the device prompt:
//
//	licensectl show license udi
//	licensectl license install ipservices.lic
//	licensectl --json show license
//
// It talks to the daemon over the control socket ($LICENSED_SOCKET, else
// /run/licensed/licensed.sock, or --socket). Exit status: 0 success, 1 the
// command failed, 2 invalid, ambiguous or incomplete command, 3 the daemon
// cannot be reached.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/agent/cli"
	"golang.org/x/term"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

const usage = `usage: licensectl [--socket PATH] [--json] WORDS...
       licensectl completion bash|zsh|fish
WORDS are a device command, e.g. "show license udi" or "license install FILE".
`

func run(args []string) int {
	socket := agent.SocketPath()
	jsonOut := false
	for len(args) > 0 {
		switch a := args[0]; {
		case a == "--socket" || a == "-s":
			if len(args) < 2 {
				fmt.Fprint(os.Stderr, usage)
				return cli.ExitUsage
			}
			socket, args = args[1], args[2:]
		case len(a) > 9 && a[:9] == "--socket=":
			socket, args = a[9:], args[1:]
		case a == "--json":
			jsonOut, args = true, args[1:]
		case a == "-h" || a == "--help":
			fmt.Fprint(os.Stdout, usage)
			return cli.ExitOK
		default:
			goto words
		}
	}
words:
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return cli.ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps := cli.Deps{
		API:         agent.NewClient(socket),
		Files:       localFiles{},
		In:          os.Stdin,
		Out:         os.Stdout,
		Err:         os.Stderr,
		JSON:        jsonOut,
		Interactive: isTerminal(os.Stdin),
		Privilege:   agent.PrivAdmin, // the daemon decides by SO_PEERCRED
	}
	if args[0] == "completion" {
		return completion(deps, args[1:])
	}
	return cli.Run(ctx, deps, args)
}

// localFiles resolves FILE arguments on the local filesystem.
type localFiles struct{}

func (localFiles) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }
func (localFiles) WriteFile(name string, data []byte) error {
	return os.WriteFile(name, data, 0o600)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// completion prints a shell completion script generated from the command tree.
func completion(d cli.Deps, args []string) int {
	root := cli.NewRoot(d)
	root.Use = "licensectl"
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: licensectl completion bash|zsh|fish")
		return cli.ExitUsage
	}
	var err error
	switch args[0] {
	case "bash":
		err = root.GenBashCompletionV2(os.Stdout, true)
	case "zsh":
		err = root.GenZshCompletion(os.Stdout)
	case "fish":
		err = root.GenFishCompletion(os.Stdout, true)
	default:
		fmt.Fprintf(os.Stderr, "unknown shell %q (bash, zsh, fish)\n", args[0])
		return cli.ExitUsage
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return cli.ExitFailed
	}
	return cli.ExitOK
}
