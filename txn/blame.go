package txn

import (
	"context"
	"errors"

	"github.com/sdpconfig/sdpconfig/backend"
)

// blameLimit bounds the reads blame makes: the key compares it checks, and
// the keys it lists per range.
const blameLimit = 32

// blame returns a key that makes one of c's compares fail in the store now,
// or "" if it finds none within blameLimit reads (or a read fails). The
// store tells only that some compare failed; Run calls blame once, when it
// gives up, to name a culprit in the error. For a listed range it names the
// key created in it.
func blame(ctx context.Context, b backend.Backend, c *backend.Txn) string {
	reads := 0
	for _, cmp := range c.If {
		if cmp.Range.Prefix {
			continue
		}
		if reads++; reads > blameLimit {
			break
		}
		kv, _, err := b.Get(ctx, cmp.Range.Path, 0)
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return ""
		}
		if !holds(cmp, kv) {
			return cmp.Range.Path
		}
	}
	for _, cmp := range c.If {
		if !cmp.Range.Prefix {
			continue
		}
		if reads++; reads > blameLimit {
			break
		}
		rel := cmp.Range.KeyDepth() - backend.Depth(cmp.Range.Path)
		res, err := b.List(ctx, cmp.Range.Path, backend.ListOptions{Depths: []int{rel}, Limit: blameLimit})
		if err != nil {
			return ""
		}
		for _, kv := range res.KVs {
			if !holds(cmp, kv) {
				return kv.Path
			}
		}
	}
	return ""
}

// holds evaluates cmp on kv (the zero KeyValue for an absent key), as the
// store does.
func holds(cmp backend.Compare, kv backend.KeyValue) bool {
	var v int64
	switch cmp.Target {
	case backend.ModRevision:
		v = kv.ModRevision
	case backend.CreateRevision:
		v = kv.CreateRevision
	case backend.Version:
		v = kv.Version
	}
	switch cmp.Op {
	case backend.Equal:
		return v == cmp.Value
	case backend.NotEqual:
		return v != cmp.Value
	case backend.Less:
		return v < cmp.Value
	case backend.Greater:
		return v > cmp.Value
	}
	return false
}
