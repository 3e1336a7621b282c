package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/etcdserver"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// The defaults of server: the endpoint the other commands use by default.
const (
	defaultListen     = "http://127.0.0.1:2379"
	defaultListenPeer = "http://127.0.0.1:2380"
)

var serverCommand = &command{
	name:  "server",
	args:  "",
	short: "run an etcd server for the other commands (until Ctrl-C)",
	long: `
Runs an etcd server inside sdpcfg, listening on --listen (by default
http://127.0.0.1:2379, where every sdpcfg command and SDK client connects
by default) and keeping its data in --data-dir (by default
$XDG_DATA_HOME/sdpcfg/etcd, else ~/.local/share/sdpcfg/etcd), so the data
survives a restart. It prints its endpoint and runs until interrupted
(Ctrl-C). It is a single member, meant for development and demos; run a
real etcd cluster in production.

With --metrics-listen it also serves etcd's metrics at /metrics, /healthz,
and /readyz (200 while etcd has a leader and no alarm).

Examples:
  sdpcfg server
  sdpcfg server --listen http://127.0.0.1:23790 --data-dir /tmp/etcd
  sdpcfg server --metrics-listen 127.0.0.1:9464 --log-format json`,
	newRunner: func(g *globalOptions) runner { return &serverOptions{g: g} },
}

// serverOptions are the options of server.
type serverOptions struct {
	g          *globalOptions
	dataDir    string
	listen     string
	listenPeer string
	obs        observeFlags
}

func (o *serverOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.dataDir, "data-dir", "", "directory of the server's data (default $XDG_DATA_HOME/sdpcfg/etcd)")
	fs.StringVar(&o.listen, "listen", defaultListen, "URL to serve clients on: http://IP:port")
	fs.StringVar(&o.listenPeer, "listen-peer", defaultListenPeer, "URL of etcd's peer listener, unused by a single server but required by etcd")
	o.obs.addFlags(fs)
}

func (o *serverOptions) complete(args []string) error {
	if err := wantArgs("server", args, 0, 0, "no arguments"); err != nil {
		return err
	}
	if o.dataDir == "" {
		base := o.g.env.getenv("XDG_DATA_HOME")
		if base == "" {
			home := o.g.env.getenv("HOME")
			if home == "" {
				return usagef("server: neither XDG_DATA_HOME nor HOME is set: pass --data-dir")
			}
			base = filepath.Join(home, ".local", "share")
		}
		o.dataDir = filepath.Join(base, "sdpcfg", "etcd")
	}
	return nil
}

func (o *serverOptions) validate() error {
	for _, f := range []struct{ name, v string }{{"--listen", o.listen}, {"--listen-peer", o.listenPeer}} {
		u, err := url.Parse(f.v)
		if err != nil || u.Scheme != "http" || u.Port() == "" {
			return usagef("server: %s %q: want http://IP:port, such as %s", f.name, f.v, defaultListen)
		}
	}
	if o.listen == o.listenPeer {
		return usagef("server: --listen and --listen-peer are both %s: give them different ports", o.listen)
	}
	return o.obs.validate("server")
}

func (o *serverOptions) run(ctx context.Context) error {
	srv, err := o.g.env.startEtcd(ctx, etcdserver.Config{DataDir: o.dataDir, ClientURL: o.listen, PeerURL: o.listenPeer})
	if errors.Is(err, etcdserver.ErrDataDirInUse) {
		return fmt.Errorf("server: %w; pass --data-dir to serve another", err)
	}
	if err != nil {
		return fmt.Errorf("server: %w (is another etcd running? stop it, or pass --listen and --listen-peer with free ports)", err)
	}
	defer srv.Close()
	obs := o.obs.start(o.g)
	// etcd registers its own metrics (etcd_*, go_*, process_*) on the
	// default registry: serve those.
	if err := obs.serve(&o.obs, o.g, prometheus.DefaultGatherer, telemetry.Check{Name: "etcd", Func: srv.Ready}); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	defer obs.close()
	out := o.g.env.out
	fmt.Fprintf(out, "etcd is serving clients at %s\n", srv.ClientURL())
	fmt.Fprintf(out, "data directory: %s\n", srv.DataDir())
	if o.listen != defaultListen {
		fmt.Fprintf(out, "point sdpcfg and SDK clients at it: export %s=%s\n", config.EnvEndpoints, srv.Endpoint())
	} else {
		fmt.Fprintln(out, "sdpcfg commands and SDK clients use it by default")
	}
	fmt.Fprintln(out, "stop it with Ctrl-C")
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "stopping")
		return nil
	case err := <-srv.Err():
		return fmt.Errorf("server: %w", err)
	}
}
