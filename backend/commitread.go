package backend

import "context"

// CommitReader is implemented by backends that can return, from a commit
// whose compares failed, the current state of given keys in the same round
// trip (etcd: Get ops in the transaction's Else branch). An optimistic
// transaction uses it to retry from that state without reading it again.
type CommitReader interface {
	// CommitRead commits t exactly as Commit does (same checks, errors and
	// outcome) and, when t's compares fail, also reads the keys at the paths
	// reads names, after t.Else has run, at the result's Revision.
	//
	// The reads are a best effort: when adding them would make the commit
	// exceed the store's limits (Limiter.MaxTxnOps per branch, request size),
	// the backend commits t alone, as Commit, and reports Read false. Every
	// path of reads must be a valid key path: they are checked first
	// (ErrInvalidPath, naming the first bad one), then t as Commit checks
	// it, all before any I/O.
	CommitRead(ctx context.Context, t Txn, reads []string) (CommitReadResult, error)
}

// CommitReadResult is the outcome of CommitReader.CommitRead.
type CommitReadResult struct {
	// TxnResult is the commit's outcome, as Commit reports it.
	TxnResult
	// Read tells whether KVs holds the reads: only when the compares failed
	// (Succeeded is false) and the backend could add the reads to the
	// commit.
	Read bool
	// KVs are the keys of reads that exist at Revision, with their values,
	// in the order of reads. A path of reads missing from KVs was absent
	// at Revision (when Read is true).
	KVs []KeyValue
}
