// Package sdptest starts real etcd servers inside a test process, for the
// tests of sdpconfig and of the services that use it. It plays the role
// net/http/httptest plays for HTTP: every helper takes a testing.TB, calls
// t.Helper, fails the test when it cannot do its job, and registers its own
// cleanup with t.Cleanup, so that a test cannot forget to stop a server.
//
// The servers are etcd itself (go.etcd.io/etcd/server/v3/embed), not a
// fake: what passes against them passes against a production etcd of the
// same version. They listen on free 127.0.0.1 ports (client and peer URLs
// alike), keep their data under t.TempDir(), skip fsync, tick every 10 ms
// and log nothing (set the environment variable named by LogEnv to see their
// logs). A single server starts in about 0.1 s.
//
// # Basics
//
// NewEtcd starts one server. Client returns a raw etcd client on it, to look
// at what a backend stored; Backend (or NewBackend, for the server and the
// backend in one call) returns an sdpconfig etcd3 backend on it:
//
//	func TestSomething(t *testing.T) {
//		e := sdptest.NewEtcd(t)
//		b := e.Backend(t, etcd3.Config{Prefix: "/test"})
//		if _, err := b.Create(ctx, "/pb/x", "1", backend.NoLease); err != nil {
//			t.Fatal(err)
//		}
//		resp, err := e.Client(t).Get(ctx, "3/test/pb/x") // the stored form
//		...
//	}
//
// # Faults
//
// Etcd.Stop stops a server abruptly, as a crash would: connections and
// streams are cut and raft stops without handing leadership over. Restart
// starts it again on the same data and ports, so clients reconnect by
// themselves; FastReconnect makes them do so within about 100 ms.
//
// NewCluster starts a cluster of n members (3 for fault tests) on loopback.
// Stop and Restart act on one member; Leader and WaitLeader tell which
// member leads; RestartAll brings back a cluster that lost its quorum.
// Starting a cluster takes about two seconds, most of it etcd's bootstrap
// check of its peers.
//
// # Security
//
// WithTLS makes the servers serve clients over TLS only, with client
// certificates required: a certificate authority, a server certificate and
// a client certificate (and an untrusted authority with a client
// certificate of its own, for tests of a wrong certificate) are generated
// with crypto/x509 under t.TempDir() when the server starts. Etcd.TLS (or
// Cluster.TLS) returns their file paths (TLSFiles), and TLSFiles.Backend
// and TLSFiles.ClientConfig the settings of clients.
//
// WithAuth(rootPassword) turns etcd's user and role authentication on,
// with a user RootUser that holds etcd's root role. Etcd.Auth adds users
// and roles. Keys are stored depth-prefixed ("/pb/x" is "2/pb/x"), so a
// role's access to the subtree "/pb" is not one etcd prefix but one range
// per depth ("1/pb", then "2/pb/", "3/pb/", ... up to MaxGrantDepth):
// Auth.AddRole grants exactly those (see PrefixRanges), and "/" grants the
// whole key space.
//
//	e := sdptest.NewEtcd(t, sdptest.WithTLS(), sdptest.WithAuth("rootpw"))
//	e.Auth().AddRole(t, "pb", sdptest.ReadWrite, "/pb")
//	e.Auth().AddUser(t, "alice", "alicepw", "pb")
//	b := e.Auth().Backend(t, "alice", "alicepw", etcd3.Config{})
//
// Client and Backend use the trusted client certificate and RootUser by
// themselves, so tests written without these options work unchanged with
// them.
//
// # Caveats
//
// The connections between cluster members take up to five seconds to close
// after the members stop, so a goleak check that runs at once reports them.
// Use VerifyTestMain, which gives them that time, as the TestMain of a
// package that starts servers:
//
//	func TestMain(m *testing.M) { sdptest.VerifyTestMain(m) }
//
// A member of a cluster only becomes ready once the cluster has a leader:
// restarting one member of a cluster that lost its quorum blocks until the
// start timeout. Production code must never import this package.
package sdptest
