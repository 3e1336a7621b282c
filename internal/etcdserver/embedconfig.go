package etcdserver

import (
	"net/url"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
)

// Member describes one embedded etcd member: what NewEmbedConfig turns
// into an embed.Config. It is the one place where this module configures
// embedded servers, for Start (sdpcfg server, the demo) and for sdptest's
// single members and clusters.
type Member struct {
	Name      string
	Dir       string
	ClientURL url.URL
	PeerURL   url.URL
	// InitialCluster lists every member as name=peerURL, comma-separated;
	// empty means this member alone.
	InitialCluster string
	// ClusterToken tells clusters started at once apart; empty is etcd's.
	ClusterToken string
	// NoFsync skips fsync (throw-away stores only).
	NoFsync bool
	// TickMs and ElectionMs are the raft timings; zero keeps etcd's.
	TickMs, ElectionMs uint
	// MaxTxnOps overrides etcd's 128 compares or ops per branch when set.
	MaxTxnOps uint
	// ClientTLS serves clients over TLS when not nil.
	ClientTLS *transport.TLSInfo
	// FastAuth hashes passwords at bcrypt's lowest cost, so that logging in
	// is cheap on a loaded machine: for test servers only.
	FastAuth bool
	// Logger receives the server's logs; nil silences them.
	Logger *zap.Logger
	// ServiceRegister is called with each client-facing gRPC server, so
	// that a stop can close them first (see Server.Close).
	ServiceRegister func(*grpc.Server)
}

// NewEmbedConfig returns the embed.Config of m: fresh cluster state (ignored
// once the data dir holds a member), no gRPC gateway, basic metrics, logs
// at error level and above.
func NewEmbedConfig(m Member) *embed.Config {
	ec := embed.NewConfig()
	ec.Name = m.Name
	ec.Dir = m.Dir
	ec.ListenClientUrls = []url.URL{m.ClientURL}
	ec.AdvertiseClientUrls = []url.URL{m.ClientURL}
	ec.ListenPeerUrls = []url.URL{m.PeerURL}
	ec.AdvertisePeerUrls = []url.URL{m.PeerURL}
	ec.InitialCluster = m.InitialCluster
	if ec.InitialCluster == "" {
		ec.InitialCluster = m.Name + "=" + m.PeerURL.String()
	}
	if m.ClusterToken != "" {
		ec.InitialClusterToken = m.ClusterToken
	}
	ec.ClusterState = embed.ClusterStateFlagNew
	ec.UnsafeNoFsync = m.NoFsync
	if m.TickMs > 0 {
		ec.TickMs = m.TickMs
	}
	if m.ElectionMs > 0 {
		ec.ElectionMs = m.ElectionMs
	}
	if m.MaxTxnOps > 0 {
		ec.MaxTxnOps = m.MaxTxnOps
	}
	if m.ClientTLS != nil {
		ec.ClientTLSInfo = *m.ClientTLS
	}
	if m.FastAuth {
		ec.BcryptCost = uint(bcrypt.MinCost)
	}
	ec.EnableGRPCGateway = false
	ec.Metrics = "basic"
	ec.LogLevel = "error"
	lg := m.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	ec.ServiceRegister = m.ServiceRegister
	return ec
}
