package backend

import "strings"

// KeyValue is one key as the store holds it at some revision.
type KeyValue struct {
	Path           string  // the key's path, without any global prefix
	Value          string  // empty when the read asked for keys only
	CreateRevision int64   // revision of the write that created the key
	ModRevision    int64   // revision of the last write to the key
	Version        int64   // number of writes since creation (1 after create)
	Lease          LeaseID // the lease the key is attached to, or NoLease
}

// Range selects keys: one key (Prefix false), or every key at one depth
// whose path starts with a prefix. Ranges never span depths, because the
// stored form of a key begins with its depth.
type Range struct {
	// Path is a key path, or with Prefix a prefix (see ValidatePrefix).
	Path string
	// Prefix selects every key at Depth whose path starts with Path.
	Prefix bool
	// Depth is the absolute depth of the keys a prefix range selects; 0
	// means Depth(Path). Ignored when Prefix is false.
	Depth int
}

// Key returns the range holding only path.
func Key(path string) Range { return Range{Path: path} }

// PrefixAt returns the range of keys at depth whose path starts with prefix.
// A depth of 0 means Depth(prefix).
func PrefixAt(prefix string, depth int) Range {
	return Range{Path: prefix, Prefix: true, Depth: depth}
}

// Subtree returns the ranges of every key strictly below path, down to
// MaxDepth levels under it: the prefix path+"/" at each depth.
func Subtree(path string) []Range {
	p := strings.TrimSuffix(path, "/") + "/"
	d := Depth(p)
	rs := make([]Range, 0, MaxDepth)
	for i := 0; i < MaxDepth; i++ {
		rs = append(rs, PrefixAt(p, d+i))
	}
	return rs
}

// KeyDepth returns the depth of the keys r selects.
func (r Range) KeyDepth() int {
	if r.Prefix && r.Depth != 0 {
		return r.Depth
	}
	return Depth(r.Path)
}

// Contains reports whether r selects path.
func (r Range) Contains(path string) bool {
	if !r.Prefix {
		return path == r.Path
	}
	return Depth(path) == r.KeyDepth() && strings.HasPrefix(path, r.Path)
}

// Validate checks the range's path or prefix, and that a prefix range's
// depth is not above its prefix.
func (r Range) Validate() error {
	if !r.Prefix {
		return ValidatePath(r.Path)
	}
	if err := ValidatePrefix(r.Path); err != nil {
		return err
	}
	if r.Depth != 0 && r.Depth < Depth(r.Path) {
		return invalidPath(r.Path, "range depth is above its prefix")
	}
	return nil
}

// ListOptions select what List returns. The zero value lists the keys (no
// values) at the prefix's own depth at the newest revision.
type ListOptions struct {
	// Recurse adds the Recurse levels below the prefix's own depth.
	Recurse int
	// Depths, when not nil, are exactly the levels to list, relative to the
	// prefix's depth (0 is the prefix's own depth); Recurse is then ignored.
	Depths []int
	// Revision reads the store as it was at that revision; 0 is the newest.
	Revision int64
	// WithValues returns values as well as keys.
	WithValues bool
	// After skips every path up to and including After (for paging).
	After string
	// Limit returns at most Limit keys; 0 is no limit. ListResult.More tells
	// whether keys were left out.
	Limit int
}

// ListResult is what List returns.
type ListResult struct {
	KVs      []KeyValue // sorted by Path
	Revision int64      // the store's current revision when read (= the revision read, for Revision 0)
	More     bool       // Limit cut the list short
}

// CompareTarget is the field of a key a Compare tests.
type CompareTarget int

// The fields a Compare can test.
const (
	// ModRevision is the revision of the key's last write (0 if absent).
	ModRevision CompareTarget = iota + 1
	// CreateRevision is the revision that created the key (0 if absent).
	CreateRevision
	// Version is the number of writes since creation (0 if absent).
	Version
)

// CompareOp is how a Compare relates a key's field to its value.
type CompareOp int

// The relations a Compare can test.
const (
	Equal CompareOp = iota + 1
	NotEqual
	Less
	Greater
)

// Compare is one condition of a commit. On a single key, a missing key
// compares as if every field were 0. On a prefix range, the condition holds
// when every key in the range satisfies it, and an empty range compares as a
// missing key: this is etcd's rule, and the way a transaction detects a key
// created in a listed range (CreateRevision Less snapshot+1).
type Compare struct {
	Range  Range
	Target CompareTarget
	Op     CompareOp
	Value  int64
}

// OpKind says what an Op does.
type OpKind int

// The kinds of write a commit can do.
const (
	// OpPut writes Value to the key Range.Path, attached to Lease.
	OpPut OpKind = iota + 1
	// OpDelete deletes the key or every key of the prefix range Range.
	OpDelete
)

