package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/licensed-dev/licensed/agent"
	"github.com/licensed-dev/licensed/featureset"
)

// stdio is the FILE argument that means standard input or output.
const stdio = "-"

// maxInput bounds what "-" reads from standard input: license files and
// tickets are a few kilobytes.
const maxInput = 4 << 20

// readInput reads a FILE argument: standard input for "-", else Files.
// source is how messages name it.
func (r *runner) readInput(name string) (data []byte, source string, err error) {
	if name == stdio {
		data, err = io.ReadAll(io.LimitReader(r.d.In, maxInput+1))
		if err != nil {
			return nil, "", fmt.Errorf("cannot read standard input: %w", err)
		}
		if len(data) > maxInput {
			return nil, "", fmt.Errorf("standard input holds more than %d bytes: not a license file", maxInput)
		}
		return data, "stdin", nil
	}
	if r.d.Files == nil {
		return nil, "", fmt.Errorf("cannot read %s: no file system here; use - for standard input", name)
	}
	data, err = r.d.Files.ReadFile(name)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read %s: %w", name, pathErr(err))
	}
	return data, name, nil
}

// writeOutput writes data to a FILE argument other than "-".
func (r *runner) writeOutput(name string, data []byte) error {
	if r.d.Files == nil {
		return fmt.Errorf("cannot write %s: no file system here; use - for standard output", name)
	}
	if err := r.d.Files.WriteFile(name, data); err != nil {
		return fmt.Errorf("cannot write %s: %w", name, pathErr(err))
	}
	return nil
}

// pathErr drops the operation and path a *fs.PathError repeats, since the
// message names the file already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// notes is where a command's messages go: its output, unless its data goes
// to standard output, then Err (but never beside JSON).
func (r *runner) notes(dataToStdout bool) *printer {
	if dataToStdout && !r.json {
		return &printer{w: r.d.Err}
	}
	return &printer{w: r.out}
}

// printInstall prints the outcome of a license file the way devices do,
// and returns errQuiet when a license failed.
func printInstall(p *printer, source string, res *agent.InstallResult) error {
	if source != "" {
		p.printf("Installing licenses from %q\n", source)
	}
	for _, l := range res.Lines {
		feature := l.Feature
		if feature == "" {
			feature = "unknown"
		}
		switch l.Result {
		case "successful":
			p.printf("Installing...Feature:%s...Successful:Supported\n", feature)
		case "existing":
			p.printf("Installing...Feature:%s...Skipped:Existing\n", feature)
		default:
			why := causeText(l.Cause)
			if l.Detail != "" {
				why += ": " + l.Detail
			}
			p.printf("Installing...Feature:%s...Failed: %s\n", feature, why)
		}
	}
	total := max(len(res.Lines), res.Installed+res.Existing+res.Failed)
	p.printf("%d/%d licenses were successfully installed\n", res.Installed, total)
	p.printf("%d/%d licenses were existing licenses\n", res.Existing, total)
	p.printf("%d/%d licenses were failed to install\n", res.Failed, total)
	if p.err != nil {
		return p.err
	}
	if res.Failed > 0 {
		return errQuiet
	}
	return nil
}

func (r *runner) install(ctx context.Context, a *call) (any, error) {
	data, source, err := r.readInput(a.arg("file"))
	if err != nil {
		return nil, err
	}
	res, err := r.d.API.Install(ctx, agent.InstallRequest{Data: data, Source: source})
	if err != nil {
		return nil, err
	}
	return res, printInstall(&printer{w: r.out}, source, res)
}

func (r *runner) clearLicense(ctx context.Context, a *call) (any, error) {
	res, err := r.d.API.Clear(ctx, a.arg("feature"))
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	switch len(res.Removed) {
	case 0:
		p.printf("%% Feature %s: no license was removed\n", res.Feature)
	case 1:
		p.printf("%% Feature %s: license %s cleared\n", res.Feature, res.Removed[0])
	default:
		p.printf("%% Feature %s: %d licenses cleared (%s)\n", res.Feature, len(res.Removed), strings.Join(res.Removed, ", "))
	}
	if res.NeedsReload {
		p.printf("%% Feature %s keeps running until the next reload\n", res.Feature)
	}
	return res, p.err
}

