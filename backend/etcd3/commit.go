package etcd3

import (
	"context"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Commit applies t as one etcd transaction: its compares become the If,
// its branches Then and Else. A prefix range compares with WithPrefix over
// the range's stored prefix at its depth, which etcd evaluates on every key
// of the range (an empty range compares as a missing key). It fails before
// any I/O with ErrInvalidPath, ErrInvalidValue or ErrInvalidTxn on bad
// input and with ErrTxnTooLarge above MaxTxnOps. Commit is never retried: if
// the request may have reached the server but its answer was lost (timeout,
// cancellation after sending, lost connection, Close) the error wraps
// ErrIndeterminate and its cause; a definite refusal by the server wraps
// its sentinel.
func (b *Backend) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	label := t.FirstPath()
	cmps := make([]clientv3.Cmp, len(t.If))
	for i, c := range t.If {
		cmp, err := b.compare(c)
		if err != nil {
			return backend.TxnResult{}, backend.WrapPath("commit", c.Range.Path, err)
		}
		cmps[i] = cmp
	}
	thenOps, err := b.ops(t.Then)
	if err != nil {
		return backend.TxnResult{}, err
	}
	elseOps, err := b.ops(t.Else)
	if err != nil {
		return backend.TxnResult{}, err
	}
	for _, ops := range [2][]backend.Op{t.Then, t.Else} {
		if err := backend.ValidateBranch(ops); err != nil {
			return backend.TxnResult{}, err
		}
	}
	// The size last, as backend.Backend.Commit says: a commit both too
	// large and with a bad path fails for the path.
	if err := b.checkSize("commit", len(t.If), len(t.Then), len(t.Else)); err != nil {
		return backend.TxnResult{}, backend.WrapPath("commit", label, err)
	}
	resp, err := b.txn(ctx, cmps, thenOps, elseOps)
	if err != nil {
		return backend.TxnResult{}, backend.WrapPath("commit", label, explainSize(err, append(t.Then[:len(t.Then):len(t.Then)], t.Else...)))
	}
	return backend.TxnResult{Succeeded: resp.Succeeded, Revision: resp.Header.Revision, Deleted: deleted(resp)}, nil
}

// Create writes a new key with one transaction: If(CreateRevision == 0)
// Then(Put). It fails with ErrCollision if the key exists.
func (b *Backend) Create(ctx context.Context, path, value string, lease backend.LeaseID) (int64, error) {
	if err := b.checkPut(path, value); err != nil {
		return 0, err
	}
	key := b.ks.key(path)
	var opts []clientv3.OpOption
	if lease != backend.NoLease {
		opts = []clientv3.OpOption{clientv3.WithLease(clientv3.LeaseID(lease))}
	}
	resp, err := b.txn(ctx,
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(key, value, opts...)}, nil)
	if err != nil {
		return 0, backend.WrapPath("create", path, explainSize(err, []backend.Op{backend.Put(path, value, lease)}))
	}
	if !resp.Succeeded {
		return resp.Header.Revision, backend.WrapPath("create", path, backend.ErrCollision)
	}
	return resp.Header.Revision, nil
}

// Update overwrites an existing key, keeping its lease, with one
// transaction: If(Version > 0) Then(Put WithIgnoreLease). It fails with
// ErrVanished if the key does not exist.
func (b *Backend) Update(ctx context.Context, path, value string) (int64, error) {
	if err := b.checkPut(path, value); err != nil {
		return 0, err
	}
	key := b.ks.key(path)
	resp, err := b.txn(ctx,
		[]clientv3.Cmp{clientv3.Compare(clientv3.Version(key), ">", 0)},
		[]clientv3.Op{clientv3.OpPut(key, value, clientv3.WithIgnoreLease())}, nil)
	if err != nil {
		return 0, backend.WrapPath("update", path, explainSize(err, []backend.Op{backend.Put(path, value, backend.NoLease)}))
	}
	if !resp.Succeeded {
		return resp.Header.Revision, backend.WrapPath("update", path, backend.ErrVanished)
	}
	return resp.Header.Revision, nil
}

