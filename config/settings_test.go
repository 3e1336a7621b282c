package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolveSettingsDefaults(t *testing.T) {
	s, err := ResolveSettings(Options{}, nil)
	assert.NilError(t, err)
	assert.Equal(t, s.Backend, "etcd3")
	assert.Equal(t, s.Host, "127.0.0.1")
	assert.Equal(t, s.Port, 2379)
	assert.Equal(t, s.Protocol, "http")
	assert.DeepEqual(t, s.Endpoints, []string{"127.0.0.1:2379"})
	assert.DeepEqual(t, s.URLs(), []string{"http://127.0.0.1:2379"})
	for _, st := range s.List() {
		assert.Equal(t, st.Source, SourceDefault, st.Name)
	}
}

func TestResolveSettingsOrder(t *testing.T) {
	e := env(map[string]string{
		EnvBackend:  "memory",
		EnvHost:     "etcd.example",
		EnvPort:     "1234",
		EnvProtocol: "https",
		EnvCert:     "/ca.pem",
		EnvUsername: "env-user",
		EnvPassword: "env-secret",
		EnvPrefix:   "/env",
	})
	s, err := ResolveSettings(Options{Host: "opt.example", Prefix: "/opt", Username: "opt-user"}, e)
	assert.NilError(t, err)
	assert.Equal(t, s.Backend, "memory")
	assert.Equal(t, s.Source(SettingBackend), SourceEnv)
	assert.Equal(t, s.Host, "opt.example")
	assert.Equal(t, s.Source(SettingHost), SourceOption)
	assert.Equal(t, s.Port, 1234)
	assert.Equal(t, s.Source(SettingPort), SourceEnv)
	assert.Equal(t, s.Protocol, "https")
	assert.Equal(t, s.CACert, "/ca.pem")
	assert.Equal(t, s.Username, "opt-user")
	assert.Equal(t, s.Password, "env-secret")
	assert.Equal(t, s.Source(SettingPassword), SourceEnv)
	assert.Equal(t, s.Prefix, "/opt")
	assert.Equal(t, s.Source(SettingPrefix), SourceOption)
	assert.DeepEqual(t, s.URLs(), []string{"https://opt.example:1234"})
	assert.Equal(t, s.Source(SettingEndpoints), SourceOption)
	assert.Equal(t, s.Source(SettingClientCert), SourceDefault)
}

// TestResolveSettingsFromProcessEnv checks the real environment, as Open
// reads it.
func TestResolveSettingsFromProcessEnv(t *testing.T) {
	t.Setenv(EnvBackend, "memory")
	t.Setenv(EnvPort, "4001")
	t.Setenv(EnvPrefix, "/sdp")
	s, err := ResolveSettings(Options{Port: 4002}, os.Getenv)
	assert.NilError(t, err)
	assert.Equal(t, s.Backend, "memory")
	assert.Equal(t, s.Port, 4002)
	assert.Equal(t, s.Source(SettingPort), SourceOption)
	assert.Equal(t, s.Prefix, "/sdp")
	assert.Equal(t, s.Source(SettingPrefix), SourceEnv)
}

func TestResolveSettingsEndpoints(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		env  map[string]string
		want []string
		src  Source
	}{
		{"env endpoints beat env host", Options{},
			map[string]string{EnvEndpoints: "a:1, b ,[::1]:3,::2", EnvHost: "h", EnvPort: "9"},
			[]string{"a:1", "b:9", "[::1]:3", "[::2]:9"}, SourceEnv},
		{"option host beats env endpoints", Options{Host: "h"},
			map[string]string{EnvEndpoints: "a:1"}, []string{"h:2379"}, SourceOption},
		{"option endpoints beat option host", Options{Host: "h", Endpoints: []string{"http://a:1"}},
			nil, []string{"a:1"}, SourceOption},
		{"ipv6 host", Options{Host: "::1"}, nil, []string{"[::1]:2379"}, SourceOption},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ResolveSettings(c.opts, env(c.env))
			assert.NilError(t, err)
			assert.DeepEqual(t, s.Endpoints, c.want)
			assert.Equal(t, s.Source(SettingEndpoints), c.src)
		})
	}
}

