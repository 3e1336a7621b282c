package main

import (
	"context"

	"github.com/spf13/pflag"
)

// helpCommand is set in init: its runner lists the commands, which
// include it.
var helpCommand *command

func init() {
	helpCommand = &command{
		name:  "help",
		args:  "[COMMAND]",
		short: "show the help of sdpcfg or of a command",
		long: `
Shows the help of sdpcfg, or of COMMAND (the same as 'sdpcfg COMMAND
--help').`,
		newRunner: func(g *globalOptions) runner { return &helpOptions{g: g} },
	}
}

// helpOptions are the options of help.
type helpOptions struct {
	g   *globalOptions
	cmd *command
}

func (o *helpOptions) addFlags(*pflag.FlagSet) {}

func (o *helpOptions) complete(args []string) error {
	if err := wantArgs("help", args, 0, 1, "at most one COMMAND"); err != nil {
		return err
	}
	if len(args) == 1 {
		if o.cmd = findCommand(args[0]); o.cmd == nil {
			return usagef("help: unknown command %q (see 'sdpcfg --help')", args[0])
		}
	}
	return nil
}

func (o *helpOptions) validate() error { return nil }

func (o *helpOptions) run(context.Context) error {
	if o.cmd == nil {
		topUsage(o.g.env.out, (&globalOptions{}).flagSet())
		return nil
	}
	commandUsage(o.g.env.out, o.cmd, ownFlags(o.cmd))
	return nil
}

// ownFlags returns the flags a command defines itself.
func ownFlags(c *command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SortFlags = false
	c.newRunner(&globalOptions{}).addFlags(fs)
	return fs
}
