// Package securitytest holds the end-to-end security tests of sdpconfig:
// an embedded etcd with TLS and client certificates (sdptest.WithTLS), and
// one with etcd's user and role authentication (sdptest.WithAuth), reached
// through the SDK (config.Open with Options, or the SDP_CONFIG_*
// environment) and through the built sdpcfg binary. The tests check that
// matching settings connect; that a certificate from an untrusted
// authority, a wrong password and a role without access to a prefix fail
// with the right error (backend.ErrPermissionDenied, or a TLS failure the
// CLI explains on one line); and that no password or private key appears
// in any error text or log line.
//
// The package has no non-test code; see docs/reliability.md.
package securitytest
