package txn

import (
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// write is the transaction's own final state of one key.
type write struct {
	deleted bool
	value   string
	lease   backend.LeaseID
}

// overlay holds a transaction's own writes, applied in order: the final
// state of each written key, and the prefix ranges deleted by recursive
// deletes. Deleting a range erases the earlier writes inside it, so an entry
// in keys always postdates every range delete that contains it.
type overlay struct {
	keys map[string]write
	dels []backend.Range // deleted ranges; none contains another
}

func (o *overlay) empty() bool { return len(o.keys) == 0 && len(o.dels) == 0 }

// lookup returns the key's state as the transaction's own writes leave it;
// known is false when they do not touch the key.
func (o *overlay) lookup(path string) (w write, known bool) {
	if w, ok := o.keys[path]; ok {
		return w, true
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
	if o.keys == nil {
		o.keys = make(map[string]write)
	}
	o.keys[path] = write{value: value, lease: lease}
}

func (o *overlay) del(path string) {
	if o.keys == nil {
		o.keys = make(map[string]write)
	}
	o.keys[path] = write{deleted: true}
}

// delRange deletes every key of the prefix range r.
func (o *overlay) delRange(r backend.Range) {
	for k := range o.keys {
		if r.Contains(k) {
			delete(o.keys, k)
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
