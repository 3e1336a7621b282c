package etcd3

import (
	"context"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

var _ backend.CommitReader = (*Backend)(nil)

// CommitRead commits t as Commit does, with one Get op per path of reads
// appended to the Else branch (after t.Else's ops, so they see its writes):
// when the compares fail, the one round trip also brings back the keys'
// state at the response's revision. The Gets count against MaxTxnOps:
// when len(t.Else)+len(reads) exceeds it, CommitRead is Commit and reports
// Read false. A server that refuses the larger request as too large (its
// own --max-txn-ops or request size limits may be lower than Config's)
// refused it before applying anything, so CommitRead then sends t alone,
// once, as Commit.
func (b *Backend) CommitRead(ctx context.Context, t backend.Txn, reads []string) (backend.CommitReadResult, error) {
	for _, p := range reads {
		if err := backend.ValidatePath(p); err != nil {
			return backend.CommitReadResult{}, backend.WrapPath("commit", p, err)
		}
	}
	if len(reads) == 0 || len(t.Else)+len(reads) > b.cfg.MaxTxnOps {
		res, err := b.Commit(ctx, t)
		return backend.CommitReadResult{TxnResult: res, Read: len(reads) == 0 && err == nil && !res.Succeeded}, err
	}
	label := t.FirstPath()
	cmps := make([]clientv3.Cmp, len(t.If))
	for i, c := range t.If {
		cmp, err := b.compare(c)
		if err != nil {
			return backend.CommitReadResult{}, backend.WrapPath("commit", c.Range.Path, err)
		}
		cmps[i] = cmp
	}
	thenOps, err := b.ops(t.Then)
	if err != nil {
		return backend.CommitReadResult{}, err
	}
	elseOps, err := b.ops(t.Else)
	if err != nil {
		return backend.CommitReadResult{}, err
	}
	for _, ops := range [2][]backend.Op{t.Then, t.Else} {
		if err := backend.ValidateBranch(ops); err != nil {
			return backend.CommitReadResult{}, err
		}
	}
	// The size last, as for Commit.
	if err := b.checkSize("commit", len(t.If), len(t.Then), len(t.Else)); err != nil {
		return backend.CommitReadResult{}, backend.WrapPath("commit", label, err)
	}
	elseOps = append(elseOps, make([]clientv3.Op, len(reads))...)
	for i, p := range reads {
		elseOps[len(t.Else)+i] = clientv3.OpGet(b.ks.key(p))
	}
	resp, err := b.txn(ctx, cmps, thenOps, elseOps)
	if errors.Is(err, backend.ErrTxnTooLarge) {
		// Refused before applying: the reads may be what tipped it over.
		res, err := b.Commit(ctx, t)
		return backend.CommitReadResult{TxnResult: res}, err
	}
	if err != nil {
		return backend.CommitReadResult{}, backend.WrapPath("commit", label, explainSize(err, append(t.Then[:len(t.Then):len(t.Then)], t.Else...)))
	}
	out := backend.CommitReadResult{TxnResult: backend.TxnResult{
		Succeeded: resp.Succeeded, Revision: resp.Header.Revision, Deleted: deleted(resp),
	}}
	if resp.Succeeded || len(resp.Responses) != len(elseOps) {
		return out, nil
	}
	out.Read = true
	for i, p := range reads {
		r := resp.Responses[len(t.Else)+i].Response
		rr, ok := r.(*pb.ResponseOp_ResponseRange)
		if !ok || len(rr.ResponseRange.Kvs) == 0 {
			continue
		}
		kv, _ := b.ks.keyValue(rr.ResponseRange.Kvs[0])
		kv.Path = p
		out.KVs = append(out.KVs, kv)
	}
	return out, nil
}