// saveJSON is the structured result of license save.
type saveJSON struct {
	File  string `json:"file"`
	Bytes int    `json:"bytes"`
	Data  string `json:"data,omitempty"` // the file itself, when written to standard output
}

func (r *runner) save(ctx context.Context, a *call) (any, error) {
	data, err := r.d.API.Save(ctx)
	if err != nil {
		return nil, err
	}
	return r.saved(a.arg("file"), data, "license lines saved ..... to")
}

func (r *runner) saveCredential(ctx context.Context, a *call) (any, error) {
	data, err := r.d.API.Credential(ctx)
	if err != nil {
		return nil, err
	}
	return r.saved(a.arg("file"), data, "device credential saved ..... to")
}

func (r *runner) saved(name string, data []byte, what string) (any, error) {
	js := saveJSON{File: name, Bytes: len(data)}
	if name == stdio {
		js.Data = string(data)
		p := &printer{w: r.out}
		p.write(string(data))
		return js, p.err
	}
	if err := r.writeOutput(name, data); err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.printf("%s %s\n", what, name)
	return js, p.err
}

func (r *runner) bootLevel(ctx context.Context, a *call) (any, error) {
	return r.setBoot(ctx, a.arg("level"))
}

// bootModule is the ISR form of license boot level: the module must be
// this device's.
func (r *runner) bootModule(ctx context.Context, a *call) (any, error) {
	st, err := r.status(ctx)
	if err != nil {
		return nil, err
	}
	if m := a.arg("module"); m != st.Module {
		return nil, agent.Errorf(agent.CauseInvalidArgument, "module %q is not on this device; its module is %q", m, st.Module)
	}
	return r.setBoot(ctx, a.arg("package"))
}

// setBoot records the level for the next reload. The setting is saved at
// once (no "write" is needed, unlike on IOS), so the message says what the
// next reload will run and which license serves it.
func (r *runner) setBoot(ctx context.Context, level string) (any, error) {
	res, err := r.d.API.SetBootLevel(ctx, level)
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.printf("%% License boot level %s saved; it takes effect at the next reload\n", res.Configured)
	p.printf("%% Next reload license level = %s and License = %s\n", res.NextLevel, res.License)
	if res.NeedsEULA {
		if p.err != nil {
			return res, p.err
		}
		if !r.d.Interactive {
			p.write("% Accept the end user agreement (license accept end user agreement) for the evaluation license to serve it\n")
			return res, p.err
		}
		ok, err := r.askEULA()
		if err != nil {
			return res, err
		}
		if !ok {
			p.write("% End user agreement not accepted: the evaluation license will not serve this level\n")
			return res, p.err
		}
		if err := r.d.API.AcceptEULA(ctx); err != nil {
			return res, err
		}
		p.write("% End user agreement accepted\n")
	}
	return res, p.err
}

// eulaSummary is shown before asking to accept the end user agreement.
func eulaSummary() string {
	return fmt.Sprintf(`
END USER AGREEMENT FOR EVALUATION LICENSES

The evaluation licenses built into this device let a licensed feature run
without a purchased license for %d days of use. Use is counted while the
feature runs, not by the calendar. When the period is used up the feature
keeps running until the next reload and is not enabled after it. Running a
feature beyond its evaluation needs a purchased license for this device.
Accepting applies to every feature of this device.

`, int(featureset.EvalPeriod/(24*time.Hour)))
}

// askEULA shows the agreement and asks to accept it.
func (r *runner) askEULA() (bool, error) {
	w := r.promptOut()
	if _, err := io.WriteString(w, eulaSummary()); err != nil {
		return false, err
	}
	return r.askYesNo("ACCEPT? [yes/no]: ")
}

