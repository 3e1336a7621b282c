package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/sdpconfig/sdpconfig/config"
)

// probeTLS explains a failed TLS connection, which the etcd client only
// reports as a timeout: it makes one TLS connection to the first endpoint
// with the same certificates and returns what went wrong (a certificate the
// server or the client rejects, a file that cannot be read), or nil if the
// handshake works.
func probeTLS(s config.Settings, timeout time.Duration) error {
	if s.Protocol != "https" || len(s.Endpoints) == 0 {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CACert != "" {
		pem, err := os.ReadFile(s.CACert)
		if err != nil {
			return fmt.Errorf("CA certificate --cacert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("CA certificate --cacert %s: no PEM certificate in it", s.CACert)
		}
	}
	if s.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(s.ClientCert, s.ClientKey)
		if err != nil {
			return fmt.Errorf("client certificate --cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	host, _, err := net.SplitHostPort(s.Endpoints[0])
	if err != nil {
		return nil
	}
	cfg.ServerName = host
	d := &net.Dialer{Timeout: min(timeout, 3*time.Second)}
	conn, err := tls.DialWithDialer(d, "tcp", s.Endpoints[0], cfg)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			return nil // not a TLS problem
		}
		return err
	}
	defer conn.Close()
	// With TLS 1.3 the server checks the client's certificate after the
	// client's handshake is done: its refusal comes as an alert on read.
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var b [1]byte
	if _, err := conn.Read(b[:]); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return fmt.Errorf("the server refused the client certificate: %w", err)
	}
	return nil
}
