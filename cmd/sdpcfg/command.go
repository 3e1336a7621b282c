package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sdpconfig/sdpconfig/internal/nearest"

	"github.com/spf13/pflag"
)

// runner is what every subcommand's options struct implements, as kubectl's
// commands do: flags are bound to its fields, then Complete fills in what
// the arguments and flags imply, Validate checks it all before any I/O, and
// Run does the work. Each returns an error for run to report.
type runner interface {
	// addFlags binds the command's own flags to the options.
	addFlags(fs *pflag.FlagSet)
	// complete takes the positional arguments.
	complete(args []string) error
	// validate checks the options, before any I/O.
	validate() error
	// run does the work.
	run(ctx context.Context) error
}

// command describes one subcommand.
type command struct {
	name    string   // as typed: "ls"
	aliases []string // other names it answers to: "rm" for delete
	args    string   // the synopsis of its arguments: "PATH [VALUE|-]"
	short   string   // one line for the command list
	long    string   // the help text, paragraphs separated by blank lines
	// newRunner returns fresh options for one run, sharing g.
	newRunner func(g *globalOptions) runner
}

// commands returns the subcommands in the order help lists them.
func commands() []*command {
	return []*command{
		lsCommand, getCommand, watchCommand, historyCommand, diffCommand,
		createCommand, updateCommand, putCommand, editCommand, deleteCommand,
		importCommand, exportCommand, txnCommand, compactCommand,
		leaseCommand, endpointCommand, serverCommand, uiCommand, demoCommand,
		netobjCommand,
		syncCommand,
		topologyCommand,
		versionCommand, completionCommand, helpCommand,
	}
}

// findCommand returns the subcommand called name, or one of its aliases,
// or nil.
func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c
		}
	}
	return nil
}

// listName is the name of c in the command list: "delete (del, rm)".
func (c *command) listName() string {
	if len(c.aliases) == 0 {
		return c.name
	}
	return c.name + " (" + strings.Join(c.aliases, ", ") + ")"
}

// suggest returns the command closest to a mistyped name, or "".
func suggest(name string) string {
	names := make([]string, 0, len(commands()))
	for _, c := range commands() {
		names = append(names, c.name)
	}
	best, _ := nearest.Name(name, names, 3)
	return best
}

// topUsage writes the help of sdpcfg itself.
func topUsage(w io.Writer, global *pflag.FlagSet) {
	fmt.Fprint(w, `sdpcfg inspects and edits an sdpconfig store: etcd keys laid out as
ska-sdp-config lays them out ("/pb/x" is stored as "2/pb/x").

Usage:
  sdpcfg [global flags] COMMAND [flags] [arguments]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-18s %s\n", c.listName(), c.short)
	}
	fmt.Fprint(w, `
Start here:
  sdpcfg demo                  a tour on an embedded etcd (no set-up)
  sdpcfg server                run an etcd for the other commands to use

Global flags (also accepted after the command):
`)
	fmt.Fprint(w, global.FlagUsagesWrapped(0))
	fmt.Fprint(w, `
Settings come from the flags, then the SDP_CONFIG_* environment variables
(SDP_CONFIG_ENDPOINTS, SDP_CONFIG_HOST, SDP_CONFIG_PORT, SDP_CONFIG_PROTOCOL,
SDP_CONFIG_PREFIX, SDP_CONFIG_BACKEND, SDP_CONFIG_CERT, SDP_CONFIG_CLIENT_CERT,
SDP_CONFIG_CLIENT_KEY, SDP_CONFIG_USERNAME, SDP_CONFIG_PASSWORD), then the
defaults (etcd at 127.0.0.1:2379).

Exit codes: 0 ok, 1 error, 2 usage or bad input, 3 not found, 4 conflict.
Run 'sdpcfg COMMAND --help' for the help of a command.
`)
}

// commandUsage writes the help of one command: synopsis, text, its own
// flags, then a pointer to the global flags.
func commandUsage(w io.Writer, c *command, own *pflag.FlagSet) {
	synopsis := "sdpcfg " + c.name + " [flags]"
	if c.args != "" {
		synopsis += " " + c.args
	}
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n\n%s\n", c.short, synopsis, strings.TrimSpace(c.long))
	if own.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", own.FlagUsagesWrapped(0))
	}
	fmt.Fprint(w, "\nGlobal flags: see 'sdpcfg --help'.\n")
}
