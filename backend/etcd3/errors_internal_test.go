package etcd3

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sdpconfig/sdpconfig/backend"
)

func TestSentinelOf(t *testing.T) {
	for _, c := range []struct {
		err      error
		want     error
		definite bool
	}{
		{rpctypes.ErrCompacted, backend.ErrCompacted, true},
		{rpctypes.ErrFutureRev, backend.ErrFutureRevision, true},
		{rpctypes.ErrPermissionDenied, backend.ErrPermissionDenied, true},
		{rpctypes.ErrAuthFailed, backend.ErrPermissionDenied, true},
		{rpctypes.ErrInvalidAuthToken, backend.ErrPermissionDenied, true},
		{rpctypes.ErrUserEmpty, backend.ErrPermissionDenied, true},
		{rpctypes.ErrTooManyOps, backend.ErrTxnTooLarge, true},
		{rpctypes.ErrRequestTooLarge, backend.ErrTxnTooLarge, true},
		{status.Error(codes.ResourceExhausted, "grpc: trying to send message larger than max (3 vs. 2)"), backend.ErrTxnTooLarge, true},
		{rpctypes.ErrLeaseNotFound, backend.ErrLeaseExpired, true},
		{rpctypes.ErrDuplicateKey, backend.ErrInvalidTxn, true},
		{rpctypes.ErrLeaseTTLTooLarge, backend.ErrInvalidValue, true},
		{rpctypes.ErrTooManyRequests, backend.ErrUnavailable, true},
		{rpctypes.ErrNoSpace, backend.ErrUnavailable, true},
		// The client's gRPC form of an etcd error, and its flattened text.
		{rpctypes.ErrGRPCCompacted, backend.ErrCompacted, true},
		{errors.New("rpc error: code = PermissionDenied desc = etcdserver: permission denied"), backend.ErrPermissionDenied, true},
		// Whatever leaves a request's fate open.
		{rpctypes.ErrNoLeader, backend.ErrUnavailable, false},
		{rpctypes.ErrLeaderChanged, backend.ErrUnavailable, false},
		{rpctypes.ErrTimeout, backend.ErrUnavailable, false},
		{rpctypes.ErrStopped, backend.ErrUnavailable, false},
		{status.Error(codes.Unavailable, "connection refused"), backend.ErrUnavailable, false},
		{context.DeadlineExceeded, backend.ErrUnavailable, false},
		{errors.New("connection reset by peer"), backend.ErrUnavailable, false},
	} {
		t.Run(c.err.Error(), func(t *testing.T) {
			got, definite := sentinelOf(fmt.Errorf("wrapped: %w", c.err))
			if got != c.want || definite != c.definite {
				t.Errorf("sentinelOf(%v) = %v, %v; want %v, %v", c.err, got, definite, c.want, c.definite)
			}
		})
	}
}

func TestCommitErrIsIndeterminateUnlessDefinite(t *testing.T) {
	b := &Backend{}
	ctx := context.Background()

	err := b.commitErr(ctx, rpctypes.ErrTooManyOps)
	if !errors.Is(err, backend.ErrTxnTooLarge) || errors.Is(err, backend.ErrIndeterminate) {
		t.Errorf("definite refusal: %v", err)
	}
	err = b.commitErr(ctx, status.Error(codes.Unavailable, "connection reset"))
	if !errors.Is(err, backend.ErrIndeterminate) || !errors.Is(err, backend.ErrUnavailable) {
		t.Errorf("lost connection: %v", err)
	}
	dctx, cancel := context.WithCancel(ctx)
	cancel()
	err = b.commitErr(dctx, context.Canceled)
	if !errors.Is(err, backend.ErrIndeterminate) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled after sending: %v", err)
	}
	b.closed = true
	err = b.commitErr(ctx, status.Error(codes.Canceled, "grpc: the client connection is closing"))
	if !errors.Is(err, backend.ErrIndeterminate) || !errors.Is(err, backend.ErrClosed) {
		t.Errorf("closed while sending: %v", err)
	}
}

func TestKeyspace(t *testing.T) {
	ks := newKeyspace("/app")
	if got := ks.key("/pb/x"); got != "3/app/pb/x" {
		t.Errorf("key = %q", got)
	}
	if got := ks.rangeKey("/pb/", 3); got != "4/app/pb/" {
		t.Errorf("rangeKey = %q", got)
	}
	for key, want := range map[string]string{
		"3/app/pb/x":   "/pb/x",
		"2/app/x":      "/x",
		"3/apple/pb/x": "",
		"2/pb/x":       "",
		"1/app":        "",
		"4/app/pb/x":   "",
		"x":            "",
	} {
		got, ok := ks.path([]byte(key))
		if got != want || ok != (want != "") {
			t.Errorf("path(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	plain := newKeyspace("")
	if got, ok := plain.path([]byte("2/pb/x")); got != "/pb/x" || !ok {
		t.Errorf("plain path = %q, %v", got, ok)
	}
}

func TestCover(t *testing.T) {
	b := &Backend{ks: newKeyspace("")}
	start, end := b.cover([]backend.Range{backend.Key("/b/x"), backend.PrefixAt("/a/", 0), backend.PrefixAt("/c/", 3)})
	if start != "2/a/" || end != "3/c0" {
		t.Errorf("cover = [%q, %q)", start, end)
	}
	start, end = b.cover(nil)
	if start != "1/" || end != "1/\x00" {
		t.Errorf("cover of nothing = [%q, %q)", start, end)
	}
}
