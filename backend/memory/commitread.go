package memory

import (
	"context"

	"github.com/sdpconfig/sdpconfig/backend"
)

var _ backend.CommitReader = (*Backend)(nil)

// CommitRead commits t as Commit does and, when its compares fail, reads
// the keys at reads under the same lock, after t.Else ran: the state at the
// result's Revision, as etcd's Get ops in the Else branch see it. Like the
// etcd backend it counts the reads as Else ops: when len(t.Else)+len(reads)
// exceeds MaxTxnOps it commits t alone and reports Read false.
func (b *Backend) CommitRead(ctx context.Context, t backend.Txn, reads []string) (backend.CommitReadResult, error) {
	for _, p := range reads { // first, as backend.CommitReader says
		if err := backend.ValidatePath(p); err != nil {
			return backend.CommitReadResult{}, backend.WrapPath("commit", p, err)
		}
	}
	if path, err := b.lockWrite(ctx, t); err != nil {
		return backend.CommitReadResult{}, backend.WrapPath("commit", path, err)
	}
	defer b.mu.Unlock()
	res, path, err := b.commitLocked(t, false)
	if err != nil {
		return backend.CommitReadResult{}, backend.WrapPath("commit", path, err)
	}
	out := backend.CommitReadResult{TxnResult: res}
	if res.Succeeded || len(t.Else)+len(reads) > b.maxTxnOps {
		return out, nil
	}
	out.Read = true
	for _, p := range reads {
		if rec := b.keys[p]; rec != nil {
			if v, ok := rec.at(b.rev); ok {
				out.KVs = append(out.KVs, v.keyValue(p, true))
			}
		}
	}
	return out, nil
}
