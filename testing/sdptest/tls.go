package sdptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
)

// TLSFiles are the PEM files WithTLS generates in t.TempDir(): a
// certificate authority, the servers' certificate (for 127.0.0.1 and
// localhost), a client certificate the servers accept, and a second,
// untrusted authority with a client certificate of its own, for tests of a
// wrong certificate. Keys are ECDSA P-256, certificates valid for a day.
type TLSFiles struct {
	CAFile     string // the authority the servers and clients trust
	ServerCert string // the servers' certificate, signed by CAFile
	ServerKey  string
	ClientCert string // a client certificate signed by CAFile
	ClientKey  string

	UntrustedCAFile string // an authority nobody trusts
	UntrustedCert   string // a client certificate signed by UntrustedCAFile
	UntrustedKey    string

	ExpiredCert string // a client certificate signed by CAFile that expired an hour ago
	ExpiredKey  string
}

// Backend returns the TLS settings of an etcd3 backend that authenticates
// with the trusted client certificate.
func (f *TLSFiles) Backend() etcd3.TLSConfig {
	return etcd3.TLSConfig{CAFile: f.CAFile, CertFile: f.ClientCert, KeyFile: f.ClientKey}
}

// ClientConfig returns a *tls.Config for clients: it trusts CAFile and
// presents the trusted client certificate.
func (f *TLSFiles) ClientConfig() (*tls.Config, error) {
	info := transport.TLSInfo{TrustedCAFile: f.CAFile, CertFile: f.ClientCert, KeyFile: f.ClientKey}
	c, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("sdptest: loading the client TLS files: %w", err)
	}
	return c, nil
}

// serverInfo is the servers' TLS setting: the trusted authority, the
// server certificate, and client certificates required.
func (f *TLSFiles) serverInfo() transport.TLSInfo {
	return transport.TLSInfo{
		CertFile:       f.ServerCert,
		KeyFile:        f.ServerKey,
		TrustedCAFile:  f.CAFile,
		ClientCertAuth: true,
	}
}

// serial numbers the certificates generated in this process.
var serial atomic.Int64

// newTLSFiles generates the files of TLSFiles in dir.
func newTLSFiles(dir string) (*TLSFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sdptest: %w", err)
	}
	ca, err := newAuthority(dir, "ca")
	if err != nil {
		return nil, err
	}
	other, err := newAuthority(dir, "untrusted-ca")
	if err != nil {
		return nil, err
	}
	f := &TLSFiles{CAFile: ca.file, UntrustedCAFile: other.file}
	if f.ServerCert, f.ServerKey, err = ca.issue(dir, "server", x509.ExtKeyUsageServerAuth); err != nil {
		return nil, err
	}
	if f.ClientCert, f.ClientKey, err = ca.issue(dir, "client", x509.ExtKeyUsageClientAuth); err != nil {
		return nil, err
	}
	if f.UntrustedCert, f.UntrustedKey, err = other.issue(dir, "untrusted-client", x509.ExtKeyUsageClientAuth); err != nil {
		return nil, err
	}
	if f.ExpiredCert, f.ExpiredKey, err = ca.issueValid(dir, "expired-client", x509.ExtKeyUsageClientAuth, -2*time.Hour, -time.Hour); err != nil {
		return nil, err
	}
	return f, nil
}

// authority is a certificate authority that issues test certificates.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newAuthority(dir, name string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sdptest: generating the %s key: %w", name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: "sdptest " + name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sdptest: creating the %s certificate: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sdptest: parsing the %s certificate: %w", name, err)
	}
	a := &authority{cert: cert, key: key, file: filepath.Join(dir, name+".pem")}
	if err := writePEM(a.file, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	return a, nil
}

// issue writes a certificate for 127.0.0.1 and localhost, and its key,
// signed by a, and returns their files.
func (a *authority) issue(dir, name string, usage x509.ExtKeyUsage) (certFile, keyFile string, err error) {
	return a.issueValid(dir, name, usage, -time.Hour, 24*time.Hour)
}

// issueValid is issue with a certificate valid from now+from to now+to.
func (a *authority) issueValid(dir, name string, usage x509.ExtKeyUsage, from, to time.Duration) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("sdptest: generating the %s key: %w", name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(from),
		NotAfter:     time.Now().Add(to),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return "", "", fmt.Errorf("sdptest: creating the %s certificate: %w", name, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("sdptest: encoding the %s key: %w", name, err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	if err := writePEM(keyFile, "EC PRIVATE KEY", kder); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func writePEM(file, typ string, der []byte) error {
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("sdptest: %w", err)
	}
	return nil
}

// setupTLS generates the TLS files of a server or cluster when WithTLS
// asked for them.
func setupTLS(t testing.TB, o *options) {
	t.Helper()
	if !o.tls {
		return
	}
	f, err := newTLSFiles(filepath.Join(t.TempDir(), "tls"))
	if err != nil {
		t.Fatal(err)
	}
	o.tlsFiles = f
}

// NewTLSFiles writes a fresh certificate authority, server and client
// certificates (for 127.0.0.1 and localhost) into a temporary directory of
// t, for tests of other TLS servers than etcd.
func NewTLSFiles(t testing.TB) *TLSFiles {
	t.Helper()
	f, err := newTLSFiles(t.TempDir())
	if err != nil {
		t.Fatalf("sdptest: TLS files: %v", err)
	}
	return f
}