func TestResolveSettingsErrors(t *testing.T) {
	cases := []struct {
		name    string
		opts    Options
		env     map[string]string
		setting string
		want    string // substring of the message
	}{
		{"port not a number", Options{}, map[string]string{EnvPort: "abc"}, SettingPort, `port "abc" (from SDP_CONFIG_PORT): not a port number`},
		{"port out of range env", Options{}, map[string]string{EnvPort: "70000"}, SettingPort, `(from SDP_CONFIG_PORT): must be a port number`},
		{"port out of range option", Options{Port: -1}, nil, SettingPort, `port "-1" (from option)`},
		{"unknown backend", Options{}, map[string]string{EnvBackend: "redis"}, SettingBackend, `backend "redis" (from SDP_CONFIG_BACKEND): unknown backend`},
		{"bad protocol", Options{Protocol: "ftp"}, nil, SettingProtocol, `protocol "ftp" (from option)`},
		{"prefix without slash", Options{}, map[string]string{EnvPrefix: "sdp"}, SettingPrefix, `prefix "sdp" (from SDP_CONFIG_PREFIX): must be a path`},
		{"prefix trailing slash", Options{Prefix: "/sdp/"}, nil, SettingPrefix, `prefix "/sdp/"`},
		{"prefix with a tab", Options{Prefix: "/s\tp"}, nil, SettingPrefix, `prefix "/s\tp"`},
		{"host is a url", Options{Host: "http://h:1"}, nil, SettingHost, `not a URL`},
		{"endpoint bad port", Options{}, map[string]string{EnvEndpoints: "a:x"}, SettingEndpoints, `endpoints "a:x" (from SDP_CONFIG_ENDPOINTS)`},
		{"endpoint scheme mismatch", Options{Endpoints: []string{"https://a:1"}}, nil, SettingEndpoints, `does not match protocol "http"`},
		{"empty endpoints", Options{}, map[string]string{EnvEndpoints: " , "}, SettingEndpoints, `no endpoint`},
		{"cert over http", Options{}, map[string]string{EnvCert: "/ca.pem"}, SettingCACert, `cert "/ca.pem" (from SDP_CONFIG_CERT): certificates need protocol "https"`},
		{"client cert without key", Options{Protocol: "https", ClientCert: "/c.pem"}, nil, SettingClientCert, `set the client key`},
		{"client key without cert", Options{Protocol: "https"}, map[string]string{EnvClientKey: "/k.pem"}, SettingClientKey, `SDP_CONFIG_CLIENT_KEY`},
		{"user without password", Options{Username: "u"}, nil, SettingUsername, `username "u" (from option): a user name needs a password (SDP_CONFIG_PASSWORD)`},
		{"password without user", Options{}, map[string]string{EnvPassword: "hunter2"}, SettingPassword, `password (from SDP_CONFIG_PASSWORD): a password needs a user name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ResolveSettings(c.opts, env(c.env))
			assert.Assert(t, errors.Is(err, ErrInvalidSetting), "%v", err)
			var se *SettingError
			assert.Assert(t, errors.As(err, &se))
			assert.Equal(t, se.Name, c.setting)
			assert.ErrorContains(t, err, c.want)
			assert.Assert(t, !strings.Contains(err.Error(), "hunter2"))
		})
	}
}

func TestSettingsNeverShowPassword(t *testing.T) {
	s, err := ResolveSettings(Options{Username: "u", Password: "hunter2"}, nil)
	assert.NilError(t, err)
	assert.Equal(t, s.Password, "hunter2")
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, s)
		assert.Assert(t, !strings.Contains(out, "hunter2"), "%s printed %s", format, out)
	}
	assert.Assert(t, strings.Contains(s.String(), `password="(set)" (option)`), s.String())
	for _, st := range s.List() {
		assert.Assert(t, st.Value != "hunter2")
	}
	assert.Assert(t, strings.Contains(s.String(), `backend="etcd3" (default)`), s.String())
}
