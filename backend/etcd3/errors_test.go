package etcd3_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// wantPathErr fails unless err wraps target and is a *backend.PathError
// naming op and path.
func wantPathErr(t *testing.T, err, target error, op, path string) {
	t.Helper()
	assert.ErrorIs(t, err, target)
	var pe *backend.PathError
	assert.Assert(t, errors.As(err, &pe), "%v is not a *PathError", err)
	assert.Equal(t, pe.Op, op)
	assert.Equal(t, pe.Path, path)
}

func TestCompactedAndFutureRevisions(t *testing.T) {
	ctx := testCtx(t)
	b := sdptest.NewBackend(t)
	r1, err := b.Create(ctx, "/a", "1", backend.NoLease)
	assert.NilError(t, err)
	r2, err := b.Update(ctx, "/a", "2")
	assert.NilError(t, err)
	assert.NilError(t, b.Compact(ctx, r2))

	_, _, err = b.Get(ctx, "/a", r1)
	wantPathErr(t, err, backend.ErrCompacted, "get", "/a")
	assert.ErrorIs(t, err, rpctypes.ErrCompacted) // etcd's error stays visible
	_, err = b.List(ctx, "/", backend.ListOptions{Revision: r1})
	wantPathErr(t, err, backend.ErrCompacted, "list", "/")
	err = b.Compact(ctx, r1)
	assert.ErrorIs(t, err, backend.ErrCompacted)
	w, err := b.Watch(ctx, []backend.Range{backend.Key("/a")}, r1)
	assert.NilError(t, err)
	resp := <-w.Responses()
	wantPathErr(t, resp.Err, backend.ErrCompacted, "watch", "/a")
	assert.Equal(t, resp.CompactRevision, r2+1) // the first revision a watch may start from
	_, ok := <-w.Responses()
	assert.Assert(t, !ok, "the stream goes on after ErrCompacted")

	kv, rev, err := b.Get(ctx, "/a", r2)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "2")
	assert.Equal(t, rev, r2)

	_, _, err = b.Get(ctx, "/a", r2+10)
	wantPathErr(t, err, backend.ErrFutureRevision, "get", "/a")
	err = b.Compact(ctx, r2+10)
	assert.ErrorIs(t, err, backend.ErrFutureRevision)
}

func TestTooManyOps(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t, sdptest.WithMaxTxnOps(4))
	puts := func(n int) []backend.Op {
		ops := make([]backend.Op, n)
		for i := range ops {
			ops[i] = backend.Put(fmt.Sprintf("/k/%d", i), "v", backend.NoLease)
		}
		return ops
	}

	// A backend that knows the server's limit fails before any I/O.
	b := e.Backend(t, etcd3.Config{}) // sdptest passes MaxTxnOps 4 on
	assert.Equal(t, b.MaxTxnOps(), 4)
	_, err := b.Commit(ctx, backend.Txn{Then: puts(5)})
	wantPathErr(t, err, backend.ErrTxnTooLarge, "commit", "/k/0")
	assert.Assert(t, !errors.Is(err, rpctypes.ErrTooManyOps), "the request was sent: %v", err)
	_, err = b.Delete(ctx, "/k", backend.DeleteOptions{Recursive: true})
	wantPathErr(t, err, backend.ErrTxnTooLarge, "delete", "/k")
	res, err := b.Commit(ctx, backend.Txn{Then: puts(4)})
	assert.NilError(t, err)
	assert.Assert(t, res.Succeeded)

	// One that believes in a larger limit learns it from the server, which
	// refuses definitely: the commit did not happen.
	loose := e.Backend(t, etcd3.Config{MaxTxnOps: 100})
	before, err := loose.Revision(ctx)
	assert.NilError(t, err)
	_, err = loose.Commit(ctx, backend.Txn{Else: puts(5)})
	wantPathErr(t, err, backend.ErrTxnTooLarge, "commit", "/k/0")
	assert.ErrorIs(t, err, rpctypes.ErrTooManyOps)
	assert.Assert(t, !errors.Is(err, backend.ErrIndeterminate))
	after, err := loose.Revision(ctx)
	assert.NilError(t, err)
	assert.Equal(t, after, before)
}

func TestUnknownLease(t *testing.T) {
	ctx := testCtx(t)
	b := sdptest.NewBackend(t)
	_, err := b.Create(ctx, "/a", "1", backend.LeaseID(12345))
	wantPathErr(t, err, backend.ErrLeaseExpired, "create", "/a")
	assert.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
	assert.Assert(t, !errors.Is(err, backend.ErrIndeterminate))
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", "1", 12345)}})
	wantPathErr(t, err, backend.ErrLeaseExpired, "commit", "/a")
}

