package sdptest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/types"
	clientv3 "go.etcd.io/etcd/client/v3"

	sdpetcd "github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

// ErrNoLeader is returned by Cluster.Leader when the running members do not
// agree on a running leader (an election is under way, or the cluster lost
// its quorum).
var ErrNoLeader = errors.New("sdptest: cluster has no leader")

// Cluster is a real multi-member etcd cluster embedded in the test process,
// every member on loopback ports (client and peer). It is meant for fault
// tests: stop a member, check what clients see, restart it.
type Cluster struct {
	members []*Etcd
}

// NewCluster starts an n-member cluster (3 for fault tests) with its members
// started concurrently, each with its data under t.TempDir(), and waits
// until every member serves and a leader is elected. It is closed by
// t.Cleanup and fails the test if the cluster cannot start. Options apply to
// every member (WithDataDir is ignored).
func NewCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("sdptest: NewCluster needs at least one member, got %d", n)
	}
	o := buildOptions(opts)
	o.dataDir = ""
	setupTLS(t, &o)
	var err error
	for attempt := 0; attempt < bindAttempts; attempt++ {
		var c *Cluster
		if c, err = startCluster(t.TempDir(), n, o); err == nil {
			t.Cleanup(c.Close)
			if o.rootPassword != "" {
				if err := enableAuth(c.Endpoints(), o); err != nil {
					t.Fatal(err)
				}
			}
			return c
		}
		if !sdpetcd.IsAddrInUse(err) {
			break
		}
	}
	t.Fatal(err)
	return nil
}

// startCluster starts the members of a new cluster concurrently; on any
// failure it stops those that started and returns the first real error.
func startCluster(dir string, n int, o options) (*Cluster, error) {
	urls, err := freeURLPairs(n)
	if err != nil {
		return nil, err
	}
	token := uniqueToken()
	peers := make([]string, n)
	for i := range n {
		peers[i] = fmt.Sprintf("m%d=%s", i, urls[i].peer.String())
	}
	c := &Cluster{members: make([]*Etcd, n)}
	for i := range n {
		if o.tlsFiles != nil {
			urls[i].client.Scheme = "https"
		}
		c.members[i] = &Etcd{mc: memberConfig{
			name:           fmt.Sprintf("m%d", i),
			dir:            filepath.Join(dir, fmt.Sprintf("m%d", i)),
			clientURL:      urls[i].client,
			peerURL:        urls[i].peer,
			initialCluster: strings.Join(peers, ","),
			clusterToken:   token,
			tickMs:         clusterTickMs,
			electionMs:     clusterElectionMs,
			opts:           o,
		}}
	}
	if err := c.startMembers(c.members); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// startMembers starts ms concurrently. If one fails, the others give up
// waiting (they may lack a quorum without it) and stay stopped.
func (c *Cluster) startMembers(ms []*Etcd) error {
	abort := make(chan struct{})
	var once sync.Once
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := m.mc.start(abort)
			if err != nil {
				errs[i] = err
				once.Do(func() { close(abort) })
				return
			}
			m.mu.Lock()
			m.run = r
			m.mu.Unlock()
		}()
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, errAborted) {
			first = err
			break
		}
	}
	if first != nil {
		for _, m := range ms {
			m.Stop()
		}
	}
	return first
}

// Size returns the number of members.
func (c *Cluster) Size() int { return len(c.members) }

// Member returns member i (0 ≤ i < Size), to reach its own endpoint, raw
// client or server.
func (c *Cluster) Member(i int) *Etcd { return c.members[i] }

// Endpoints returns the client URLs of every member, in member order.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, 0, len(c.members))
	for _, m := range c.members {
		eps = append(eps, m.Endpoints()...)
	}
	return eps
}

// Client returns a raw etcd client over every member's endpoint, closed by
// t.Cleanup.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientConfig(c.Endpoints(), c.members[0].mc.opts))
	if err != nil {
		t.Fatalf("sdptest: connecting to etcd cluster at %v: %v", c.Endpoints(), err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// TLS returns the files WithTLS generated, or nil without WithTLS.
func (c *Cluster) TLS() *TLSFiles { return c.members[0].mc.opts.tlsFiles }

// Stop stops member i abruptly (see Etcd.Stop).
func (c *Cluster) Stop(i int) { c.members[i].Stop() }

// Restart restarts member i on its data and ports and waits until it has
// rejoined the cluster, which needs a quorum of the other members running.
func (c *Cluster) Restart(t testing.TB, i int) {
	t.Helper()
	c.members[i].Restart(t)
}

// RestartAll restarts every stopped member concurrently and waits until
// each has rejoined: the way back for a cluster that lost its quorum.
func (c *Cluster) RestartAll(t testing.TB) {
	t.Helper()
	var stopped []*Etcd
	for _, m := range c.members {
		if !m.Running() {
			stopped = append(stopped, m)
		}
	}
	errs := make([]error, len(stopped))
	var wg sync.WaitGroup
	for i, m := range stopped {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.restart()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// Leader returns the index of the current leader: the running member that
// every running member names as leader. It fails with ErrNoLeader while an
// election is under way, or when the members disagree or name a stopped
// member. It does not wait; see WaitLeader.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	index := make(map[types.ID]int, len(c.members))
	var lead types.ID
	running := 0
	for i, m := range c.members {
		s := m.Server()
		if s == nil {
			continue
		}
		running++
		index[s.MemberID()] = i
		l := s.Leader()
		switch {
		case l == types.ID(0):
			return -1, fmt.Errorf("%w: member m%d knows no leader", ErrNoLeader, i)
		case lead == types.ID(0):
			lead = l
		case l != lead:
			return -1, fmt.Errorf("%w: members disagree (%v and %v)", ErrNoLeader, lead, l)
		}
	}
	if running == 0 {
		return -1, fmt.Errorf("%w: no member is running", ErrNoLeader)
	}
	i, ok := index[lead]
	if !ok {
		return -1, fmt.Errorf("%w: leader %v is not running", ErrNoLeader, lead)
	}
	return i, nil
}

// WaitLeader waits until Leader succeeds and returns its answer, or fails
// with ctx's error wrapping the last ErrNoLeader.
func (c *Cluster) WaitLeader(ctx context.Context) (int, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		i, err := c.Leader(ctx)
		if err == nil {
			return i, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("sdptest: waiting for a leader: %w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// Close stops every member for good. It is idempotent and registered with
// t.Cleanup by NewCluster.
func (c *Cluster) Close() {
	var wg sync.WaitGroup
	for _, m := range c.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Close()
		}()
	}
	wg.Wait()
}
