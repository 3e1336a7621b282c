package txn

import (
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// entry is everything an attempt knows about one key: its state at the
// snapshot, whether the outcome depends on it, and the attempt's own write.
type entry struct {
	kv      backend.KeyValue // kv.Path is the key; the rest is at the snapshot, Value only if known
	w       write            // the attempt's write, if written
	present bool             // the key exists at the snapshot (if seen)
	seen    bool             // kv and present hold the key at the snapshot
	known   bool             // seen, with its value (not only listed)
	written bool             // the attempt wrote the key (after any range delete of it)
	got     bool             // the attempt read the key alone (Get, Create, ...), not only listed it
	dep     depKind          // what the outcome depends on; 0: nothing
}

// path returns the entry's key.
func (e *entry) path() string { return e.kv.Path }

// write is the transaction's own final state of one key.
type write struct {
	value   string
	lease   backend.LeaseID
	deleted bool
}

// depKind says how much of a key a transaction observed.
type depKind uint8

const (
	// depExists: only whether the key exists (and its create revision).
	depExists depKind = iota + 1
	// depRead: its value, lease and revisions.
	depRead
)

// indexAbove is the number of entries above which a table keeps a map
// index; below it a linear scan is faster than hashing.
const indexAbove = 8

// table holds the entries of an attempt, in first-touch order.
type table struct {
	small   [4]entry // backing array for the first entries: no allocation
	entries []entry
	index   map[string]int
	writes  int // number of written entries
}

// find returns the entry for path, or nil.
func (t *table) find(path string) *entry {
	if t.index != nil {
		if i, ok := t.index[path]; ok {
			return &t.entries[i]
		}
		return nil
	}
	for i := range t.entries {
		if t.entries[i].kv.Path == path {
			return &t.entries[i]
		}
	}
	return nil
}

// add returns the entry for path, adding an empty one if needed. The
// pointer is valid until the next add.
func (t *table) add(path string) *entry {
	if e := t.find(path); e != nil {
		return e
	}
	if t.entries == nil {
		t.entries = t.small[:0]
	}
	t.entries = append(t.entries, entry{kv: backend.KeyValue{Path: path}})
	n := len(t.entries)
	switch {
	case t.index != nil:
		t.index[path] = n - 1
	case n > indexAbove:
		t.index = make(map[string]int, 2*n)
		for i := range t.entries {
			t.index[t.entries[i].kv.Path] = i
		}
	}
	return &t.entries[n-1]
}

func (t *table) setWrite(path string, w write) {
	e := t.add(path)
	if !e.written {
		t.writes++
	}
	e.written, e.w = true, w
}

// overlay is the attempt's own writes, applied in order: the final write of
// each key (in the table) and the prefix ranges deleted by recursive
// deletes. Deleting a range erases the earlier writes inside it, so a
// written entry always postdates every range delete that contains it.
type overlay struct {
	keys *table
	dels []backend.Range // deleted ranges; none contains another
}

func (o *overlay) empty() bool { return o.keys.writes == 0 && len(o.dels) == 0 }

// lookup returns the key's state as the attempt's own writes leave it;
// known is false when they do not touch the key.
func (o *overlay) lookup(path string) (w write, known bool) {
	if e := o.keys.find(path); e != nil && e.written {
		return e.w, true
	}
	if o.deletedByRange(path) {
		return write{deleted: true}, true
	}
	return write{}, false
}

// deletedByRange reports whether one of the deleted ranges holds path.
func (o *overlay) deletedByRange(path string) bool {
	for _, r := range o.dels {
		if r.Contains(path) {
			return true
		}
	}
	return false
}

func (o *overlay) put(path, value string, lease backend.LeaseID) {
	o.keys.setWrite(path, write{value: value, lease: lease})
}

func (o *overlay) del(path string) {
	o.keys.setWrite(path, write{deleted: true})
}

// delRange deletes every key of the prefix range r.
func (o *overlay) delRange(r backend.Range) {
	for i := range o.keys.entries {
		e := &o.keys.entries[i]
		if e.written && r.Contains(e.path()) {
			e.written, e.w = false, write{}
			o.keys.writes--
		}
	}
	for _, d := range o.dels {
		if rangeCovers(d, r) {
			return
		}
	}
	kept := o.dels[:0]
	for _, d := range o.dels {
		if !rangeCovers(r, d) {
			kept = append(kept, d)
		}
	}
	o.dels = append(kept, r)
}

// rangeCovers reports whether every key of the prefix range inner is in the
// prefix range outer.
func rangeCovers(outer, inner backend.Range) bool {
	return outer.KeyDepth() == inner.KeyDepth() && strings.HasPrefix(inner.Path, outer.Path)
}

// validPath is backend.ValidatePath with a fast path for the common case of
// a printable-ASCII path, which it accepts by the same rules.
func validPath(path string) error {
	if plainPath(path) {
		return nil
	}
	return backend.ValidatePath(path)
}

// validWritePath is backend.ValidateWritePath with validPath's fast path.
func validWritePath(path string) error {
	if plainPath(path) {
		return nil
	}
	return backend.ValidateWritePath(path)
}

// plainPath reports whether path is a valid key path of printable ASCII
// with no space: one that every path rule accepts.
func plainPath(path string) bool {
	if len(path) < 2 || path[0] != '/' || path[len(path)-1] == '/' {
		return false
	}
	prev := byte(0)
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c <= ' ' || c >= 0x7f || (c == '/' && prev == '/') {
			return false
		}
		prev = c
	}
	return true
}
