package securitytest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// tlsOptions are the SDK settings for e's TLS files, with the given client
// certificate.
func tlsOptions(e *sdptest.Etcd, ca, cert, key string) config.Options {
	return config.Options{
		Endpoints:   []string{hostPort(e.Endpoints()[0])},
		Protocol:    "https",
		CACert:      ca,
		ClientCert:  cert,
		ClientKey:   key,
		DialTimeout: 2 * time.Second,
	}
}

func TestSDKConnectsOverTLSWithOptionsAndEnv(t *testing.T) {
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t, sdptest.WithTLS())
	f := e.TLS()

	c, err := config.Open(ctx, tlsOptions(e, f.CAFile, f.ClientCert, f.ClientKey))
	assert.NilError(t, err)
	assert.NilError(t, c.Txn(ctx, func(tx *config.Txn) error { return tx.Put("/a", "1") }))
	assert.NilError(t, c.Close())

	t.Setenv(config.EnvEndpoints, hostPort(e.Endpoints()[0]))
	t.Setenv(config.EnvProtocol, "https")
	t.Setenv(config.EnvCert, f.CAFile)
	t.Setenv(config.EnvClientCert, f.ClientCert)
	t.Setenv(config.EnvClientKey, f.ClientKey)
	c, err = config.Open(ctx, config.Options{DialTimeout: 2 * time.Second})
	assert.NilError(t, err)
	defer c.Close()
	var got string
	assert.NilError(t, c.Txn(ctx, func(tx *config.Txn) error {
		v, _, err := tx.Get("/a")
		got = v
		return err
	}))
	assert.Equal(t, got, "1")
}

func TestSDKRefusesWrongCertificates(t *testing.T) {
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t, sdptest.WithTLS())
	f := e.TLS()
	var sec secrets
	sec.addKey(t, f.ClientKey)
	sec.addKey(t, f.UntrustedKey)
	sec.addKey(t, f.ServerKey)

	cases := []struct {
		name          string
		ca, cert, key string
		want          string // in the error
		unavailable   bool   // the error wraps ErrUnavailable and names the endpoint
	}{
		{name: "client certificate from an untrusted authority", ca: f.CAFile, cert: f.UntrustedCert, key: f.UntrustedKey,
			want: "the server refused the client certificate " + f.UntrustedCert, unavailable: true},
		{name: "no client certificate", ca: f.CAFile, want: "the server refused the client certificate", unavailable: true},
		{name: "server certificate from an untrusted authority", ca: f.UntrustedCAFile, cert: f.ClientCert, key: f.ClientKey,
			want: "certificate signed by unknown authority", unavailable: true},
		{name: "key of another certificate", ca: f.CAFile, cert: f.ClientCert, key: f.UntrustedKey, want: "tls: private key does not match public key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logSink{}
			_, err := etcd3.New(ctx, etcd3.Config{
				Endpoints:   e.Endpoints(),
				TLS:         etcd3.TLSConfig{CAFile: tc.ca, CertFile: tc.cert, KeyFile: tc.key},
				DialTimeout: time.Second,
				Logger:      logs.logger(),
			})
			assert.Assert(t, err != nil)
			t.Log(err)
			// A failed handshake leaves the store unreachable, and New
			// says why (it probes the handshake before the etcd client
			// times out); a key that does not match its certificate
			// fails before dialling.
			assert.ErrorContains(t, err, tc.want)
			if tc.unavailable {
				assert.Assert(t, errors.Is(err, backend.ErrUnavailable), "%v", err)
				assert.Assert(t, strings.Contains(err.Error(), e.Endpoints()[0]), "%v", err)
			}
			sec.check(t, "error", err.Error())
			sec.check(t, "log", logs.String())

			_, err = config.Open(ctx, tlsOptions(e, tc.ca, tc.cert, tc.key))
			assert.Assert(t, err != nil)
			sec.check(t, "error", err.Error())
		})
	}
	assert.Assert(t, ctx.Err() == nil)
}
