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
		if !cmp.Holds(kv) {
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
			if !cmp.Holds(kv) {
				return kv.Path
			}
		}
	}
	return ""
}
