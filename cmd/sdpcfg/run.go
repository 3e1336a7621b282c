package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

// run runs sdpcfg with args (without the program name) on the given
// streams and returns its exit code. SIGINT and SIGTERM cancel the
// command's context: watch, server and demo stop cleanly on them.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return newEnv(stdin, stdout, stderr).run(ctx, args)
}

// env is what a run of sdpcfg works with: its streams and the outside
// world (environment, store, terminal, editor), replaced in tests.
type env struct {
	in     io.Reader
	out    io.Writer
	errOut io.Writer

	// getenv reads the environment (os.Getenv).
	getenv func(string) string
	// open connects to a store (config.OpenSettings).
	open func(ctx context.Context, s config.Settings, opts config.Options) (*config.Config, error)
	// isTerminal tells whether a stream is a terminal.
	isTerminal func(stream any) bool
	// readPassword reads a line from the terminal in without echoing it.
	readPassword func(ctx context.Context, in any) (string, error)
	// startEtcd starts an embedded etcd (etcdserver.Start).
	startEtcd func(ctx context.Context, cfg etcdserver.Config) (*etcdserver.Server, error)
	// demoPace is the pause between the demo's changes, for the eye.
	demoPace time.Duration
}

// newEnv returns the env of the real process.
func newEnv(stdin io.Reader, stdout, stderr io.Writer) *env {
	return &env{
		in: stdin, out: stdout, errOut: stderr,
		getenv:       os.Getenv,
		open:         config.OpenSettings,
		isTerminal:   isTerminal,
		readPassword: readPassword,
		startEtcd:    etcdserver.Start,
		demoPace:     400 * time.Millisecond,
	}
}

// errHelp ends a run that printed help.
var errHelp = errors.New("help shown")

// run parses args, runs the command and reports its error: the one place
// where errors become messages and exit codes. A panic is reported as one
// line too, never as a stack trace.
func (e *env) run(ctx context.Context, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.errOut, "sdpcfg: internal error: %v (this is a bug; please report it with the command you ran)\n", r)
			code = exitError
		}
	}()
	err := e.dispatch(ctx, args)
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintln(e.errOut, message(err))
	return exitCode(err)
}

// dispatch finds the command, parses its flags and runs it: Complete,
// Validate, Run.
func (e *env) dispatch(ctx context.Context, args []string) error {
	g := &globalOptions{env: e}
	gfs := g.flagSet()
	gfs.SetOutput(io.Discard)
	gfs.SetInterspersed(false)
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			topUsage(e.out, g.flagSet())
			return errHelp
		}
		return usagef("%v (see 'sdpcfg --help')", err)
	}
	rest := gfs.Args()
	if g.version && len(rest) == 0 {
		rest = []string{"version"}
	}
	if len(rest) == 0 {
		return usagef("no command given: run 'sdpcfg --help' for the list, or 'sdpcfg demo' for a tour")
	}
	c := findCommand(rest[0])
	if c == nil {
		if s := suggest(rest[0]); s != "" {
			return usagef("unknown command %q: did you mean %q? (see 'sdpcfg --help')", rest[0], s)
		}
		return usagef("unknown command %q (see 'sdpcfg --help')", rest[0])
	}
	r := c.newRunner(g)
	own := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	own.SortFlags = false
	r.addFlags(own)
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.AddFlagSet(own)
	fs.AddFlagSet(gfs) // the same flags, so global flags may follow the command
	if err := fs.Parse(rest[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			commandUsage(e.out, c, own)
			return errHelp
		}
		return usagef("%s: %v (see 'sdpcfg %s --help')", c.name, err, c.name)
	}
	if err := g.validate(); err != nil {
		return err
	}
	if err := r.complete(fs.Args()); err != nil {
		return err
	}
	if err := r.validate(); err != nil {
		return err
	}
	return r.run(ctx)
}

// wantArgs checks the number of positional arguments of a command.
func wantArgs(cmd string, args []string, min, max int, synopsis string) error {
	if len(args) < min || len(args) > max {
		return usagef("%s: want %s, got %d argument(s) (see 'sdpcfg %s --help')", cmd, synopsis, len(args), cmd)
	}
	return nil
}
