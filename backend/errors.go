package backend

import (
	"errors"
	"fmt"
)

// Sentinel errors. Backends return them wrapped (usually in a *PathError
// naming the path concerned); callers test for them with errors.Is.
var (
	// ErrNotFound is returned by Get when the key does not exist at the
	// requested revision.
	ErrNotFound = errors.New("sdpconfig: key not found")
	// ErrCollision is returned by Create when the key already exists.
	ErrCollision = errors.New("sdpconfig: key already exists")
	// ErrVanished is returned by Update when the key does not exist, and by
	// Delete with MustExist when there is nothing to delete.
	ErrVanished = errors.New("sdpconfig: key does not exist")
	// ErrInvalidPath is returned, before any I/O, for a path or prefix that
	// breaks the path rules (see ValidatePath and ValidatePrefix).
	ErrInvalidPath = errors.New("sdpconfig: invalid path")
	// ErrInvalidValue is returned, before any I/O, for a value that is not
	// valid UTF-8.
	ErrInvalidValue = errors.New("sdpconfig: invalid value")
	// ErrInvalidTxn is returned for a commit that etcd would reject as
	// malformed: the same key written twice, or a put inside a deleted range.
	ErrInvalidTxn = errors.New("sdpconfig: invalid transaction")
	// ErrCompacted is returned for a read or watch at a revision that has
	// been compacted away.
	ErrCompacted = errors.New("sdpconfig: revision compacted")
	// ErrFutureRevision is returned for a read or compaction at a revision
	// newer than the store's.
	ErrFutureRevision = errors.New("sdpconfig: revision is in the future")
	// ErrLeaseExpired is returned when a lease has expired, was revoked, or
	// is unknown to the store.
	ErrLeaseExpired = errors.New("sdpconfig: lease expired or not found")
	// ErrTxnTooLarge is returned, before anything is written, for a commit
	// with more compares or ops than the store allows, or larger in bytes
	// than its request limit.
	ErrTxnTooLarge = errors.New("sdpconfig: transaction too large")
	// ErrIndeterminate is returned when a commit may or may not have been
	// applied: the request was sent but its answer was lost. Backends never
	// retry such a commit blindly.
	ErrIndeterminate = errors.New("sdpconfig: commit outcome unknown")
	// ErrPermissionDenied is returned when the store refuses access to a key
	// or range, or rejects the credentials.
	ErrPermissionDenied = errors.New("sdpconfig: permission denied")
	// ErrUnavailable is returned when the store cannot be reached after the
	// backend's retries, and as the final error of a watch stream that was
	// cut; a watcher resumes from the last revision it saw plus one.
	ErrUnavailable = errors.New("sdpconfig: store unavailable")
	// ErrClosed is returned by every call on a closed backend, and ends the
	// watch streams and leases of a backend that closes.
	ErrClosed = errors.New("sdpconfig: backend closed")
)

// PathError records an error and the operation and path that caused it.
type PathError struct {
	Op   string // the operation: "get", "list", "create", "commit", ...
	Path string // the path (or prefix) concerned
	Err  error  // the underlying error, usually a sentinel above
}

// Error returns "op path: err".
func (e *PathError) Error() string {
	return fmt.Sprintf("%s %q: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

// WrapPath returns err wrapped in a *PathError for op and path; nil stays nil.
// An error that already is a *PathError is returned unchanged.
func WrapPath(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *PathError
	if errors.As(err, &pe) {
		return err
	}
	return &PathError{Op: op, Path: path, Err: err}
}
