package backend

import "fmt"

// ValidateBranch rejects a branch of a commit that puts a key twice, or
// puts a key that one of its deletes covers, as etcd does ("duplicate key
// given in txn request"); deletes may overlap each other. The error wraps
// ErrInvalidTxn in a *PathError naming the key.
func ValidateBranch(ops []Op) error {
	for i, op := range ops {
		if op.Kind != OpPut {
			continue
		}
		p := op.Range.Path
		for j, other := range ops {
			if j == i {
				continue
			}
			switch {
			case other.Kind == OpPut && j < i && other.Range.Path == p:
				return WrapPath("commit", p, fmt.Errorf("%w: key %q is put twice", ErrInvalidTxn, p))
			case other.Kind == OpDelete && other.Range.Contains(p):
				return WrapPath("commit", p, fmt.Errorf("%w: key %q is put and deleted", ErrInvalidTxn, p))
			}
		}
	}
	return nil
}
