package memory_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/testing/backendtest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// diffOptions returns the differential test's budget: 300 sequences from
// seed 1, or what SDPCONFIG_DIFF_SEQUENCES and SDPCONFIG_DIFF_SEED say;
// SDPCONFIG_DIFF_KEEP_GOING counts every diverging sequence (see
// docs/reliability.md for the longer run).
func diffOptions(t *testing.T) backendtest.DiffOptions {
	opts := backendtest.DiffOptions{Seed: 1, Sequences: 300}
	for env, field := range map[string]*int64{"SDPCONFIG_DIFF_SEED": &opts.Seed} {
		if v := os.Getenv(env); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: not an integer", env, v)
			}
			*field = n
		}
	}
	if v := os.Getenv("SDPCONFIG_DIFF_SEQUENCES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SDPCONFIG_DIFF_SEQUENCES=%q: not a positive integer", v)
		}
		opts.Sequences = n
	}
	opts.KeepGoing = os.Getenv("SDPCONFIG_DIFF_KEEP_GOING") != ""
	if testing.Short() {
		opts.Sequences = 20
	}
	return opts
}

// memoryLike returns a constructor of memory backends granting at least
// minTTL, as the server compared with does.
func memoryLike(minTTL time.Duration) func(*testing.T) backend.Backend {
	return func(t *testing.T) backend.Backend {
		return memory.New(memory.WithMinLeaseTTL(minTTL))
	}
}

// prefixed returns a constructor of etcd3 backends on open, each on a
// global prefix of its own.
func prefixed(open func(*testing.T, etcd3.Config) backend.Backend) func(*testing.T) backend.Backend {
	n := 0
	return func(t *testing.T) backend.Backend {
		n++
		return open(t, etcd3.Config{Prefix: fmt.Sprintf("/diff/%d", n)})
	}
}

// TestDiffEmbeddedEtcd compares the memory backend with etcd3 on embedded
// etcd 3.7 over random sequences of SPI calls.
func TestDiffEmbeddedEtcd(t *testing.T) {
	e := sdptest.NewEtcd(t)
	backendtest.Diff(t, memoryLike(time.Second),
		prefixed(func(t *testing.T, c etcd3.Config) backend.Backend { return e.Backend(t, c) }), diffOptions(t))
}

// TestDiffDebianEtcd compares the memory backend with etcd3 on Debian's
// etcd 3.4, which grants leases of at least 2 s.
func TestDiffDebianEtcd(t *testing.T) {
	d := sdptest.NewDebianEtcd(t)
	backendtest.Diff(t, memoryLike(2*time.Second),
		prefixed(func(t *testing.T, c etcd3.Config) backend.Backend { return d.Backend(t, c) }), diffOptions(t))
}
