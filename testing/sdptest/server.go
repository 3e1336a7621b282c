package sdptest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/internal/etcdserver"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
)

// Timing of the embedded servers. Ticks are short so that a single member
// elects itself at once and a cluster replaces a stopped leader in well
// under a second; the election timeout of a cluster leaves room for a
// loaded 2-core machine running -race.
const (
	singleTickMs      = 10
	singleElectionMs  = 100
	clusterTickMs     = 20
	clusterElectionMs = 400
	// startTimeout bounds the wait for a server to be ready (for a cluster
	// member, to have joined a cluster with a leader).
	startTimeout = 60 * time.Second
	// bindAttempts bounds the tries at binding fresh ports (or, on restart,
	// the same ports) that another process took in the meantime.
	bindAttempts = 20
)

// LogEnv names the environment variable that turns the embedded servers'
// logs on: set it to a zap level ("debug", "info", "warn", "error") to log
// at that level to stderr. Unset, the servers log nothing.
const LogEnv = "SDPTEST_ETCD_LOG"

// memberConfig is everything needed to start (or restart) one member.
type memberConfig struct {
	name           string
	dir            string
	clientURL      url.URL
	peerURL        url.URL
	initialCluster string
	clusterToken   string
	tickMs         uint
	electionMs     uint
	opts           options
}

// running is one started instance of a member, from StartEtcd to Close.
type running struct {
	srv *embed.Etcd

	mu    sync.Mutex
	grpcs []*grpc.Server // the client-facing gRPC servers, for fast stops
}

// start starts the member and waits until it is ready to serve: for a
// single member, elected; for a cluster member, joined with a leader. It
// stops the server again on failure.
// A close of abort gives up the wait, for a cluster whose other members
// failed to start.
func (mc *memberConfig) start(abort <-chan struct{}) (*running, error) {
	r := &running{}
	m := etcdserver.Member{
		Name:           mc.name,
		Dir:            mc.dir,
		ClientURL:      mc.clientURL,
		PeerURL:        mc.peerURL,
		InitialCluster: mc.initialCluster,
		ClusterToken:   mc.clusterToken,
		NoFsync:        true,
		TickMs:         mc.tickMs,
		ElectionMs:     mc.electionMs,
		MaxTxnOps:      mc.opts.maxTxnOps,
		FastAuth:       true,
		Logger:         newLogger(),
		ServiceRegister: func(s *grpc.Server) {
			r.mu.Lock()
			r.grpcs = append(r.grpcs, s)
			r.mu.Unlock()
		},
	}
	if f := mc.opts.tlsFiles; f != nil {
		info := f.serverInfo()
		m.ClientTLS = &info
	}
	cfg := etcdserver.NewEmbedConfig(m)

	srv, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("sdptest: starting etcd member %s on %s: %w", mc.name, mc.clientURL.Host, err)
	}
	r.srv = srv
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-srv.Server.ReadyNotify():
		return r, nil
	case err, ok := <-srv.Err():
		r.stop()
		if !ok || err == nil {
			err = errors.New("server stopped")
		}
		return nil, fmt.Errorf("sdptest: etcd member %s failed while starting: %w", mc.name, err)
	case <-timer.C:
		r.stop()
		return nil, fmt.Errorf("sdptest: etcd member %s not ready after %v", mc.name, startTimeout)
	case <-abort:
		r.stop()
		return nil, errAborted
	}
}

// stop stops the member as a crash would, but cleanly enough to restart.
// The client-facing gRPC servers are stopped hard first: etcd's graceful
// stop otherwise waits up to its request timeout (over 5 s) for open watch
// and keep-alive streams, which clients never close by themselves. Raft is
// stopped hard next, so that a leader does not hand its leadership over
// first: the other members must notice the loss, as in a real failure.
func (r *running) stop() {
	r.mu.Lock()
	gs := r.grpcs
	r.grpcs = nil
	r.mu.Unlock()
	for _, g := range gs {
		g.Stop()
	}
	r.srv.Server.HardStop()
	r.srv.Close()
}

// errAborted is returned by start when its abort channel closed.
var errAborted = errors.New("sdptest: start aborted")

// newLogger returns the servers' logger: silent unless LogEnv names a level.
func newLogger() *zap.Logger {
	lvl := os.Getenv(LogEnv)
	if lvl == "" {
		return zap.NewNop()
	}
	l, err := zapcore.ParseLevel(lvl)
	if err != nil {
		l = zapcore.InfoLevel
	}
	zc := zap.NewDevelopmentConfig()
	zc.Level = zap.NewAtomicLevelAt(l)
	lg, err := zc.Build()
	if err != nil {
		return zap.NewNop()
	}
	return lg
}