// Op is one write of a commit.
type Op struct {
	Kind  OpKind
	Range Range
	Value string  // OpPut only
	Lease LeaseID // OpPut only; NoLease detaches the key from any lease
	// Binary (OpPut only) lets Value be any bytes, not only UTF-8: for
	// restoring exactly what another program wrote (etcdctl can write any
	// bytes), as sdpcfg import does. Everything else writes UTF-8.
	Binary bool
}

// Put returns an Op writing value to path, attached to lease (or NoLease).
func Put(path, value string, lease LeaseID) Op {
	return Op{Kind: OpPut, Range: Key(path), Value: value, Lease: lease}
}

// Delete returns an Op deleting the key or keys of r.
func Delete(r Range) Op { return Op{Kind: OpDelete, Range: r} }

// Txn is an atomic commit: if every compare in If holds, the Then ops run,
// otherwise the Else ops run, all at one new revision (no new revision when
// the chosen branch writes nothing). A txn may not write one key twice nor
// put a key inside a range it deletes (ErrInvalidTxn), as in etcd.
type Txn struct {
	If   []Compare
	Then []Op
	Else []Op
}

// TxnResult is the outcome of a commit.
type TxnResult struct {
	// Succeeded tells whether the compares held (Then ran) or not (Else ran).
	Succeeded bool
	// Revision is the store revision after the commit: the new revision if
	// the chosen branch wrote, otherwise the current one.
	Revision int64
	// Deleted is the number of keys the chosen branch deleted.
	Deleted int64
}

// DeleteOptions select what Backend.Delete removes.
type DeleteOptions struct {
	// MustExist fails with ErrVanished, deleting nothing, when no key would
	// be deleted.
	MustExist bool
	// Recursive also deletes every key below the path, down to MaxDepth
	// levels (default MaxDepth).
	Recursive bool
	// Prefix treats the path as a prefix: every key at its depth starting
	// with it is deleted (and, with Recursive, every key below those).
	Prefix bool
	// MaxDepth bounds Recursive; 0 means MaxDepth.
	MaxDepth int
}

// DeleteResult is the outcome of Backend.Delete.
type DeleteResult struct {
	Revision int64 // store revision after the delete
	Deleted  int64 // number of keys deleted
}

// EventType says whether an Event is a write or a delete.
type EventType int

// The kinds of event a watch reports.
const (
	EventPut EventType = iota + 1
	EventDelete
)

// String returns "PUT" or "DELETE".
func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	}
	return "UNKNOWN"
}

// Event is one change of one key.
type Event struct {
	Type EventType
	// KV is the key after the change; for a delete, only Path is set and
	// ModRevision is the revision of the delete.
	KV KeyValue
	// Prev is the key before the change, or nil if it did not exist, and
	// possibly nil when the revision before the event has been compacted
	// (see the package doc: etcd reads it when it sends the event).
	Prev *KeyValue
}

// IsCreate reports whether the event created its key.
func (e Event) IsCreate() bool { return e.Type == EventPut && e.KV.Version == 1 }

// WatchResponse is one batch of events from a watch stream, in revision
// order. A response with no events and no error is a progress notification:
// every event up to Revision has been delivered.
type WatchResponse struct {
	Events []Event
	// Revision is the store revision the response was sent at: every event
	// of the watched ranges up to it has been delivered.
	Revision int64
	// Err ends the stream: ErrCompacted (CompactRevision, the revision after
	// the compact one, says where a watch may start again), ErrClosed, ErrUnavailable (the stream was cut: resume from the
	// last revision seen plus one), or the context's error. The channel is
	// closed after it.
	Err error
	// CompactRevision is set with ErrCompacted: the compact revision plus
	// one, the oldest revision a watch may start from.
	CompactRevision int64
}

// Holds reports whether kv satisfies c's condition on one key, as the store
// evaluates it; pass the zero KeyValue for an absent key.
func (c Compare) Holds(kv KeyValue) bool {
	var v int64
	switch c.Target {
	case ModRevision:
		v = kv.ModRevision
	case CreateRevision:
		v = kv.CreateRevision
	case Version:
		v = kv.Version
	}
	switch c.Op {
	case Equal:
		return v == c.Value
	case NotEqual:
		return v != c.Value
	case Less:
		return v < c.Value
	case Greater:
		return v > c.Value
	}
	return false
}

// FirstPath returns the first path t names (its first compare, else its
// first Then op, else its first Else op), to label its errors.
func (t Txn) FirstPath() string {
	switch {
	case len(t.If) > 0:
		return t.If[0].Range.Path
	case len(t.Then) > 0:
		return t.Then[0].Range.Path
	case len(t.Else) > 0:
		return t.Else[0].Range.Path
	}
	return ""
}
