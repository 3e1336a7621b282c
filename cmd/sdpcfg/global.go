package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

// defaultTimeout is the default of --timeout.
const defaultTimeout = 5 * time.Second

// The output formats of -o.
const (
	outTable = "table"
	outJSON  = "json"
	outYAML  = "yaml"
)

// globalOptions are the flags every command accepts, and what they resolve
// to. Commands hold a pointer to the one of their run.
type globalOptions struct {
	env *env

	endpoints []string
	prefix    string
	backend   string
	version   bool
	quiet     bool
	cacert    string
	cert      string
	key       string
	user      string
	timeout   time.Duration
	output    string

	// tel is where the Config that open returns reports (set by the
	// long-running commands' observeFlags).
	tel config.Telemetry
}

// flagSet returns the global flags bound to g.
func (g *globalOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("sdpcfg", pflag.ContinueOnError)
	fs.StringSliceVar(&g.endpoints, "endpoints", nil, "etcd endpoints, host:port or http(s)://host:port, comma-separated (default 127.0.0.1:2379; env SDP_CONFIG_ENDPOINTS)")
	fs.StringVar(&g.prefix, "prefix", "", "global key prefix, a path such as /sdp, put before every path; / for none (env SDP_CONFIG_PREFIX)")
	fs.StringVar(&g.backend, "backend", "", `backend: "etcd3" or "memory" (an empty store private to this run; env SDP_CONFIG_BACKEND)`)
	fs.StringVar(&g.cacert, "cacert", "", "CA certificate file (PEM) to verify the server; implies https (env SDP_CONFIG_CERT)")
	fs.StringVar(&g.cert, "cert", "", "client certificate file (PEM) for mutual TLS, with --key (env SDP_CONFIG_CLIENT_CERT)")
	fs.StringVar(&g.key, "key", "", "client key file (PEM), with --cert (env SDP_CONFIG_CLIENT_KEY)")
	fs.StringVar(&g.user, "user", "", "etcd user; the password comes from SDP_CONFIG_PASSWORD or a prompt (env SDP_CONFIG_USERNAME)")
	fs.DurationVar(&g.timeout, "timeout", defaultTimeout, "bound on connecting and on each request")
	fs.StringVarP(&g.output, "output", "o", outTable, "output format: table, json or yaml")
	fs.BoolVarP(&g.quiet, "quiet", "q", false, "print nothing when a write succeeds (create, update, put, delete, import, compact)")
	fs.BoolVar(&g.version, "version", false, "print the version of sdpcfg, as 'sdpcfg version' does, and exit")
	fs.SortFlags = false
	return fs
}

// validate checks the global flags that need no I/O.
func (g *globalOptions) validate() error {
	switch g.output {
	case outTable, outJSON, outYAML:
	default:
		return usagef("-o %q: use table, json or yaml", g.output)
	}
	if g.timeout <= 0 {
		return usagef("--timeout %v: must be positive, such as 5s", g.timeout)
	}
	return nil
}

// flagOfSetting names the flag that sets a config setting, or "".
var flagOfSetting = map[string]string{
	config.SettingEndpoints:  "--endpoints",
	config.SettingPrefix:     "--prefix",
	config.SettingBackend:    "--backend",
	config.SettingCACert:     "--cacert",
	config.SettingClientCert: "--cert",
	config.SettingClientKey:  "--key",
	config.SettingUsername:   "--user",
}

