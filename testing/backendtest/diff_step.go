package backendtest

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// StepKind names the SPI call a Step makes.
type StepKind string

// The calls a Step can make.
const (
	StepGet      StepKind = "get"      // Get(Path, Rev)
	StepList     StepKind = "list"     // List(Path, List with Revision Rev)
	StepCreate   StepKind = "create"   // Create(Path, Value, Lease)
	StepUpdate   StepKind = "update"   // Update(Path, Value)
	StepDelete   StepKind = "delete"   // Delete(Path, Delete)
	StepCommit   StepKind = "commit"   // Commit(Txn), or CommitRead(Txn, Reads)
	StepRevision StepKind = "revision" // Revision()
	StepCompact  StepKind = "compact"  // Compact(Rev)
	StepGrant    StepKind = "grant"    // lease number Lease = Lease(TTL)
	StepRevoke   StepKind = "revoke"   // revoke lease number Lease
	StepWatch    StepKind = "watch"    // watch number Watch = Watch(Ranges, Rev), then drain it
	StepDrain    StepKind = "drain"    // ask watch number Watch for progress and collect its events
	StepUnwatch  StepKind = "unwatch"  // close watch number Watch
)

// Rev is a revision as a Step names it, relative to the sequence, so that
// one sequence means the same on a fresh store and on a fresh prefix of a
// shared one. With Cur it is the store's current revision plus N, but no
// older than the sequence's first revision plus one (older ones belong to
// what came before the sequence); without, N > 0 is the N-th revision after
// the sequence's first (base + N), and N <= 0 is passed as is (0: the
// newest).
type Rev struct {
	Cur bool
	N   int64
}

// resolve returns the revision r names on a store whose sequence started at
// base and is now at cur.
func (r Rev) resolve(base, cur int64) int64 {
	switch {
	case r.Cur:
		return max(cur+r.N, base+1)
	case r.N > 0:
		return base + r.N
	}
	return r.N
}

// Step is one SPI call of a differential sequence (see Diff). Leases and
// watches are numbered from 1 in the order the sequence opens them; 0 is
// none. In Txn, a compare of ModRevision or CreateRevision with a Value
// above 0 is relative to the sequence's first revision, as a Rev, and an
// op's Lease is a lease number.
type Step struct {
	Kind   StepKind
	Path   string
	Value  string
	Rev    Rev
	Lease  int
	TTL    time.Duration
	Watch  int
	Ranges []backend.Range
	List   backend.ListOptions
	Delete backend.DeleteOptions
	Txn    backend.Txn
	Reads  []string
	// Bulk adds as many puts to a commit's Then, of keys of their own: a
	// commit over the store's op limit takes one field, not a page.
	Bulk int
}

// GoString returns s as a Go composite literal naming only its set fields,
// so that a failing sequence prints as code to paste into a test.
func (s Step) GoString() string {
	lit := goLiteral(reflect.ValueOf(s), false)
	return strings.TrimPrefix(lit, "backendtest.Step")
}

// String returns s on one line, for failure messages.
func (s Step) String() string { return s.GoString() }

// goLiteral formats v as Go source, leaving out the zero fields of
// structs; elided drops the type of a struct, as inside a slice literal.
func goLiteral(v reflect.Value, elided bool) string {
	switch v.Kind() {
	case reflect.Struct:
		var b strings.Builder
		if !elided {
			b.WriteString(v.Type().String())
		}
		b.WriteString("{")
		n := 0
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).IsZero() {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			fmt.Fprintf(&b, "%s: %s", v.Type().Field(i).Name, goLiteral(v.Field(i), false))
		}
		b.WriteString("}")
		return b.String()
	case reflect.Slice:
		if v.IsNil() {
			return "nil"
		}
		var b strings.Builder
		b.WriteString(v.Type().String())
		b.WriteString("{")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(goLiteral(v.Index(i), true))
		}
		b.WriteString("}")
		return b.String()
	}
	return fmt.Sprintf("%#v", v.Interface())
}
