package etcd3_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// longDial is a DialTimeout that the errors below must not wait for: each
// says what is wrong as soon as it is known.
const longDial = 2 * time.Minute

// refusedAddr returns a loopback address nobody listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

// newAtOnce calls New with longDial and fails the test if New waited for
// it, which would mean the error was found by timing out.
func newAtOnce(t *testing.T, cfg etcd3.Config) error {
	t.Helper()
	cfg.DialTimeout = longDial
	start := time.Now()
	b, err := etcd3.New(context.Background(), cfg)
	if err == nil {
		b.Close()
	}
	assert.Assert(t, time.Since(start) < longDial/2, "New waited %v for its DialTimeout", time.Since(start))
	return err
}

func TestNewRefusedSaysSo(t *testing.T) {
	addr := refusedAddr(t)
	err := newAtOnce(t, etcd3.Config{Endpoints: []string{addr}})
	assert.ErrorIs(t, err, backend.ErrUnavailable)
	assert.ErrorContains(t, err, "connection refused at "+addr)
}

func TestNewNamesTheCertificateProblem(t *testing.T) {
	e := sdptest.NewEtcd(t, sdptest.WithTLS())
	f := e.TLS()
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	assert.NilError(t, os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600))
	for _, tc := range []struct {
		name string
		tls  etcd3.TLSConfig
		want string
	}{
		{"CA not PEM", etcd3.TLSConfig{CAFile: notPEM}, "CA file " + notPEM + ": no PEM certificate in it"},
		{"CA missing", etcd3.TLSConfig{CAFile: notPEM + ".none"}, "CA file " + notPEM + ".none: open"},
		{"client certificate expired", etcd3.TLSConfig{CAFile: f.CAFile, CertFile: f.ExpiredCert, KeyFile: f.ExpiredKey},
			"client certificate " + f.ExpiredCert + " expired on "},
		{"wrong CA", etcd3.TLSConfig{CAFile: f.UntrustedCAFile, CertFile: f.ClientCert, KeyFile: f.ClientKey},
			"certificate signed by unknown authority"},
		{"client certificate of another CA", etcd3.TLSConfig{CAFile: f.CAFile, CertFile: f.UntrustedCert, KeyFile: f.UntrustedKey},
			"the server refused the client certificate " + f.UntrustedCert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newAtOnce(t, etcd3.Config{Endpoints: e.Endpoints(), TLS: tc.tls})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// NoProbe leaves the dialling to the etcd client: a refused endpoint then
// fails only after DialTimeout, as "unavailable".
func TestNewNoProbe(t *testing.T) {
	addr := refusedAddr(t)
	_, err := etcd3.New(context.Background(), etcd3.Config{Endpoints: []string{addr}, NoProbe: true, DialTimeout: 200 * time.Millisecond})
	assert.ErrorIs(t, err, backend.ErrUnavailable)
	assert.Assert(t, !strings.Contains(err.Error(), "connection refused at"), err)
}
