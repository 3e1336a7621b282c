package etcd3

import (
	"context"

	"google.golang.org/grpc/connectivity"
)

// WatchConnection calls f(false) when the client's connection to the store
// is lost and f(true) when it is back, until ctx ends or the backend
// closes; it calls f in its own goroutine, in order, and returns once it
// will call it no more. A connection that was never up is not reported
// lost. Watches and requests resume by themselves once it is back (see
// ReconnectMaxDelay); this tells a user waiting on them what goes on.
func (b *Backend) WatchConnection(ctx context.Context, f func(up bool)) {
	conn := b.cli.ActiveConnection()
	if conn == nil {
		return
	}
	state := conn.GetState()
	up := state == connectivity.Ready
	lost := false // up once, then lost
	for conn.WaitForStateChange(ctx, state) {
		state = conn.GetState()
		switch {
		case state == connectivity.Shutdown:
			return
		case state == connectivity.Ready:
			up = true
			if lost {
				lost = false
				f(true)
			}
		case up:
			// Idle, Connecting or TransientFailure after Ready: the
			// transport to the member is gone.
			up, lost = false, true
			f(false)
		}
	}
}
