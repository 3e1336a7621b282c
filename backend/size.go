package backend

import "fmt"

// FormatBytes renders a size for people: "812 B", "96.0 KiB", "2.0 MiB".
func FormatBytes(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// SizeRefused explains err, a refusal of a commit with ops for its size in
// bytes (it wraps ErrTxnTooLarge), by the largest value put: "value of /x
// is 2.0 MiB, over the server's request limit of 1.5 MiB". limit is the
// store's limit in bytes, 0 when the store does not say (etcd: its
// --max-request-bytes, 1.5 MiB by default).
func SizeRefused(err error, ops []Op, limit int) error {
	var big *Op
	for i := range ops {
		if op := &ops[i]; op.Kind == OpPut && (big == nil || len(op.Value) > len(big.Value)) {
			big = op
		}
	}
	if big == nil {
		return err
	}
	what := "the server's request limit (its --max-request-bytes, 1.5 MiB unless set otherwise)"
	if limit > 0 {
		what = "the store's request limit of " + FormatBytes(limit)
	}
	return fmt.Errorf("value of %s is %s, over %s: %w", big.Range.Path, FormatBytes(len(big.Value)), what, err)
}
