package etcdserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
)

// DefaultStartTimeout bounds the wait for a server to be ready when
// Config.StartTimeout is zero.
const DefaultStartTimeout = 30 * time.Second

// DefaultName is the member name of a server whose Config.Name is empty.
const DefaultName = "sdpcfg"

// bindAttempts bounds the tries at free ports that another process took
// between the moment they were found free and the moment etcd bound them.
const bindAttempts = 10

// Config configures Start. Only DataDir is required.
type Config struct {
	// DataDir holds the server's data. It is created if missing; a
	// directory that holds the data of an earlier run is reopened with its
	// keys and revisions.
	DataDir string
	// ClientURL is the URL the server serves clients on, such as
	// "http://127.0.0.1:2379"; its host must be an IP address. Empty picks
	// a free port on 127.0.0.1.
	ClientURL string
	// PeerURL is the URL of the server's raft peer listener, unused by a
	// single member but required by etcd. Empty picks a free port on
	// 127.0.0.1.
	PeerURL string
	// Name is the member's name; empty means DefaultName.
	Name string
	// StartTimeout bounds the wait until the server is ready; zero means
	// DefaultStartTimeout. The context of Start bounds it as well.
	StartTimeout time.Duration
	// Log receives the server's warnings and errors; nil silences them.
	Log io.Writer
	// NoFsync skips fsync: faster, but a machine crash can lose or corrupt
	// data. For throw-away stores (demos) only.
	NoFsync bool
	// MaxTxnOps is the most compares, or ops per branch, the server accepts
	// in one transaction; zero keeps etcd's default (128).
	MaxTxnOps uint
	// FastTicks makes the server tick every 10 ms instead of 100 ms, so that
	// a fresh single member elects itself at once. For demos and tests.
	FastTicks bool
}

// Server is a running embedded etcd server. Its methods are safe for
// concurrent use.
type Server struct {
	etcd      *embed.Etcd
	clientURL string
	dataDir   string
	errc      chan error

	lock *dirLock // held until Close

	mu     sync.Mutex
	grpcs  []*grpc.Server // the client-facing gRPC servers, stopped first by Close
	closed bool
	done   chan struct{} // closed once the forwarding goroutine ended
}

// Start starts a server as cfg says and waits until it is ready to serve
// clients, at most cfg.StartTimeout and as long as ctx allows. On failure
// nothing is left running and the error names the URL or directory
// concerned (a port already in use, for instance).
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("etcdserver: %w", err)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("etcdserver: no data directory")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("etcdserver: data directory: %w", err)
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < bindAttempts; attempt++ {
		client, peer, picked, err := pickURLs(cfg.ClientURL, cfg.PeerURL)
		if err != nil {
			lock.release()
			return nil, err
		}
		s, err := start(ctx, cfg, client, peer)
		if err == nil {
			s.lock = lock
			return s, nil
		}
		lastErr = err
		// Retry only when a port we picked ourselves was taken meanwhile.
		if !picked || !IsAddrInUse(err) || ctx.Err() != nil {
			break
		}
	}
	lock.release()
	return nil, lastErr
}

// start makes one attempt at starting the server on the given URLs.
func start(ctx context.Context, cfg Config, clientURL, peerURL url.URL) (*Server, error) {
	s := &Server{clientURL: clientURL.String(), dataDir: cfg.DataDir, errc: make(chan error, 1), done: make(chan struct{})}
	m := Member{
		Name:      cfg.Name,
		Dir:       cfg.DataDir,
		ClientURL: clientURL,
		PeerURL:   peerURL,
		NoFsync:   cfg.NoFsync,
		MaxTxnOps: cfg.MaxTxnOps,
		Logger:    newLogger(cfg.Log),
		ServiceRegister: func(g *grpc.Server) {
			s.mu.Lock()
			s.grpcs = append(s.grpcs, g)
			s.mu.Unlock()
		},
	}
	if m.Name == "" {
		m.Name = DefaultName
	}
	if cfg.FastTicks {
		m.TickMs, m.ElectionMs = 10, 100
	}
	ec := NewEmbedConfig(m)

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("etcdserver: starting etcd on %s (data in %s): %w", clientURL.String(), cfg.DataDir, err)
	}
	s.etcd = e
	select {
	case <-e.Server.ReadyNotify():
	case err, ok := <-e.Err():
		s.stop()
		if !ok || err == nil {
			err = errors.New("server stopped")
		}
		return nil, fmt.Errorf("etcdserver: etcd on %s failed while starting: %w", clientURL.String(), err)
	case <-ctx.Done():
		s.stop()
		return nil, fmt.Errorf("etcdserver: etcd on %s not ready: %w", clientURL.String(), ctx.Err())
	}
	go s.forward()
	return s, nil
}

// forward passes on the first fatal error of the running server.
func (s *Server) forward() {
	defer close(s.done)
	select {
	case err, ok := <-s.etcd.Err():
		if ok && err != nil {
			s.errc <- fmt.Errorf("etcdserver: etcd on %s: %w", s.clientURL, err)
		}
	case <-s.etcd.Server.StopNotify():
	}
}

// ClientURL returns the URL clients connect to, "http://127.0.0.1:port".
func (s *Server) ClientURL() string { return s.clientURL }

// Endpoint returns the client endpoint as "host:port", the form of
// SDP_CONFIG_ENDPOINTS.
func (s *Server) Endpoint() string {
	u, _ := url.Parse(s.clientURL)
	return u.Host
}

// DataDir returns the directory holding the server's data.
func (s *Server) DataDir() string { return s.dataDir }

// Err delivers at most one error: the reason the server stopped serving
// on its own (a disk failure, for instance). It is never closed.
func (s *Server) Err() <-chan error { return s.errc }

// Close stops the server. Open client connections and watch streams are
// cut at once rather than waited for, so that Close returns promptly; the
// data is kept in DataDir. No goroutine of the server outlives Close.
// Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.stop()
	<-s.done
	s.lock.release()
	return nil
}

// stop stops the gRPC servers hard, then etcd.
func (s *Server) stop() {
	s.mu.Lock()
	gs := s.grpcs
	s.grpcs = nil
	s.mu.Unlock()
	for _, g := range gs {
		g.Stop()
	}
	s.etcd.Close()
}

// newLogger returns the server's logger: silent for a nil w, otherwise
// warnings and errors written to w.
func newLogger(w io.Writer) *zap.Logger {
	if w == nil {
		return zap.NewNop()
	}
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), zapcore.WarnLevel)
	return zap.New(core)
}

// Ready returns nil while the server has a leader and raises no alarm: it
// can serve reads and writes.
func (s *Server) Ready(context.Context) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errors.New("etcdserver: server closed")
	}
	if s.etcd.Server.Leader() == 0 {
		return fmt.Errorf("etcdserver: etcd on %s has no leader", s.clientURL)
	}
	if alarms := s.etcd.Server.Alarms(); len(alarms) > 0 {
		return fmt.Errorf("etcdserver: etcd on %s raises alarm %s", s.clientURL, alarms[0].Alarm)
	}
	return nil
}
