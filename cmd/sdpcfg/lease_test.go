package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// lease grant, ls, timetolive and revoke on a real etcd, with a raw client
// as the peer that attaches a key.
func TestLease(t *testing.T) {
	e := sdptest.NewEtcd(t)
	cli := e.Client(t)
	h := newEtcdHarness(t, e.Endpoints()[0])
	r := h.run("lease", "grant", "60s")
	assert.Equal(t, r.code, 0, r.err)
	m := regexp.MustCompile(`^lease ([0-9a-f]+) granted with TTL 1m0s\n$`).FindStringSubmatch(r.out)
	assert.Assert(t, m != nil, r.out)
	id := m[1]
	lid, err := parseHex(id)
	assert.NilError(t, err)
	_, err = cli.Put(context.Background(), "2/pb/leased", "v", clientv3.WithLease(clientv3.LeaseID(lid)))
	assert.NilError(t, err)

	r = h.run("lease", "ls")
	assert.Equal(t, r.code, 0, r.err)
	assert.Assert(t, strings.Contains(r.out, id+"\n"), r.out)
	r = h.run("lease", "timetolive", id)
	assert.Equal(t, r.code, 0, r.err)
	assert.Assert(t, strings.HasPrefix(r.out, "lease "+id+" granted with TTL 1m0s, remaining "), r.out)
	assert.Assert(t, strings.HasSuffix(r.out, "; keys /pb/leased\n"), r.out)

	// keep-alive renews it until interrupted.
	kctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var kout, kerr syncBuffer
	done := make(chan int, 1)
	go func() { done <- h.env("", &kout, &kerr).run(kctx, []string{"lease", "keep-alive", id}) }()
	sdptest.WaitFor(t, "a renewal", func() bool { return strings.Contains(kout.String(), "lease "+id+" kept alive with TTL 1m0s\n") })
	cancel()
	assert.Equal(t, <-done, 0, kerr.String())

	r = h.run("lease", "revoke", id)
	assert.Equal(t, r.code, 0, r.err)
	resp, err := cli.Get(context.Background(), "2/pb/leased")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 0, "the key of the revoked lease")
	r = h.run("lease", "timetolive", id)
	assert.Equal(t, r.code, exitError, r.err)
	assert.Assert(t, strings.Contains(r.err, "lease expired"), r.err)

	wantError(t, h.run("lease", "grant", "0s"), exitUsage, "at least 1s")
	wantError(t, h.run("lease", "revoke", "zz"), exitUsage, "hexadecimal")
	wantError(t, h.run("lease", "frob"), exitUsage, `unknown subcommand "frob"`)
}

func parseHex(s string) (int64, error) { return strconv.ParseInt(s, 16, 64) }

// Lease IDs print as etcdctl prints them, 16 hex digits with leading
// zeros, so that an ID copied from one tool matches the other's output.
func TestLeaseIDsPrintAsEtcdctlDoes(t *testing.T) {
	assert.Equal(t, hexID(0x0feda23556f3f311), "0feda23556f3f311")
	assert.Equal(t, hexID(0x694da2355a181b05), "694da2355a181b05")
	id, err := parseHex("0feda23556f3f311")
	assert.NilError(t, err)
	assert.Equal(t, id, int64(0x0feda23556f3f311))
}
