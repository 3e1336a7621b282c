package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// The environment variables ResolveSettings reads, as ska-sdp-config names
// them. SDP_CONFIG_CLIENT_CERT, SDP_CONFIG_CLIENT_KEY, SDP_CONFIG_ENDPOINTS
// and SDP_CONFIG_PREFIX are sdpconfig's own additions.
const (
	EnvBackend    = "SDP_CONFIG_BACKEND"     // "etcd3" or "memory"
	EnvHost       = "SDP_CONFIG_HOST"        // host name or IP address of the etcd server
	EnvPort       = "SDP_CONFIG_PORT"        // its client port
	EnvProtocol   = "SDP_CONFIG_PROTOCOL"    // "http" or "https"
	EnvCert       = "SDP_CONFIG_CERT"        // CA certificate file (PEM) to verify the server
	EnvClientCert = "SDP_CONFIG_CLIENT_CERT" // client certificate file (PEM) for mutual TLS
	EnvClientKey  = "SDP_CONFIG_CLIENT_KEY"  // its private key file (PEM)
	EnvUsername   = "SDP_CONFIG_USERNAME"    // etcd user name
	EnvPassword   = "SDP_CONFIG_PASSWORD"    // etcd password (never printed)
	EnvEndpoints  = "SDP_CONFIG_ENDPOINTS"   // comma-separated host:port list of a cluster
	EnvPrefix     = "SDP_CONFIG_PREFIX"      // global key prefix, a path such as /sdp
)

// The defaults of the settings, those of ska-sdp-config: an etcd server on
// the local host's default client port, over plain HTTP.
const (
	DefaultBackend  = BackendEtcd3
	DefaultHost     = "127.0.0.1"
	DefaultPort     = 2379
	DefaultProtocol = "http"
)

// The backend names of the Backend setting.
const (
	BackendEtcd3  = "etcd3"  // an etcd v3 server or cluster
	BackendMemory = "memory" // an in-process store, empty at Open (tests, demos)
)

// Source says where a resolved setting's value came from.
type Source int

// The sources of a setting, from the strongest to the weakest. A setting
// takes its value from the strongest source that sets it.
const (
	// SourceDefault: neither Options nor the environment set it.
	SourceDefault Source = iota
	// SourceEnv: an SDP_CONFIG_* environment variable set it.
	SourceEnv
	// SourceOption: a field of Options set it (the CLI's flags).
	SourceOption
)