func TestBadInputFailsBeforeIO(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	e.Stop() // any I/O would now hang until the deadline
	bad := string([]byte{'v', 0xff})

	_, err := b.Create(ctx, "/a", bad, backend.NoLease)
	wantPathErr(t, err, backend.ErrInvalidValue, "validate", "/a")
	_, err = b.Update(ctx, "/a", bad)
	assert.ErrorIs(t, err, backend.ErrInvalidValue)
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", bad, backend.NoLease)}})
	assert.ErrorIs(t, err, backend.ErrInvalidValue)
	_, err = b.Create(ctx, "/a/", "v", backend.NoLease)
	wantPathErr(t, err, backend.ErrInvalidPath, "validate", "/a/")
	_, _, err = b.Get(ctx, "no/slash", 0)
	assert.ErrorIs(t, err, backend.ErrInvalidPath)
	_, err = b.List(ctx, "", backend.ListOptions{})
	assert.ErrorIs(t, err, backend.ErrInvalidPath)
	_, err = b.Delete(ctx, "/a//b", backend.DeleteOptions{})
	assert.ErrorIs(t, err, backend.ErrInvalidPath)
	_, err = b.Watch(ctx, []backend.Range{backend.Key("/a//b")}, 0)
	wantPathErr(t, err, backend.ErrInvalidPath, "validate", "/a//b")
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{{Kind: backend.OpPut, Range: backend.PrefixAt("/a/", 0)}}})
	wantPathErr(t, err, backend.ErrInvalidTxn, "commit", "/a/")
	_, err = b.Commit(ctx, backend.Txn{If: []backend.Compare{{Range: backend.Key("/a"), Target: 99, Op: backend.Equal}}})
	wantPathErr(t, err, backend.ErrInvalidTxn, "commit", "/a")
}

func TestDuplicateKeyIsAnInvalidTxn(t *testing.T) {
	ctx := testCtx(t)
	b := sdptest.NewBackend(t)
	_, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{
		backend.Put("/a", "1", backend.NoLease),
		backend.Put("/a", "2", backend.NoLease),
	}})
	// Checked before any I/O, as on every backend (etcd's own check
	// comes after its op limit: see backend.Backend.Commit's order).
	wantPathErr(t, err, backend.ErrInvalidTxn, "commit", "/a")
}

func TestPermissionDeniedAndPasswordsStaySecret(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	raw := e.Client(t)
	for _, step := range []func() error{
		func() error { _, err := raw.UserAdd(ctx, "root", "root-secret-pw"); return err },
		func() error { _, err := raw.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := raw.UserAdd(ctx, "bob", "bob-secret-pw"); return err },
		func() error { _, err := raw.RoleAdd(ctx, "pb-reader"); return err },
		func() error {
			_, err := raw.RoleGrantPermission(ctx, "pb-reader", "2/pb/", clientv3.GetPrefixRangeEnd("2/pb/"), clientv3.PermissionType(clientv3.PermRead))
			return err
		},
		func() error { _, err := raw.UserGrantRole(ctx, "bob", "pb-reader"); return err },
		func() error { _, err := raw.AuthEnable(ctx); return err },
	} {
		assert.NilError(t, step())
	}

	cfg := etcd3.Config{Endpoints: e.Endpoints(), Username: "root", Password: "wrong-secret-pw"}
	assert.Assert(t, !strings.Contains(cfg.String(), "wrong-secret-pw"), cfg.String())
	assert.Assert(t, !strings.Contains(fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), "wrong-secret-pw"))
	_, err := etcd3.New(ctx, cfg)
	assert.ErrorIs(t, err, backend.ErrPermissionDenied)
	assert.Assert(t, !strings.Contains(err.Error(), "wrong-secret-pw"), err.Error())

	root := e.Backend(t, etcd3.Config{Username: "root", Password: "root-secret-pw"})
	_, err = root.Create(ctx, "/pb/x", "1", backend.NoLease)
	assert.NilError(t, err)
	_, err = root.Create(ctx, "/other", "1", backend.NoLease)
	assert.NilError(t, err)

	bob := e.Backend(t, etcd3.Config{Username: "bob", Password: "bob-secret-pw"})
	kv, _, err := bob.Get(ctx, "/pb/x", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "1")
	_, _, err = bob.Get(ctx, "/other", 0)
	wantPathErr(t, err, backend.ErrPermissionDenied, "get", "/other")
	_, err = bob.Update(ctx, "/pb/x", "2")
	wantPathErr(t, err, backend.ErrPermissionDenied, "update", "/pb/x")
	assert.Assert(t, !errors.Is(err, backend.ErrIndeterminate), "a refusal is definite: %v", err)

	w, err := bob.Watch(ctx, []backend.Range{backend.Key("/other")}, 0)
	assert.NilError(t, err)
	resp := <-w.Responses()
	wantPathErr(t, resp.Err, backend.ErrPermissionDenied, "watch", "/other")
}
