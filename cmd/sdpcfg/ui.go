package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/entities/topology"
	"github.com/sdpconfig/sdpconfig/internal/ui"
)

const defaultUIListen = "127.0.0.1:8080"

var uiCommand = &command{
	name:  "ui",
	args:  "",
	short: "serve a web console of the store (tree, live updates, history, leases, controllers)",
	long: `
Serves a web console of the store on --listen (by default
http://127.0.0.1:8080) until interrupted (Ctrl-C). It connects with the
same settings as every other command (flags, SDP_CONFIG_*, TLS, user and
password) and shows:

  - the tree of paths, level by level, with search by prefix and JSON
    values highlighted; it follows every change live (one watch stream);
  - edits (create, update, delete, recursive delete after confirming the
    count), each a compare on the mod revision you saw: a conflicting
    change shows both versions;
  - a key's history, a side-by-side diff of two revisions, and the whole
    tree at an old revision (read-only);
  - owners, leases and their TTLs; the topology, data-sync and
    network-object controllers; the cluster's endpoints.

It binds to loopback by default. Another address needs --auth (log in
with the etcd user's password; the session cookie is HttpOnly and
SameSite=Strict) or --insecure. --read-only refuses every write;
--tls-cert and --tls-key serve HTTPS. Every write needs the page's CSRF
token.

Examples:
  sdpcfg ui
  sdpcfg ui --read-only --listen 127.0.0.1:9000
  sdpcfg --user alice ui --listen 0.0.0.0:8443 --auth --tls-cert c.pem --tls-key k.pem`,
	newRunner: func(g *globalOptions) runner { return &uiOptions{g: g} },
}

// uiOptions are the options of ui.
type uiOptions struct {
	g               *globalOptions
	listen          string
	auth, insecure  bool
	readOnly        bool
	tlsCert, tlsKey string
	loopback        bool
}

func (o *uiOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.listen, "listen", defaultUIListen, "host:port to serve the console on")
	fs.BoolVar(&o.auth, "auth", false, "require logging in with the etcd user's password")
	fs.BoolVar(&o.insecure, "insecure", false, "serve a non-loopback --listen without --auth")
	fs.BoolVar(&o.readOnly, "read-only", false, "refuse every write")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "certificate file (PEM) to serve HTTPS, with --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "key file (PEM) of --tls-cert")
}

func (o *uiOptions) complete(args []string) error { return wantArgs("ui", args, 0, 0, "no arguments") }

func (o *uiOptions) validate() error {
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return usagef("ui: --listen %q: want host:port, such as %s", o.listen, defaultUIListen)
	}
	ip := net.ParseIP(host)
	o.loopback = host == "localhost" || (ip != nil && ip.IsLoopback())
	if !o.loopback && !o.auth && !o.insecure {
		return usagef("ui: --listen %s is not a loopback address: add --auth (log in with the etcd user's password) or --insecure", o.listen)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usagef("ui: --tls-cert and --tls-key go together")
	}
	return nil
}

func (o *uiOptions) run(ctx context.Context) error {
	s, err := o.g.settings(ctx)
	if err != nil {
		return err
	}
	if o.auth && s.Password == "" {
		return usagef("ui: --auth needs the etcd user's password: pass --user and set SDP_CONFIG_PASSWORD (or answer the prompt)")
	}
	c, err := o.g.openSettings(ctx, s)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := ui.Options{Config: c, ReadOnly: o.readOnly, Secure: o.tlsCert != "", Logger: o.g.tel.Logger,
		Kinds: []ui.Checker{topology.DesiredTopologies, topology.AppliedRows, topology.Heartbeats, topology.DriftFlags,
			datasync.Specs, datasync.Statuses, datasync.Requests}}
	if o.auth {
		opts.Password = s.Password
	}
	console, err := ui.New(opts)
	if err != nil {
		return err
	}
	defer console.Close()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("ui: listen on %s: %w", o.listen, err)
	}
	srv := &http.Server{Handler: console, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("ui: --tls-cert %s, --tls-key %s: %w", o.tlsCert, o.tlsKey, err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(o.g.env.out, "console at %s://%s/\n", scheme, ln.Addr())
	if o.readOnly {
		fmt.Fprintln(o.g.env.out, "read-only: every write is refused")
	}
	fmt.Fprintln(o.g.env.out, "stop it with Ctrl-C")
	select {
	case <-ctx.Done():
	case err := <-done:
		return fmt.Errorf("ui: %w", err)
	}
	console.Close() // ends the event streams, which Shutdown would wait for
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		srv.Close()
	}
	<-done
	return nil
}