// Delete removes the key path, or with opts.Prefix every key at its depth
// starting with path, and with opts.Recursive every key below those too
// (the prefix path+"/", or path itself for a prefix, at each of the
// MaxDepth depths below), in one transaction. With MustExist the
// transaction is If(Version == 0 on every range) Then() Else(deletes): the
// If holding means there was nothing to delete, and Delete fails with
// ErrVanished having deleted nothing.
func (b *Backend) Delete(ctx context.Context, path string, opts backend.DeleteOptions) (backend.DeleteResult, error) {
	validate := backend.ValidatePath
	if opts.Prefix {
		validate = backend.ValidatePrefix
	}
	if err := validate(path); err != nil {
		return backend.DeleteResult{}, err
	}
	maxDepth := opts.MaxDepth
	if maxDepth <= 0 {
		maxDepth = backend.MaxDepth
	}
	ranges := []backend.Range{{Path: path, Prefix: opts.Prefix}}
	if opts.Recursive {
		below, d := path+"/", backend.Depth(path)+1
		if opts.Prefix {
			below = path
		}
		for i := range maxDepth {
			ranges = append(ranges, backend.PrefixAt(below, d+i))
		}
	}
	if err := b.checkSize("delete", len(ranges), len(ranges), len(ranges)); err != nil {
		return backend.DeleteResult{}, backend.WrapPath("delete", path, err)
	}
	dels := make([]clientv3.Op, len(ranges))
	var cmps []clientv3.Cmp
	for i, r := range ranges {
		key, prefix := b.ks.of(r)
		if prefix {
			dels[i] = clientv3.OpDelete(key, clientv3.WithPrefix())
		} else {
			dels[i] = clientv3.OpDelete(key)
		}
		if opts.MustExist {
			cmp := clientv3.Compare(clientv3.Version(key), "=", 0)
			if prefix {
				cmp = cmp.WithPrefix()
			}
			cmps = append(cmps, cmp)
		}
	}
	var resp *clientv3.TxnResponse
	var err error
	if opts.MustExist {
		resp, err = b.txn(ctx, cmps, nil, dels)
	} else {
		resp, err = b.txn(ctx, nil, dels, nil)
	}
	if err != nil {
		return backend.DeleteResult{}, backend.WrapPath("delete", path, err)
	}
	res := backend.DeleteResult{Revision: resp.Header.Revision, Deleted: deleted(resp)}
	if opts.MustExist && resp.Succeeded {
		return res, backend.WrapPath("delete", path, backend.ErrVanished)
	}
	return res, nil
}

// txn sends one transaction, once. See Commit for its errors.
func (b *Backend) txn(ctx context.Context, cmps []clientv3.Cmp, thenOps, elseOps []clientv3.Op) (*clientv3.TxnResponse, error) {
	rctx, done, err := b.reqCtx(ctx)
	if err != nil {
		return nil, err // nothing was sent
	}
	defer done()
	rctx, req := b.m.startRequest(rctx, "txn")
	resp, err := b.sendTxn(ctx, rctx, cmps, thenOps, elseOps)
	req.end(err, err == nil && !resp.Succeeded)
	return resp, err
}

// sendTxn sends the transaction of txn in rctx; ctx is the caller's.
func (b *Backend) sendTxn(ctx, rctx context.Context, cmps []clientv3.Cmp, thenOps, elseOps []clientv3.Op) (*clientv3.TxnResponse, error) {
	if len(thenOps) == 0 && len(elseOps) == 0 && !b.revByTxn.Load() {
		// etcd takes a transaction without a range (a compare-only or an
		// empty one) for serializable and answers it from the member's own
		// state: its compares could be judged, and its revision read,
		// behind a write another member acknowledged. A linearizable count of the prefix's root key (no
		// key is returned) makes it linearizable. Such a transaction
		// writes nothing, so one the user may not make is retried
		// without, as currentRevision does.
		lin := []clientv3.Op{clientv3.OpGet(b.ks.key("/"), clientv3.WithCountOnly())}
		resp, err := b.cli.Txn(rctx).If(cmps...).Then(lin...).Else(lin...).Commit()
		if err == nil || !isPermissionDenied(err) {
			if err != nil {
				return nil, b.commitErr(ctx, err)
			}
			return resp, nil
		}
		b.revByTxn.Store(true)
	}
	resp, err := b.cli.Txn(rctx).If(cmps...).Then(thenOps...).Else(elseOps...).Commit()
	if err != nil {
		return nil, b.commitErr(ctx, err)
	}
	return resp, nil
}

