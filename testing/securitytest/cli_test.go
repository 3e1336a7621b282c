package securitytest

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestCLITLSAndAuth runs the built sdpcfg against a server with TLS and
// client certificates, and one with auth: matching flags and environment
// connect; a wrong certificate, a wrong password and a role without access
// each fail with exit 1 and one line that names the cause and shows no
// secret.
func TestCLITLSAndAuth(t *testing.T) {
	bin := buildCLI(t)
	tlsEtcd := sdptest.NewEtcd(t, sdptest.WithTLS())
	f := tlsEtcd.TLS()
	authE := authEtcd(t)
	var sec secrets
	sec = append(sec, rootPassword, alicePassword, wrongPassword)
	sec.addKey(t, f.ClientKey)
	sec.addKey(t, f.UntrustedKey)
	sec.addKey(t, f.ServerKey)
	check := func(t *testing.T, r cliResult) {
		t.Helper()
		sec.check(t, "stderr", r.err)
		sec.check(t, "stdout", r.out)
	}
	tlsEP := hostPort(tlsEtcd.Endpoints()[0])
	authEP := hostPort(authE.Endpoints()[0])

	t.Run("tls flags", func(t *testing.T) {
		r := runCLI(t, bin, nil, "--endpoints", tlsEP, "--cacert", f.CAFile, "--cert", f.ClientCert, "--key", f.ClientKey, "create", "/a", "1")
		assert.Equal(t, r.code, 0, r.err)
		check(t, r)
	})
	t.Run("tls env", func(t *testing.T) {
		env := []string{"SDP_CONFIG_ENDPOINTS=" + tlsEP, "SDP_CONFIG_PROTOCOL=https", "SDP_CONFIG_CERT=" + f.CAFile,
			"SDP_CONFIG_CLIENT_CERT=" + f.ClientCert, "SDP_CONFIG_CLIENT_KEY=" + f.ClientKey}
		r := runCLI(t, bin, env, "get", "/a")
		assert.Equal(t, r.code, 0, r.err)
		assert.Equal(t, r.out, "1\n")
		check(t, r)
	})
	t.Run("untrusted client certificate", func(t *testing.T) {
		r := runCLI(t, bin, nil, "--endpoints", tlsEP, "--cacert", f.CAFile, "--cert", f.UntrustedCert, "--key", f.UntrustedKey, "--timeout", "2s", "get", "/a")
		assert.Equal(t, r.code, 1, r.err)
		wantOneLine(t, r, "TLS with etcd at https://"+tlsEP+" failed", "--cert")
		check(t, r)
	})
	t.Run("untrusted server certificate", func(t *testing.T) {
		r := runCLI(t, bin, nil, "--endpoints", tlsEP, "--cacert", f.UntrustedCAFile, "--cert", f.ClientCert, "--key", f.ClientKey, "--timeout", "2s", "get", "/a")
		assert.Equal(t, r.code, 1, r.err)
		wantOneLine(t, r, "TLS with etcd at https://"+tlsEP+" failed", "certificate signed by unknown authority")
		check(t, r)
	})
	t.Run("key of another certificate", func(t *testing.T) {
		r := runCLI(t, bin, nil, "--endpoints", tlsEP, "--cacert", f.CAFile, "--cert", f.ClientCert, "--key", f.UntrustedKey, "--timeout", "2s", "get", "/a")
		assert.Assert(t, r.code != 0, r.err)
		wantOneLine(t, r, "private key does not match public key")
		check(t, r)
	})

	aliceEnv := []string{"SDP_CONFIG_ENDPOINTS=" + authEP, "SDP_CONFIG_USERNAME=alice", "SDP_CONFIG_PASSWORD=" + alicePassword}
	t.Run("auth env", func(t *testing.T) {
		r := runCLI(t, bin, aliceEnv, "get", "/pb/pb-1")
		assert.Equal(t, r.code, 0, r.err)
		assert.Equal(t, r.out, "v\n")
		check(t, r)
	})
	t.Run("wrong password", func(t *testing.T) {
		env := []string{"SDP_CONFIG_ENDPOINTS=" + authEP, "SDP_CONFIG_PASSWORD=" + wrongPassword}
		r := runCLI(t, bin, env, "--user", "alice", "get", "/pb/pb-1")
		assert.Equal(t, r.code, 1, r.err)
		wantOneLine(t, r, `refused user "alice"`, "SDP_CONFIG_PASSWORD")
		check(t, r)
	})
	t.Run("role without access", func(t *testing.T) {
		r := runCLI(t, bin, aliceEnv, "get", "/eb/eb-1")
		assert.Equal(t, r.code, 1, r.err)
		wantOneLine(t, r, "permission denied")
		check(t, r)
		r = runCLI(t, bin, aliceEnv, "create", "/eb/eb-9", "{}")
		assert.Equal(t, r.code, 1, r.err)
		wantOneLine(t, r, "permission denied")
		check(t, r)
	})
	t.Run("unreachable store", func(t *testing.T) {
		env := []string{"SDP_CONFIG_USERNAME=alice", "SDP_CONFIG_PASSWORD=" + alicePassword}
		r := runCLI(t, bin, env, "--endpoints", "127.0.0.1:1", "--timeout", "1s", "get", "/pb/pb-1")
		assert.Equal(t, r.code, 1, r.err)
		wantOneLine(t, r, "127.0.0.1:1")
		check(t, r)
	})
	t.Run("bad setting", func(t *testing.T) {
		env := []string{"SDP_CONFIG_PASSWORD=" + alicePassword}
		r := runCLI(t, bin, env, "--endpoints", authEP, "get", "/pb/pb-1")
		assert.Equal(t, r.code, 2, r.err)
		assert.Assert(t, strings.Contains(r.err, "SDP_CONFIG_USERNAME") || strings.Contains(r.err, "user"), r.err)
		check(t, r)
	})
}
