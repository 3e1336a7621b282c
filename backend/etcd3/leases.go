package etcd3

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

// LeaseInfo is what the store says of a lease, by its ID alone: for tools
// that handle leases other processes granted.
type LeaseInfo struct {
	ID        backend.LeaseID
	Granted   time.Duration // the TTL it was granted with
	Remaining time.Duration // until it expires, unless kept alive
	Keys      []string      // the paths of the keys attached to it, under the backend's prefix
}

// LeaseInfo returns what the store says of lease id; ErrLeaseExpired if it
// has expired, been revoked or never existed.
func (b *Backend) LeaseInfo(ctx context.Context, id backend.LeaseID) (LeaseInfo, error) {
	var resp *clientv3.LeaseTimeToLiveResponse
	err := b.read(ctx, "lease_ttl", func(ctx context.Context) error {
		var err error
		resp, err = b.lessor.TimeToLive(ctx, clientv3.LeaseID(id), clientv3.WithAttachedKeys())
		return err
	})
	if err != nil {
		return LeaseInfo{}, fmt.Errorf("lease %016x: %w", int64(id), err)
	}
	if resp.TTL < 0 {
		return LeaseInfo{}, fmt.Errorf("lease %016x: %w", int64(id), backend.ErrLeaseExpired)
	}
	info := LeaseInfo{ID: id, Granted: time.Duration(resp.GrantedTTL) * time.Second, Remaining: time.Duration(resp.TTL) * time.Second}
	for _, k := range resp.Keys {
		if p, ok := b.ks.path(k); ok {
			info.Keys = append(info.Keys, p)
		}
	}
	return info, nil
}

// Leases returns the IDs of the leases alive in the store, of every user.
func (b *Backend) Leases(ctx context.Context) ([]backend.LeaseID, error) {
	var resp *clientv3.LeaseLeasesResponse
	err := b.read(ctx, "lease_list", func(ctx context.Context) error {
		var err error
		resp, err = b.lessor.Leases(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	ids := make([]backend.LeaseID, len(resp.Leases))
	for i, l := range resp.Leases {
		ids[i] = backend.LeaseID(l.ID)
	}
	return ids, nil
}

// RevokeLease revokes lease id: the store deletes its keys at once.
func (b *Backend) RevokeLease(ctx context.Context, id backend.LeaseID) error {
	rctx, done, err := b.reqCtx(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := b.lessor.Revoke(rctx, clientv3.LeaseID(id)); err != nil {
		return fmt.Errorf("lease %016x: %w", int64(id), b.mapErr(ctx, err))
	}
	return nil
}

// KeepLeaseAlive keeps lease id alive until ctx ends, calling f with its
// TTL after each renewal; it returns ctx's error, or ErrLeaseExpired once
// the lease is gone.
func (b *Backend) KeepLeaseAlive(ctx context.Context, id backend.LeaseID, f func(ttl time.Duration)) error {
	ch, err := b.lessor.KeepAlive(ctx, clientv3.LeaseID(id))
	if err != nil {
		return fmt.Errorf("lease %016x: %w", int64(id), b.mapErr(ctx, err))
	}
	for resp := range ch {
		f(time.Duration(resp.TTL) * time.Second)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("lease %016x: %w", int64(id), backend.ErrLeaseExpired)
}

// ParseLeaseID reads a lease ID as etcdctl prints it (hexadecimal).
func ParseLeaseID(s string) (backend.LeaseID, error) {
	var id int64
	if _, err := fmt.Sscanf(strings.TrimPrefix(s, "0x"), "%x", &id); err != nil || id <= 0 {
		return 0, fmt.Errorf("lease ID %q: want a hexadecimal number, as etcdctl prints it", s)
	}
	return backend.LeaseID(id), nil
}
