package backendtest

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Run runs the conformance suite against backends made by newBackend, a
// fresh one per subtest.
//
// newBackend must return an open backend whose paths hold no keys; it may
// register its own cleanup with t.Cleanup (Run also closes the backend when
// the subtest ends; Close is idempotent). The subtests run one after the
// other and are named "<Area>/<Case>", so that one area or case can be
// selected with go test -run.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	t.Helper()
	for _, g := range areas() {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					b := newBackend(t)
					if b == nil {
						t.Fatal("newBackend returned nil")
					}
					t.Cleanup(func() { _ = b.Close() })
					c.run(newHarness(t, b))
				})
			}
		})
	}
}

// testCase is one subtest of the suite.
type testCase struct {
	name string
	run  func(h *harness)
}

// area is a group of subtests about one part of the SPI.
type area struct {
	name  string
	cases []testCase
}

// areas lists the suite, one area per file.
func areas() []area {
	return []area{
		{"Paths", pathCases},
		{"Get", getCases},
		{"List", listCases},
		{"Commit", commitCases},
		{"CommitRead", commitReadCases},
		{"GetMany", getManyCases},
		{"Write", writeCases},
		{"Lease", leaseCases},
		{"Watch", watchCases},
		{"Compaction", compactionCases},
		{"Concurrency", concurrencyCases},
		{"Closed", closedCases},
	}
}
