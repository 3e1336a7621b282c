package sdptest_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func ctxT(t *testing.T) context.Context { return sdptest.Context(t) }

func TestEtcdRestartKeepsDataAndPorts(t *testing.T) {
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t)
	eps := e.Endpoints()
	assert.Equal(t, len(eps), 1)
	assert.Assert(t, e.Running())
	cli := e.Client(t)

	put, err := cli.Put(ctx, "2/pb/x", "v1")
	assert.NilError(t, err)

	e.Stop()
	assert.Assert(t, !e.Running())
	assert.Assert(t, e.Server() == nil)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = cli.Get(short, "2/pb/x")
	cancel()
	assert.Assert(t, err != nil, "a stopped server answered")

	e.Restart(t)
	assert.DeepEqual(t, e.Endpoints(), eps)
	got, err := cli.Get(ctx, "2/pb/x")
	assert.NilError(t, err)
	assert.Equal(t, len(got.Kvs), 1)
	assert.Equal(t, string(got.Kvs[0].Value), "v1")
	assert.Equal(t, got.Kvs[0].ModRevision, put.Header.Revision)
	assert.Equal(t, got.Header.Revision, put.Header.Revision)

	// Restart of a running server is a stop and a start.
	e.Restart(t)
	got, err = cli.Get(ctx, "2/pb/x")
	assert.NilError(t, err)
	assert.Equal(t, string(got.Kvs[0].Value), "v1")
}

func TestEtcdRestartAfterCloseFails(t *testing.T) {
	e := sdptest.NewEtcd(t)
	e.Close()
	e.Close() // idempotent
	assert.Assert(t, !e.Running())
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { recover() }()
		e.Restart(ft)
	}()
	assert.Assert(t, ft.failed, "Restart after Close did not fail the test")
}

// fatalRecorder records a Fatal instead of failing the real test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatal(args ...any) {
	f.failed = true
	panic("fatal")
}

func TestWithDataDirReopensData(t *testing.T) {
	ctx := ctxT(t)
	dir := filepath.Join(t.TempDir(), "data")
	e := sdptest.NewEtcd(t, sdptest.WithDataDir(dir))
	assert.Equal(t, e.DataDir(), dir)
	_, err := e.Client(t).Put(ctx, "1/a", "kept")
	assert.NilError(t, err)
	e.Close()

	e2 := sdptest.NewEtcd(t, sdptest.WithDataDir(dir))
	got, err := e2.Client(t).Get(ctx, "1/a")
	assert.NilError(t, err)
	assert.Equal(t, len(got.Kvs), 1)
	assert.Equal(t, string(got.Kvs[0].Value), "kept")
}

func TestWithMaxTxnOps(t *testing.T) {
	ctx := ctxT(t)
	cli := sdptest.NewEtcd(t, sdptest.WithMaxTxnOps(2)).Client(t)
	_, err := cli.Txn(ctx).Then(clientv3.OpPut("a", "1"), clientv3.OpPut("b", "2")).Commit()
	assert.NilError(t, err)
	_, err = cli.Txn(ctx).Then(clientv3.OpPut("a", "1"), clientv3.OpPut("b", "2"), clientv3.OpPut("c", "3")).Commit()
	assert.Assert(t, errors.Is(err, rpctypes.ErrTooManyOps), "got %v", err)
}

func TestServersAreIndependent(t *testing.T) {
	ctx := ctxT(t)
	a, b := sdptest.NewEtcd(t), sdptest.NewEtcd(t)
	assert.Assert(t, a.Endpoints()[0] != b.Endpoints()[0])
	_, err := a.Client(t).Put(ctx, "k", "a")
	assert.NilError(t, err)
	got, err := b.Client(t).Get(ctx, "k")
	assert.NilError(t, err)
	assert.Equal(t, len(got.Kvs), 0)
}
