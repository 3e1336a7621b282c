package etcd3

import (
	"context"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

var _ backend.MultiGetter = (*Backend)(nil)

// GetMany reads the keys at paths in one etcd transaction of Get ops, as
// backend.MultiGetter says. The Gets are linearizable, as Get's are, also
// at rev > 0: a member that has not applied a compaction yet would answer
// a serializable read at a revision the store has compacted. Transient
// errors are retried (see Config.Retry).
func (b *Backend) GetMany(ctx context.Context, paths []string, rev int64) ([]backend.KeyValue, int64, error) {
	for _, p := range paths {
		if err := backend.ValidatePath(p); err != nil {
			return nil, 0, backend.WrapPath("get", p, err)
		}
	}
	if len(paths) > b.cfg.MaxTxnOps {
		return nil, 0, fmt.Errorf("get of %d keys: %w (at most %d)", len(paths), backend.ErrTxnTooLarge, b.cfg.MaxTxnOps)
	}
	if len(paths) == 0 {
		return b.getNone(ctx, rev)
	}
	var resp *clientv3.TxnResponse
	err := b.read(ctx, "get_many", func(ctx context.Context) error {
		var err error
		resp, err = b.getMany(ctx, paths, rev)
		return err
	})
	if err != nil {
		return nil, 0, backend.WrapPath("get", paths[0], err)
	}
	if rev == 0 {
		rev = resp.Header.Revision
	}
	var kvs []backend.KeyValue
	for i, r := range resp.Responses {
		rr, ok := r.Response.(*pb.ResponseOp_ResponseRange)
		if !ok || len(rr.ResponseRange.Kvs) == 0 {
			continue
		}
		kv, _ := b.ks.keyValue(rr.ResponseRange.Kvs[0])
		kv.Path = paths[i]
		kvs = append(kvs, kv)
	}
	return kvs, rev, nil
}

// getMany sends one transaction of a Get per path, at rev if > 0.
func (b *Backend) getMany(ctx context.Context, paths []string, rev int64) (*clientv3.TxnResponse, error) {
	var opts []clientv3.OpOption
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	ops := make([]clientv3.Op, len(paths))
	for i, p := range paths {
		ops[i] = clientv3.OpGet(b.ks.key(p), opts...)
	}
	return b.cli.Txn(ctx).Then(ops...).Commit()
}

// getNone checks rev as a read at it would, for GetMany of no paths.
func (b *Backend) getNone(ctx context.Context, rev int64) ([]backend.KeyValue, int64, error) {
	err := b.read(ctx, "revision", func(ctx context.Context) error {
		if rev == 0 {
			var err error
			rev, err = b.currentRevision(ctx)
			return err
		}
		_, err := b.cli.Get(ctx, b.ks.key("/"), clientv3.WithCountOnly(), clientv3.WithRev(rev))
		return err
	})
	if err != nil {
		return nil, 0, backend.WrapPath("get", "/", err)
	}
	return nil, rev, nil
}
