package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"gotest.tools/v3/assert"
)

// testCA is a certificate authority for TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate, PEM
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assert.NilError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	assert.NilError(t, err)
	cert, err := x509.ParseCertificate(der)
	assert.NilError(t, err)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(dir, name+".pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue writes a certificate and key for 127.0.0.1 signed by ca.
func (ca *testCA) issue(t *testing.T, dir, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assert.NilError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	assert.NilError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	assert.NilError(t, err)
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	assert.NilError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// startTLSEtcd starts an embedded etcd serving clients over TLS with
// client certificates required, and returns its client address.
func startTLSEtcd(t *testing.T, ca *testCA, certFile, keyFile string) string {
	t.Helper()
	client, peer := freePort(t), freePort(t)
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cu, pu := url.URL{Scheme: "https", Host: client}, url.URL{Scheme: "http", Host: peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	cfg.ClientTLSInfo = transport.TLSInfo{CertFile: certFile, KeyFile: keyFile, TrustedCAFile: ca.file, ClientCertAuth: true}
	cfg.UnsafeNoFsync, cfg.TickMs, cfg.ElectionMs = true, 10, 100
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	srv, err := embed.StartEtcd(cfg)
	assert.NilError(t, err)
	t.Cleanup(srv.Close)
	select {
	case <-srv.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("TLS etcd not ready")
	}
	return client
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other-ca")
	srvCert, srvKey := ca.issue(t, dir, "server", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := ca.issue(t, dir, "client", x509.ExtKeyUsageClientAuth)
	addr := startTLSEtcd(t, ca, srvCert, srvKey)

	h := newEtcdHarness(t, "")
	good := []string{"--endpoints", "https://" + addr, "--cacert", ca.file, "--cert", cliCert, "--key", cliKey, "--timeout", "2s"}
	r := h.run(append(good, "create", "/a", "1")...)
	assert.Equal(t, r.code, 0, r.err)
	r = h.run(append(good, "get", "/a")...)
	assert.Equal(t, r.out, "1\n", r.err)

	// The server's certificate is not signed by the CA we trust.
	r = h.run("--endpoints", addr, "--cacert", other.file, "--cert", cliCert, "--key", cliKey, "--timeout", "2s", "get", "/a")
	t.Log(r.err)
	wantError(t, r, exitError, "TLS with etcd at https://"+addr+" failed", "certificate signed by unknown authority", "--cacert")
	// No client certificate: the server rejects us.
	r = h.run("--endpoints", addr, "--cacert", ca.file, "--timeout", "2s", "get", "/a")
	t.Log(r.err)
	wantError(t, r, exitError, "TLS with etcd at https://"+addr+" failed", "the server refused the client certificate", "--cert")
	// A certificate file that does not exist.
	r = h.run("--endpoints", addr, "--cacert", filepath.Join(dir, "nope.pem"), "--timeout", "2s", "get", "/a")
	t.Log(r.err)
	wantError(t, r, exitError, "nope.pem")
}