func (r *runner) acceptEULA(ctx context.Context, _ *call) (any, error) {
	if r.d.Interactive {
		ok, err := r.askEULA()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errQuiet
		}
	}
	if err := r.d.API.AcceptEULA(ctx); err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.write("% End user agreement accepted\n")
	return struct {
		EULAAccepted bool `json:"eulaAccepted"`
	}{true}, p.err
}

type commentJSON struct {
	Feature string `json:"feature"`
	Comment string `json:"comment"`
}

func (r *runner) commentAdd(ctx context.Context, a *call) (any, error) {
	f, text := a.arg("feature"), a.arg("text")
	if err := r.d.API.Comment(ctx, f, text); err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.printf("%% Comment added to feature %s\n", f)
	return commentJSON{f, text}, p.err
}

func (r *runner) commentDelete(ctx context.Context, a *call) (any, error) {
	f := a.arg("feature")
	if err := r.d.API.Comment(ctx, f, ""); err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.printf("%% Comment deleted from feature %s\n", f)
	return commentJSON{Feature: f}, p.err
}

// revokeJSON is the structured result of license revoke.
type revokeJSON struct {
	*agent.RevokeResult
	Output string `json:"output"`
}

func (r *runner) revoke(ctx context.Context, a *call) (any, error) {
	ticket, _, err := r.readInput(a.arg("ticket"))
	if err != nil {
		return nil, err
	}
	res, err := r.d.API.Revoke(ctx, ticket)
	if err != nil {
		return nil, err
	}
	out := a.arg("output")
	p := r.notes(out == stdio)
	if out == stdio {
		if _, err := r.out.Write(res.Ticket); err != nil {
			return nil, err
		}
	} else if err := r.writeOutput(out, res.Ticket); err != nil {
		// The licenses are gone: the ticket is the only proof, so it must
		// not be lost with the file.
		if _, werr := r.d.Out.Write(res.Ticket); werr != nil {
			return nil, fmt.Errorf("licenses were revoked, but the rehost ticket could not be written (%w) nor printed (%w)", err, werr)
		}
		return nil, fmt.Errorf("licenses were revoked, but the rehost ticket could not be written (%w); it went to standard output instead: keep it", err)
	}
	if len(res.Revoked) > 0 {
		p.printf("%% Licenses revoked: %s\n", strings.Join(res.Revoked, ", "))
	}
	if len(res.Grace) > 0 {
		p.printf("%% Grace period licenses installed: %s\n", strings.Join(res.Grace, ", "))
	}
	if out != stdio {
		p.printf("%% Rehost ticket written to %s\n", out)
	}
	return revokeJSON{res, out}, p.err
}

// printMessage prints a call-home message as one or more lines.
func printMessage(p *printer, msg string) {
	if msg == "" {
		return
	}
	p.write(msg)
	if !strings.HasSuffix(msg, "\n") {
		p.write("\n")
	}
}

// printSKUs prints what a PAK holds.
func printSKUs(p *printer, pak string, skus []agent.SKUInfo) {
	p.printf("PAK: %s\n", pak)
	if len(skus) == 0 {
		p.write("No SKUs\n")
		return
	}
	dash := func(n int) string {
		if n == 0 {
			return "-"
		}
		return strconv.Itoa(n)
	}
	rows := [][]string{{"SKU", "Features", "Type", "Count", "Days", "Remaining"}}
	for _, s := range skus {
		rows = append(rows, []string{s.SKU, strings.Join(s.Features, ","), s.Type, dash(s.Count), dash(s.Days), strconv.Itoa(s.Remaining)})
	}
	p.write(table(rows))
}

// printCallHome prints a call-home result; licenses that failed to install
// make it errQuiet.
func printCallHome(p *printer, res *agent.CallHomeResult) error {
	printMessage(p, res.Message)
	if res.Install != nil {
		return printInstall(p, "", res.Install)
	}
	return p.err
}