// String returns "default", "env" or "option".
func (s Source) String() string {
	switch s {
	case SourceDefault:
		return "default"
	case SourceEnv:
		return "env"
	case SourceOption:
		return "option"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// Settings are the resolved connection settings of Open. Resolve them with
// ResolveSettings. Printing a Settings with fmt (%v, %+v, %#v, %s) never
// shows the password.
type Settings struct {
	Backend  string // BackendEtcd3 or BackendMemory
	Host     string // the server's host (unused when Endpoints came from a stronger source)
	Port     int    // the server's client port
	Protocol string // "http" or "https"
	// Endpoints are the "host:port" of every server to connect to: those
	// of the Endpoints setting, or the one of Host and Port (see
	// ResolveSettings for which).
	Endpoints  []string
	CACert     string // CA certificate file; "" uses the system roots (https only)
	ClientCert string // client certificate file for mutual TLS, or ""
	ClientKey  string // its key file, or ""
	Username   string // etcd user, or "" for no authentication
	Password   string // etcd password; never printed, never in errors
	Prefix     string // global key prefix ("" or a path such as "/sdp")

	sources map[string]Source
}

// The names of the settings, as Settings.Source and SettingError use them.
const (
	SettingBackend    = "backend"
	SettingHost       = "host"
	SettingPort       = "port"
	SettingProtocol   = "protocol"
	SettingEndpoints  = "endpoints"
	SettingCACert     = "cert"
	SettingClientCert = "client-cert"
	SettingClientKey  = "client-key"
	SettingUsername   = "username"
	SettingPassword   = "password"
	SettingPrefix     = "prefix"
)

// settingEnv maps each setting to its environment variable, in the order
// Settings.List shows them.
var settingEnv = []struct{ name, env string }{
	{SettingBackend, EnvBackend},
	{SettingEndpoints, EnvEndpoints},
	{SettingHost, EnvHost},
	{SettingPort, EnvPort},
	{SettingProtocol, EnvProtocol},
	{SettingCACert, EnvCert},
	{SettingClientCert, EnvClientCert},
	{SettingClientKey, EnvClientKey},
	{SettingUsername, EnvUsername},
	{SettingPassword, EnvPassword},
	{SettingPrefix, EnvPrefix},
}

// EnvName returns the environment variable of a setting name, or "".
func EnvName(setting string) string {
	for _, s := range settingEnv {
		if s.name == setting {
			return s.env
		}
	}
	return ""
}

// Source returns where the named setting (SettingBackend, ...) came from.
func (s Settings) Source(name string) Source { return s.sources[name] }

// Setting is one resolved setting, for display.
type Setting struct {
	Name   string // SettingBackend, ...
	Env    string // its environment variable
	Value  string // its value; for the password "(set)" or "", never the password
	Source Source // where the value came from
}

// List returns every setting in a fixed order with its value and source,
// the password redacted: what `sdpcfg` prints to say where its settings
// came from.
func (s Settings) List() []Setting {
	out := make([]Setting, 0, len(settingEnv))
	for _, se := range settingEnv {
		out = append(out, Setting{Name: se.name, Env: se.env, Value: s.display(se.name), Source: s.sources[se.name]})
	}
	return out
}

func (s Settings) display(name string) string {
	switch name {
	case SettingBackend:
		return s.Backend
	case SettingEndpoints:
		return strings.Join(s.Endpoints, ",")
	case SettingHost:
		return s.Host
	case SettingPort:
		return strconv.Itoa(s.Port)
	case SettingProtocol:
		return s.Protocol
	case SettingCACert:
		return s.CACert
	case SettingClientCert:
		return s.ClientCert
	case SettingClientKey:
		return s.ClientKey
	case SettingUsername:
		return s.Username
	case SettingPassword:
		if s.Password != "" {
			return "(set)"
		}
		return ""
	case SettingPrefix:
		return s.Prefix
	}
	return ""
}

// String returns the settings as "name=value (source)" pairs, the password
// redacted.
func (s Settings) String() string {
	var b strings.Builder
	for i, st := range s.List() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%q (%s)", st.Name, st.Value, st.Source)
	}
	return b.String()
}

// GoString is String, so that %#v does not print the password either.
func (s Settings) GoString() string { return "config.Settings{" + s.String() + "}" }

// URLs returns the endpoints as URLs: "http://host:port" or
// "https://host:port".
func (s Settings) URLs() []string {
	urls := make([]string, len(s.Endpoints))
	for i, e := range s.Endpoints {
		urls[i] = s.Protocol + "://" + e
	}
	return urls
}

// SettingError is the error of a setting with a bad value. It wraps
// ErrInvalidSetting. It never holds a password.
type SettingError struct {
	Name   string // the setting: SettingPort, ...
	Source Source // where the bad value came from
	Value  string // the bad value ("" for the password)
	Reason string // what is wrong, and how to fix it
}

// Error returns a one-line message naming the setting, its source (the
// environment variable when it came from the environment) and the value.
func (e *SettingError) Error() string {
	from := e.Source.String()
	if e.Source == SourceEnv {
		from = EnvName(e.Name)
	}
	if e.Name == SettingPassword {
		return fmt.Sprintf("%v: %s (from %s): %s", ErrInvalidSetting, e.Name, from, e.Reason)
	}
	return fmt.Sprintf("%v: %s %q (from %s): %s", ErrInvalidSetting, e.Name, e.Value, from, e.Reason)
}

// Unwrap returns ErrInvalidSetting.
func (e *SettingError) Unwrap() error { return ErrInvalidSetting }

// ResolveSettings resolves the connection settings of Open: each setting
// from opts if the field is set (not its zero value), else from its
// environment variable read with getenv if that is not empty, else from
// the default (getenv nil reads no environment). Sources are recorded
// (Settings.Source, Settings.List).
//
// Endpoints: the Endpoints setting is a list of "host:port" (or "host",
// taking Port; or "http://host:port" / "https://host:port", whose scheme
// must match Protocol). It is used when it comes from a source at least as
// strong as the strongest of Host and Port; otherwise Host and Port give
// the single endpoint. So a flag --host beats SDP_CONFIG_ENDPOINTS, and
// SDP_CONFIG_ENDPOINTS beats SDP_CONFIG_HOST.
//
// Every setting is validated, whatever the backend: a bad value fails with
// a *SettingError (wrapping ErrInvalidSetting) naming the setting and where
// it came from. TLS files are only checked to be named consistently
// (client certificate and key together, with protocol https); they are
// read by Open.
func ResolveSettings(opts Options, getenv func(string) string) (Settings, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s := Settings{sources: make(map[string]Source)}
	str := func(name, opt, def string) string {
		if opt != "" {
			s.sources[name] = SourceOption
			return opt
		}
		if v := getenv(EnvName(name)); v != "" {
			s.sources[name] = SourceEnv
			return v
		}
		s.sources[name] = SourceDefault
		return def
	}
	s.Backend = str(SettingBackend, opts.Backend, DefaultBackend)
	s.Host = str(SettingHost, opts.Host, DefaultHost)
	s.Protocol = str(SettingProtocol, opts.Protocol, DefaultProtocol)
	s.CACert = str(SettingCACert, opts.CACert, "")
	s.ClientCert = str(SettingClientCert, opts.ClientCert, "")
	s.ClientKey = str(SettingClientKey, opts.ClientKey, "")
	s.Username = str(SettingUsername, opts.Username, "")
	s.Password = str(SettingPassword, opts.Password, "")
	s.Prefix = str(SettingPrefix, opts.Prefix, "")

	bad := func(name, value, reason string) error {
		return &SettingError{Name: name, Source: s.sources[name], Value: value, Reason: reason}
	}

	// Port: an int in Options, a string in the environment.
	switch {
	case opts.Port != 0:
		s.sources[SettingPort] = SourceOption
		if opts.Port < 1 || opts.Port > 65535 {
			return Settings{}, bad(SettingPort, strconv.Itoa(opts.Port), "must be a port number from 1 to 65535")
		}
		s.Port = opts.Port
	case getenv(EnvPort) != "":
		s.sources[SettingPort] = SourceEnv
		v := getenv(EnvPort)
		p, err := parsePort(v)
		if err != nil {
			return Settings{}, bad(SettingPort, v, err.Error())
		}
		s.Port = p
	default:
		s.sources[SettingPort] = SourceDefault
		s.Port = DefaultPort
	}

	switch s.Backend {
	case BackendEtcd3, BackendMemory:
	default:
		return Settings{}, bad(SettingBackend, s.Backend, `unknown backend: use "etcd3" or "memory"`)
	}
	switch s.Protocol {
	case "http", "https":
	default:
		return Settings{}, bad(SettingProtocol, s.Protocol, `use "http" or "https"`)
	}
	if err := checkHost(s.Host); err != nil {
		return Settings{}, bad(SettingHost, s.Host, err.Error())
	}
	if s.Prefix != "" {
		if err := backend.ValidateWritePath(s.Prefix); err != nil {
			return Settings{}, bad(SettingPrefix, s.Prefix, `must be a path such as "/sdp": it starts with "/", has no trailing "/", no empty segment and no control character`)
		}
	}
	if (s.ClientCert == "") != (s.ClientKey == "") {
		if s.ClientCert == "" {
			return Settings{}, bad(SettingClientKey, s.ClientKey, "set the client certificate ("+EnvClientCert+") with the client key")
		}
		return Settings{}, bad(SettingClientCert, s.ClientCert, "set the client key ("+EnvClientKey+") with the client certificate")
	}
	if s.Protocol != "https" {
		for _, f := range []struct{ name, value string }{
			{SettingCACert, s.CACert}, {SettingClientCert, s.ClientCert},
		} {
			if f.value != "" {
				return Settings{}, bad(f.name, f.value, `certificates need protocol "https" (`+EnvProtocol+`=https)`)
			}
		}
	}
	if s.Password != "" && s.Username == "" {
		return Settings{}, bad(SettingPassword, "", "a password needs a user name ("+EnvUsername+")")
	}
	if s.Username != "" && s.Password == "" {
		return Settings{}, bad(SettingUsername, s.Username, "a user name needs a password ("+EnvPassword+")")
	}

	// Endpoints.
	var list []string
	var src Source
	switch {
	case len(opts.Endpoints) > 0:
		list, src = opts.Endpoints, SourceOption
	case getenv(EnvEndpoints) != "":
		list, src = strings.Split(getenv(EnvEndpoints), ","), SourceEnv
	}
	hostPortSrc := max(s.sources[SettingHost], s.sources[SettingPort])
	if list != nil && src >= hostPortSrc {
		s.sources[SettingEndpoints] = src
		for _, e := range list {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			ep, err := normalizeEndpoint(e, s.Port, s.Protocol)
			if err != nil {
				return Settings{}, bad(SettingEndpoints, e, err.Error())
			}
			s.Endpoints = append(s.Endpoints, ep)
		}
		if len(s.Endpoints) == 0 {
			return Settings{}, bad(SettingEndpoints, strings.Join(list, ","), "no endpoint in the list")
		}
	} else {
		s.sources[SettingEndpoints] = hostPortSrc
		s.Endpoints = []string{net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	}
	return s, nil
}

func parsePort(v string) (int, error) {
	p, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("not a port number")
	}
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("must be a port number from 1 to 65535")
	}
	return p, nil
}

func checkHost(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	if strings.Contains(h, "://") {
		return fmt.Errorf("a host name, not a URL: set the protocol and port on their own, or use %s", EnvEndpoints)
	}
	if strings.ContainsAny(h, ":/ \t[]") {
		return fmt.Errorf("not a host name or IP address")
	}
	return nil
}

// normalizeEndpoint returns e as "host:port".
func normalizeEndpoint(e string, port int, protocol string) (string, error) {
	if scheme, rest, ok := strings.Cut(e, "://"); ok {
		if scheme != protocol {
			return "", fmt.Errorf("scheme %q does not match protocol %q", scheme, protocol)
		}
		e = rest
	}
	if net.ParseIP(e) != nil { // a bare IPv6 (or IPv4) address
		return net.JoinHostPort(e, strconv.Itoa(port)), nil
	}
	host, ps, err := net.SplitHostPort(e)
	if err != nil {
		if checkHost(e) != nil {
			return "", fmt.Errorf("want host:port")
		}
		return net.JoinHostPort(e, strconv.Itoa(port)), nil
	}
	if err := checkHost(host); err != nil || host == "" {
		return "", fmt.Errorf("want host:port")
	}
	p, err := parsePort(ps)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}
