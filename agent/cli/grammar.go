package cli

import "context"

// paramKind is what an argument position accepts.
type paramKind int

const (
	pWord    paramKind = iota // one word, taken as typed
	pNumber                   // a decimal number from 1 up
	pKeyword                  // a fixed keyword among the arguments; may be abbreviated
	pText                     // the rest of the line: one word or more
)

// param is one argument position of a command.
type param struct {
	kind     paramKind
	name     string // key of the parsed value
	keyword  string // pKeyword: the keyword
	help     string
	optional bool // may be left out, and with it every later position
	file     bool // names a file (shell completion then offers files)
}

// command is one keyword of the grammar. The cobra tree is built from it,
// and the resolver walks it.
type command struct {
	name   string
	help   string
	hidden bool // kept out of "?" and Tab; matched only when typed in full
	admin  bool // changes the device: needs PrivAdmin
	params []param
	yes    bool // accepts --yes
	// run executes the command; nil for keywords that only lead to others.
	// It writes human output to r.out and returns the value "| json" prints.
	run      func(r *runner, ctx context.Context, a *call) (any, error)
	children []*command
	parent   *command
}

// call is a parsed invocation of a runnable command.
type call struct {
	cmd  *command
	args map[string]string
	yes  bool
}

func (a *call) arg(name string) string { return a.args[name] }

// path returns the keywords from the root to c.
func (c *command) path() []string {
	var p []string
	for x := c; x.parent != nil; x = x.parent {
		p = append([]string{x.name}, p...)
	}
	return p
}

// Placeholder words for argument positions, as IOS shows them.
const (
	wordWORD   = "WORD"
	wordLINE   = "LINE"
	wordNumber = "<1-2147483647>"
	wordCR     = "<cr>"
	wordPipe   = "|"
)

// rootName is the name of the root command; licensectl's completion scripts
// call the binary by it.
const rootName = "licensectl"

// grammar returns a fresh copy of the command grammar.
func grammar() *command {
	feature := func(optional bool) param {
		return param{kind: pWord, name: "feature", help: "Feature name", optional: optional}
	}
	file := func(name, help string) param {
		return param{kind: pWord, name: name, help: help, file: true}
	}
	root := &command{name: rootName, children: []*command{
		{name: "show", help: "Show running system information", children: []*command{
			{name: "license", help: "Show license information", run: (*runner).showLicense, children: []*command{
				{name: "all", help: "All license information", run: (*runner).showAll},
				{name: "call-home", help: "Call-home status", run: (*runner).showCallHome},
				{name: "detail", help: "Detailed license information", run: (*runner).showDetail,
					params: []param{feature(true)}},
				{name: "feature", help: "Licensable features", run: (*runner).showFeature},
				{name: "file", help: "Installed license file", run: (*runner).showFile},
				{name: "history", help: "License change history", run: (*runner).showHistory},
				{name: "statistics", help: "License statistics", run: (*runner).showStatistics},
				{name: "status", help: "License status and supported operations", run: (*runner).showStatus},
				{name: "udi", help: "UDI information", run: (*runner).showUDI},
			}},
			{name: "running-config", help: "Current operating configuration", run: (*runner).showRunningConfig},
			{name: "version", help: "System software and license level", run: (*runner).showVersion},
		}},
		{name: "license", help: "License operations", admin: true, children: []*command{
			{name: "accept", help: "Accept an agreement", children: []*command{
				{name: "end", help: "End user", children: []*command{
					{name: "user", help: "User", children: []*command{
						{name: "agreement", help: "Accept the end user agreement", run: (*runner).acceptEULA},
					}},
				}},
			}},
			{name: "boot", help: "License boot configuration", children: []*command{
				{name: "level", help: "Image level for the next reload", run: (*runner).bootLevel,
					params: []param{{kind: pWord, name: "level", help: "License level"}}},
				{name: "module", help: "Technology package for the next reload", run: (*runner).bootModule,
					params: []param{
						{kind: pWord, name: "module", help: "Module name"},
						{kind: pKeyword, keyword: "technology-package", help: "Technology package"},
						{kind: pWord, name: "package", help: "Technology package name"},
					}},
			}},
			{name: "call-home", help: "License call-home operations", children: []*command{
				{name: "install", help: "Install licenses via call-home", children: []*command{
					{name: "pak", help: "Install the licenses of a PAK", run: (*runner).callHomeInstall, yes: true,
						params: []param{{kind: pWord, name: "pak", help: "Product authorization key"}}},
				}},
				{name: "resend", help: "Fetch the licenses of this device again", run: (*runner).callHomeResend},
				{name: "revoke", help: "Revoke licenses for a rehost via call-home", run: (*runner).callHomeRevoke,
					params: []param{{kind: pWord, name: "target", help: "UDI of the target device (PID:SN)"}}},
				{name: "show", help: "Show via call-home", children: []*command{
					{name: "pak", help: "Display what a PAK holds", run: (*runner).callHomeShowPAK,
						params: []param{{kind: pWord, name: "pak", help: "Product authorization key"}}},
				}},
				{name: "url", help: "Set the licensing portal URL", run: (*runner).callHomeURL,
					params: []param{{kind: pWord, name: "url", help: "Portal URL"}}},
			}},
			{name: "clear", help: "Clear the licenses of a feature", run: (*runner).clearLicense,
				params: []param{feature(false)}},
			{name: "comment", help: "License comment", children: []*command{
				{name: "add", help: "Add a comment", run: (*runner).commentAdd,
					params: []param{feature(false), {kind: pText, name: "text", help: "Comment text"}}},
				{name: "delete", help: "Delete a comment", run: (*runner).commentDelete,
					params: []param{feature(false)}},
			}},
			{name: "feature", help: "Counted feature units", hidden: true, children: []*command{
				{name: "acquire", help: "Take units of a counted feature", run: (*runner).acquire,
					params: []param{feature(false), {kind: pNumber, name: "units", help: "Units"}}},
				{name: "release", help: "Give back units of a counted feature", run: (*runner).release,
					params: []param{feature(false), {kind: pNumber, name: "units", help: "Units"}}},
			}},
			{name: "install", help: "Install licenses from a file", run: (*runner).install,
				params: []param{file("file", "License file, or - for standard input")}},
			{name: "revoke", help: "Revoke licenses with a permission ticket", run: (*runner).revoke,
				params: []param{
					file("ticket", "Permission ticket file, or - for standard input"),
					file("output", "Rehost ticket file to write, or - for standard output"),
				}},
			{name: "save", help: "Save licenses to a file", run: (*runner).save,
				params: []param{file("file", "File to write, or - for standard output")},
				children: []*command{
					{name: "credential", help: "Save the device credential", run: (*runner).saveCredential,
						params: []param{file("file", "File to write, or - for standard output")}},
				}},
		}},
		{name: "reload", help: "Reload the license agent", admin: true, run: (*runner).reload},
	}}
	link(root, false)
	return root
}

// link sets parents and passes admin down the tree.
func link(c *command, admin bool) {
	c.admin = c.admin || admin
	for _, k := range c.children {
		k.parent = c
		link(k, c.admin)
	}
}