func (r *runner) callHomeInstall(ctx context.Context, a *call) (any, error) {
	pak := a.arg("pak")
	p := &printer{w: r.out}
	if !a.yes {
		dry, err := r.d.API.CallHome(ctx, agent.CallHomeRequest{Op: "install-pak", PAK: pak})
		if err != nil {
			return nil, err
		}
		if !r.d.Interactive {
			printMessage(p, dry.Message)
			printSKUs(p, pak, dry.SKUs)
			if p.err != nil {
				return dry, p.err
			}
			return dry, errors.New("nothing installed: add --yes to install these licenses")
		}
		// The person sees the SKUs with the question, whatever the
		// output modifier.
		q := &printer{w: r.promptOut()}
		printMessage(q, dry.Message)
		printSKUs(q, pak, dry.SKUs)
		if q.err != nil {
			return nil, q.err
		}
		ok, err := r.askYesNo(fmt.Sprintf("Install the licenses of PAK %s on this device? [yes/no]: ", pak))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errQuiet
		}
	}
	res, err := r.d.API.CallHome(ctx, agent.CallHomeRequest{Op: "install-pak", PAK: pak, Confirm: true})
	if err != nil {
		return nil, err
	}
	return res, printCallHome(p, res)
}

func (r *runner) callHomeResend(ctx context.Context, _ *call) (any, error) {
	return r.callHomeSimple(ctx, agent.CallHomeRequest{Op: "resend", Confirm: true}, "")
}

func (r *runner) callHomeRevoke(ctx context.Context, a *call) (any, error) {
	return r.callHomeSimple(ctx, agent.CallHomeRequest{Op: "revoke", Target: a.arg("target"), Confirm: true}, "")
}

func (r *runner) callHomeURL(ctx context.Context, a *call) (any, error) {
	u := a.arg("url")
	return r.callHomeSimple(ctx, agent.CallHomeRequest{Op: "url", URL: u, Confirm: true}, "% Call-home URL set to "+u)
}

// callHomeSimple runs a call-home operation and prints its message, or
// fallback when the agent has none.
func (r *runner) callHomeSimple(ctx context.Context, req agent.CallHomeRequest, fallback string) (any, error) {
	res, err := r.d.API.CallHome(ctx, req)
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	if res.Message == "" && fallback != "" {
		res.Message = fallback
	}
	return res, printCallHome(p, res)
}

func (r *runner) callHomeShowPAK(ctx context.Context, a *call) (any, error) {
	pak := a.arg("pak")
	res, err := r.d.API.CallHome(ctx, agent.CallHomeRequest{Op: "show-pak", PAK: pak})
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	printMessage(p, res.Message)
	printSKUs(p, pak, res.SKUs)
	return res, p.err
}

func (r *runner) reload(ctx context.Context, _ *call) (any, error) {
	if r.d.Interactive {
		ok, err := r.askConfirm("Proceed with reload? [confirm]")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errQuiet
		}
	}
	if err := r.d.API.Reload(ctx); err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.write("% Reload complete\n")
	return struct {
		Reloaded bool `json:"reloaded"`
	}{true}, p.err
}

func (r *runner) acquire(ctx context.Context, a *call) (any, error) {
	return r.count(ctx, a, r.d.API.Acquire, "acquired")
}

func (r *runner) release(ctx context.Context, a *call) (any, error) {
	return r.count(ctx, a, r.d.API.Release, "released")
}

func (r *runner) count(ctx context.Context, a *call, op func(context.Context, string, int) (*agent.CountResult, error), verb string) (any, error) {
	units, err := strconv.Atoi(a.arg("units"))
	if err != nil {
		return nil, err // the parser admits only numbers
	}
	res, err := op(ctx, a.arg("feature"), units)
	if err != nil {
		return nil, err
	}
	p := &printer{w: r.out}
	p.printf("%% Feature %s: %d %s; %d in use of %d", res.Feature, res.Granted, verb, res.InUse, res.Capacity)
	if res.Violation > 0 {
		p.printf(", %d in violation", res.Violation)
	}
	p.write("\n")
	return res, p.err
}