// settings resolves the connection settings: flags, then the SDP_CONFIG_*
// environment, then the defaults, as config.ResolveSettings does. A user
// without a password (neither flag nor SDP_CONFIG_PASSWORD) is asked for
// it on the terminal. A bad value fails with an error naming its flag or
// environment variable.
func (g *globalOptions) settings(ctx context.Context) (config.Settings, error) {
	opts := config.Options{
		Backend:    g.backend,
		Endpoints:  g.endpoints,
		Prefix:     g.prefix,
		CACert:     g.cacert,
		ClientCert: g.cert,
		ClientKey:  g.key,
		Username:   g.user,
	}
	if g.cacert != "" || g.cert != "" || g.key != "" {
		opts.Protocol = "https"
	}
	for _, e := range g.endpoints {
		if strings.HasPrefix(e, "https://") {
			opts.Protocol = "https"
		}
	}
	user := opts.Username
	if user == "" {
		user = g.env.getenv(config.EnvUsername)
	}
	if user != "" && g.env.getenv(config.EnvPassword) == "" {
		pw, err := g.env.password(ctx, user)
		if err != nil {
			return config.Settings{}, err
		}
		opts.Password = pw
	}
	getenv := g.env.getenv
	if g.prefix == "/" { // no prefix, whatever SDP_CONFIG_PREFIX says
		opts.Prefix = ""
		getenv = func(k string) string {
			if k == config.EnvPrefix {
				return ""
			}
			return g.env.getenv(k)
		}
	}
	s, err := config.ResolveSettings(opts, getenv)
	var se *config.SettingError
	if errors.As(err, &se) {
		if f := flagOfSetting[se.Name]; f != "" && se.Source == config.SourceOption {
			return s, usagef("%s %q: %s", f, se.Value, flagReason(se.Reason))
		}
		return s, usagef("%v", err)
	}
	return s, err
}

// open connects to the store the settings name, within --timeout. The
// caller closes the Config.
func (g *globalOptions) open(ctx context.Context) (*config.Config, error) {
	s, err := g.settings(ctx)
	if err != nil {
		return nil, err
	}
	return g.openSettings(ctx, s)
}

// openSettings connects to the store of resolved settings s.
func (g *globalOptions) openSettings(ctx context.Context, s config.Settings) (*config.Config, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	c, err := g.env.open(ctx, s, config.Options{DialTimeout: g.timeout,
		Registerer: g.tel.Registerer, TracerProvider: g.tel.TracerProvider, Logger: g.tel.Logger})
	if err != nil {
		return nil, connectError(s, g.timeout, err)
	}
	return c, nil
}

// flagReason rewrites a setting error's advice for flags: the environment
// variables it names become the flags that set them.
func flagReason(reason string) string {
	var pairs []string
	for setting, flag := range flagOfSetting {
		if env := config.EnvName(setting); env != "" {
			pairs = append(pairs, env, flag)
		}
	}
	return strings.NewReplacer(pairs...).Replace(reason)
}

// connectError explains a failure to connect: where sdpcfg tried to
// connect, where that setting came from, and what to do about it.
func connectError(s config.Settings, timeout time.Duration, err error) error {
	var se *config.SettingError
	if errors.As(err, &se) {
		return usagef("%v", err)
	}
	where := strings.Join(s.URLs(), ",")
	from := "the default"
	switch s.Source(config.SettingEndpoints) {
	case config.SourceOption:
		from = "--endpoints"
	case config.SourceEnv:
		from = "SDP_CONFIG_* environment"
	}
	switch {
	case errors.Is(err, backend.ErrPermissionDenied):
		return fmt.Errorf("etcd at %s refused user %q: %w (check --user and SDP_CONFIG_PASSWORD)", where, s.Username, err)
	case isTLSError(err):
		return fmt.Errorf("TLS with etcd at %s failed: %w (check --cacert, --cert and --key)", where, err)
	}
	within := ""
	if errors.Is(err, context.DeadlineExceeded) {
		within = fmt.Sprintf(" within --timeout %v", timeout)
	}
	return fmt.Errorf("cannot connect to etcd at %s (from %s)%s: %w (is it running? start one with 'sdpcfg server', or set --endpoints or SDP_CONFIG_ENDPOINTS)", where, from, within, err)
}

// isTLSError tells whether err comes from a TLS handshake or certificate
// check.
func isTLSError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"x509:", "tls:", "certificate", "handshake"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// rpc returns a context bounded by --timeout, for one request.
func (g *globalOptions) rpc(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.timeout)
}
