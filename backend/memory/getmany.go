package memory

import (
	"context"
	"fmt"

	"github.com/sdpconfig/sdpconfig/backend"
)

var _ backend.MultiGetter = (*Backend)(nil)

// GetMany reads the keys at paths at rev (0: newest) under one lock, as
// backend.MultiGetter says.
func (b *Backend) GetMany(ctx context.Context, paths []string, rev int64) ([]backend.KeyValue, int64, error) {
	for _, p := range paths {
		if err := backend.ValidatePath(p); err != nil {
			return nil, 0, backend.WrapPath("get", p, err)
		}
	}
	if len(paths) > b.maxTxnOps {
		return nil, 0, fmt.Errorf("get of %d keys: %w (at most %d)", len(paths), backend.ErrTxnTooLarge, b.maxTxnOps)
	}
	first := "/"
	if len(paths) > 0 {
		first = paths[0]
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, backend.WrapPath("get", first, err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	at, err := b.readRev(rev)
	if err != nil {
		return nil, 0, backend.WrapPath("get", first, err)
	}
	var kvs []backend.KeyValue
	for _, p := range paths {
		if rec := b.keys[p]; rec != nil {
			if v, ok := rec.at(at); ok {
				kvs = append(kvs, v.keyValue(p, true))
			}
		}
	}
	return kvs, at, nil
}
