package etcd3

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sdpconfig/sdpconfig/backend"
)

// sentinelOf returns the backend sentinel an etcd server error stands for,
// and whether the server rejected the request before applying anything
// (definite): only then is a failed commit known not to have happened.
func sentinelOf(err error) (sentinel error, definite bool) {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return backend.ErrCompacted, true
	case errors.Is(err, rpctypes.ErrFutureRev):
		return backend.ErrFutureRevision, true
	case errors.Is(err, rpctypes.ErrPermissionDenied),
		errors.Is(err, rpctypes.ErrAuthFailed),
		errors.Is(err, rpctypes.ErrInvalidAuthToken),
		errors.Is(err, rpctypes.ErrUserEmpty),
		errors.Is(err, rpctypes.ErrUserNotFound),
		errors.Is(err, rpctypes.ErrRoleNotGranted),
		errors.Is(err, rpctypes.ErrPermissionNotGranted):
		return backend.ErrPermissionDenied, true
	case errors.Is(err, rpctypes.ErrTooManyOps),
		errors.Is(err, rpctypes.ErrRequestTooLarge):
		return backend.ErrTxnTooLarge, true
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		return backend.ErrLeaseExpired, true
	case errors.Is(err, rpctypes.ErrDuplicateKey),
		errors.Is(err, rpctypes.ErrEmptyKey),
		errors.Is(err, rpctypes.ErrKeyNotFound),
		errors.Is(err, rpctypes.ErrValueProvided),
		errors.Is(err, rpctypes.ErrLeaseProvided):
		return backend.ErrInvalidTxn, true
	case errors.Is(err, rpctypes.ErrLeaseTTLTooLarge):
		return backend.ErrInvalidValue, true
	case errors.Is(err, rpctypes.ErrNoSpace),
		errors.Is(err, rpctypes.ErrTooManyRequests):
		// Refused before (or instead of) applying: the store is full, or
		// too far behind on applying.
		return backend.ErrUnavailable, true
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.ResourceExhausted:
			if strings.Contains(s.Message(), "larger than max") {
				// gRPC refused to send (or receive) a message over its size
				// limit.
				return backend.ErrTxnTooLarge, true
			}
		case codes.PermissionDenied, codes.Unauthenticated:
			return backend.ErrPermissionDenied, true
		}
	}
	// etcd's client sometimes flattens a gRPC status into a plain error
	// ("rpc error: code = ... desc = etcdserver: ..."): read its
	// description.
	msg := err.Error()
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		var ee rpctypes.EtcdError
		if e := rpctypes.Error(errors.New(msg[i+len("desc = "):])); errors.As(e, &ee) {
			return sentinelOf(ee)
		}
	}
	return backend.ErrUnavailable, false
}

// mapErr turns an error of the etcd client into one that wraps a backend
// sentinel (and still wraps the client's error). ctx is the caller's
// context: when it has ended, its error is what the caller gets. A closed
// backend gives ErrClosed.
func (b *Backend) mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if b.isClosed() {
		return backend.ErrClosed
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	s, _ := sentinelOf(err)
	return fmt.Errorf("%w: %w", s, err)
}

// commitErr maps the error of a commit the client tried to send. A
// definite rejection by the server maps to its sentinel; anything else
// (deadline, cancellation, lost connection, closed backend) leaves the
// outcome unknown and wraps ErrIndeterminate as well as its cause.
func (b *Backend) commitErr(ctx context.Context, err error) error {
	if s, definite := sentinelOf(err); definite {
		return fmt.Errorf("%w: %w", s, err)
	}
	return fmt.Errorf("%w: %w", backend.ErrIndeterminate, b.mapErr(ctx, err))
}

// transient reports whether a read that failed with err (as mapErr
// returned it) may succeed if tried again.
func transient(err error) bool {
	return errors.Is(err, backend.ErrUnavailable) && !errors.Is(err, rpctypes.ErrNoSpace)
}

// sizeRefused reports whether the server (or gRPC) refused a request for
// its size in bytes, not for its count of ops.
func sizeRefused(err error) bool {
	if errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return true
	}
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.ResourceExhausted && strings.Contains(s.Message(), "larger than max")
}

// explainSize explains a commit of ops refused for its size (see
// backend.SizeRefused), and returns any other error as is.
func explainSize(err error, ops []backend.Op) error {
	if !sizeRefused(err) {
		return err
	}
	return backend.SizeRefused(err, ops, 0)
}
