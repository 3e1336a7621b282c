package txn

import (
	"errors"
	"fmt"

	"github.com/sdpconfig/sdpconfig/backend"
)

var (
	// ErrTooManyRetries is returned by Run when every attempt it was allowed
	// (WithMaxAttempts) ended in a conflict, or the back-off gave up. The
	// error Run returns wraps it and the last conflict (a *ConflictError),
	// so both errors.Is(err, ErrTooManyRetries) and errors.Is(err,
	// ErrConflict) hold.
	ErrTooManyRetries = errors.New("txn: too many retries")

	// ErrConflict is matched (with errors.Is) by every *ConflictError: an
	// attempt that could not commit because the store changed under its
	// snapshot, or because its snapshot was compacted away.
	ErrConflict = errors.New("txn: conflict")

	// errDone is returned by the methods of a Txn used after its attempt
	// ended (a Txn leaked out of its function).
	errDone = errors.New("txn: transaction used after its attempt ended")
)

// ConflictError describes why one attempt of a transaction had to be
// retried. It matches ErrConflict.
type ConflictError struct {
	// Path is a key that conflicted, when known: the key whose read failed
	// with ErrCompacted, the only key the commit compared, or, in the
	// conflict Run gives up on, a key whose compare fails when Run checks
	// (a key changed, or a key created in a listed range). Empty when
	// none of these tells.
	Path string
	// Revision is the snapshot revision of the attempt.
	Revision int64
	// Err is the cause beyond a failed compare, if any: an error wrapping
	// backend.ErrCompacted for a snapshot that was compacted away.
	Err error

	commit   *backend.Txn // the commit that failed, to find a culprit
	reads    []string     // the keys the attempt read alone, to read again at once
	deferred bool         // the commit was not sent: others wait for its keys' turns
}

// Error describes the conflict.
func (e *ConflictError) Error() string {
	msg := "txn: conflict"
	if e.Path != "" {
		msg += fmt.Sprintf(" on %q", e.Path)
	}
	msg += fmt.Sprintf(" at snapshot %d", e.Revision)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the cause, if any.
func (e *ConflictError) Unwrap() error { return e.Err }
