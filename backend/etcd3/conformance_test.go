package etcd3_test

import (
	"fmt"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/backendtest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestConformance runs the backend conformance suite against etcd3 on a
// real embedded etcd. The subtests share one server, each with a global
// prefix of its own: every subtest thus also checks that the keys, lists
// and watches of one prefix never see those the earlier subtests left under
// theirs.
func TestConformance(t *testing.T) {
	e := sdptest.NewEtcd(t)
	runConformance(t, func(t *testing.T, cfg etcd3.Config) backend.Backend { return e.Backend(t, cfg) }, etcd3.Config{})
}

// TestConformanceVerifyingProgress runs the suite with every progress
// notification checked against the store, the path taken on servers that
// send one ahead of its events.
func TestConformanceVerifyingProgress(t *testing.T) {
	e := sdptest.NewEtcd(t)
	runConformance(t, func(t *testing.T, cfg etcd3.Config) backend.Backend { return e.Backend(t, cfg) }, etcd3.Config{VerifyProgress: true})
}

// TestConformanceDebianEtcd runs the suite on Debian's etcd 3.4.23, the
// oldest server supported, which predates the fix of etcd issue 15220.
func TestConformanceDebianEtcd(t *testing.T) {
	d := sdptest.NewDebianEtcd(t)
	runConformance(t, func(t *testing.T, cfg etcd3.Config) backend.Backend { return d.Backend(t, cfg) }, etcd3.Config{})
}

// runConformance runs the suite on backends that open makes from cfg,
// each subtest with a global prefix of its own.
func runConformance(t *testing.T, open func(*testing.T, etcd3.Config) backend.Backend, cfg etcd3.Config) {
	n := 0
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		n++
		c := cfg
		c.Prefix = fmt.Sprintf("/conformance/%d", n)
		return open(t, c)
	})
}

// TestConformanceCluster runs the suite over a 3-member cluster, the
// backend balancing its requests over every member.
func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-member cluster")
	}
	c := sdptest.NewCluster(t, 3)
	runConformance(t, func(t *testing.T, cfg etcd3.Config) backend.Backend { return c.Backend(t, cfg) }, etcd3.Config{})
}