// checkSize fails with ErrTxnTooLarge when a transaction has more compares,
// or ops in a branch, than MaxTxnOps.
func (b *Backend) checkSize(what string, cmps, thenOps, elseOps int) error {
	if n, limit := max(cmps, thenOps, elseOps), b.cfg.MaxTxnOps; n > limit {
		return fmt.Errorf("%w: %s of %d compares, %d then and %d else ops exceeds %d",
			backend.ErrTxnTooLarge, what, cmps, thenOps, elseOps, limit)
	}
	return nil
}

// checkPut validates the path and value of a put.
func (b *Backend) checkPut(path, value string) error {
	if err := backend.ValidateWritePath(path); err != nil {
		return err
	}
	return backend.ValidateValue(path, value)
}

// compare translates one compare.
func (b *Backend) compare(c backend.Compare) (clientv3.Cmp, error) {
	if err := c.Range.Validate(); err != nil {
		return clientv3.Cmp{}, err
	}
	key, prefix := b.ks.of(c.Range)
	var target clientv3.Cmp
	switch c.Target {
	case backend.ModRevision:
		target = clientv3.ModRevision(key)
	case backend.CreateRevision:
		target = clientv3.CreateRevision(key)
	case backend.Version:
		target = clientv3.Version(key)
	default:
		return clientv3.Cmp{}, fmt.Errorf("%w: unknown compare target %d", backend.ErrInvalidTxn, c.Target)
	}
	var op string
	switch c.Op {
	case backend.Equal:
		op = "="
	case backend.NotEqual:
		op = "!="
	case backend.Less:
		op = "<"
	case backend.Greater:
		op = ">"
	default:
		return clientv3.Cmp{}, fmt.Errorf("%w: unknown compare operator %d", backend.ErrInvalidTxn, c.Op)
	}
	cmp := clientv3.Compare(target, op, c.Value)
	if prefix {
		cmp = cmp.WithPrefix()
	}
	return cmp, nil
}

// ops translates the ops of one branch.
func (b *Backend) ops(ops []backend.Op) ([]clientv3.Op, error) {
	out := make([]clientv3.Op, len(ops))
	for i, op := range ops {
		switch op.Kind {
		case backend.OpPut:
			if op.Range.Prefix {
				return nil, backend.WrapPath("commit", op.Range.Path,
					fmt.Errorf("%w: a put needs a key, not a prefix range", backend.ErrInvalidTxn))
			}
			if err := backend.ValidateWritePath(op.Range.Path); err != nil {
				return nil, err
			}
			if err := backend.ValidateValue(op.Range.Path, op.Value); err != nil && !op.Binary {
				return nil, err
			}
			key := b.ks.key(op.Range.Path)
			if op.Lease != backend.NoLease {
				out[i] = clientv3.OpPut(key, op.Value, clientv3.WithLease(clientv3.LeaseID(op.Lease)))
			} else {
				out[i] = clientv3.OpPut(key, op.Value)
			}
		case backend.OpDelete:
			if err := op.Range.Validate(); err != nil {
				return nil, err
			}
			key, prefix := b.ks.of(op.Range)
			if prefix {
				out[i] = clientv3.OpDelete(key, clientv3.WithPrefix())
			} else {
				out[i] = clientv3.OpDelete(key)
			}
		default:
			return nil, backend.WrapPath("commit", op.Range.Path,
				fmt.Errorf("%w: unknown op kind %d", backend.ErrInvalidTxn, op.Kind))
		}
	}
	return out, nil
}

// deleted sums the keys the chosen branch's deletes removed.
func deleted(resp *clientv3.TxnResponse) int64 {
	var n int64
	for _, r := range resp.Responses {
		if d, ok := r.Response.(*pb.ResponseOp_ResponseDeleteRange); ok {
			n += d.ResponseDeleteRange.Deleted
		}
	}
	return n
}
