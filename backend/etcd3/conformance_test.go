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
	n := 0
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		n++
		return e.Backend(t, etcd3.Config{Prefix: fmt.Sprintf("/conformance/%d", n)})
	})
}
