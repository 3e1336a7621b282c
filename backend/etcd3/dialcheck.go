package etcd3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// checkFiles reads the TLS files of t and names what is wrong with them
// before anything is dialled: a file that cannot be read, one with no PEM
// certificate, a client certificate expired or not valid yet.
func (t TLSConfig) checkFiles(now time.Time) error {
	if t.CAFile != "" {
		b, err := os.ReadFile(t.CAFile)
		if err != nil {
			return fmt.Errorf("CA file %s: %w", t.CAFile, err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(b) {
			return fmt.Errorf("CA file %s: no PEM certificate in it", t.CAFile)
		}
	}
	if t.CertFile == "" {
		return nil
	}
	b, err := os.ReadFile(t.CertFile)
	if err != nil {
		return fmt.Errorf("client certificate %s: %w", t.CertFile, err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return fmt.Errorf("client certificate %s: no PEM certificate in it", t.CertFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("client certificate %s: %w", t.CertFile, err)
	}
	switch {
	case now.After(cert.NotAfter):
		return fmt.Errorf("client certificate %s expired on %s", t.CertFile, cert.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(cert.NotBefore):
		return fmt.Errorf("client certificate %s is not valid before %s", t.CertFile, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
		return fmt.Errorf("client certificate %s with key %s: %w", t.CertFile, t.KeyFile, err)
	}
	return nil
}

// probe dials every endpoint at once, with the TLS handshake when tc is
// not nil, and returns nil as soon as one answers. Otherwise it returns
// why each failed ("connection refused at 127.0.0.1:2379"), so that New
// fails at once instead of waiting for its DialTimeout to say "context
// deadline exceeded". An endpoint it cannot dial itself (unix sockets)
// counts as answering: the client will say.
//
// Over TLS, the probe also speaks the first words of HTTP/2, as gRPC does,
// and waits for the server's: with TLS 1.3 the server checks the client's
// certificate (certFile, or none) after the client's side of the
// handshake, and its refusal comes as an alert on the first read.
func probe(ctx context.Context, endpoints []string, tc *tls.Config, certFile string) error {
	errs := make(chan error, len(endpoints))
	for _, ep := range endpoints {
		go func() { errs <- probeOne(ctx, ep, tc, certFile) }()
	}
	var all []error
	for range endpoints {
		err := <-errs
		if err == nil {
			return nil
		}
		all = append(all, err)
	}
	return errors.Join(all...)
}

// probeOne dials one endpoint as probe does.
func probeOne(ctx context.Context, ep string, tc *tls.Config, certFile string) error {
	addr, secure, ok := endpointAddr(ep)
	if !ok {
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("connection refused at %s", addr)
		}
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	if tc == nil || !secure {
		return nil
	}
	c := tc.Clone()
	if c.ServerName == "" {
		c.ServerName, _, _ = net.SplitHostPort(addr)
	}
	c.NextProtos = []string{"h2"}
	tconn := tls.Client(conn, c)
	if err := tconn.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		tconn.SetDeadline(dl)
	}
	var b [1]byte
	_, err = tconn.Write(h2Preface)
	if err == nil {
		_, err = tconn.Read(b[:])
	}
	switch {
	case err == nil:
		return nil
	case certFile == "":
		return fmt.Errorf("the server refused the client certificate at %s (none was given): %w", addr, err)
	}
	return fmt.Errorf("the server refused the client certificate %s at %s: %w", certFile, addr, err)
}

// h2Preface is what an HTTP/2 client sends first: the connection preface
// and an empty SETTINGS frame, which the server answers with its own.
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")

// endpointAddr returns the host:port of an endpoint, "http://h:p",
// "https://h:p" or "h:p", whether it is https, and false for one that is
// not dialled over TCP.
func endpointAddr(ep string) (addr string, secure, ok bool) {
	if !strings.Contains(ep, "://") {
		return ep, true, true // the scheme is the client's: TLS if configured
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false, false
	}
	return u.Host, u.Scheme == "https", true
}
