// Package etcdserver runs a single-member etcd server inside the process:
// the store of `sdpcfg server` (the default a new user runs) and of
// `sdpcfg demo`. It wraps go.etcd.io/etcd/server/v3/embed with what those
// commands need and nothing more: a data directory, client and peer URLs
// (free loopback ports when unset), silenced logs, a start that waits until
// the server is ready within a deadline, and a Close that returns promptly
// even while clients hold watch streams open.
//
// It is production code: tests of other packages start their servers with
// testing/sdptest instead, and this package never imports testing helpers.
package etcdserver
