package sdptest

import (
	"context"
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
)

// RootUser is the etcd user WithAuth creates, with etcd's root role.
const RootUser = "root"

// MaxGrantDepth is the deepest key depth GrantPrefix grants: a role
// granted "/pb" may reach paths down to this many segments.
const MaxGrantDepth = 16

// KeyRange is one etcd key range of a permission, [Key, RangeEnd); an
// empty RangeEnd is the single key Key.
type KeyRange struct {
	Key, RangeEnd string
}

// PrefixRanges returns the stored key ranges that hold the subtree of
// path prefix (the key prefix itself and every key below it), for etcd role
// permissions. sdpconfig stores keys depth-prefixed ("/pb/x" is "2/pb/x",
// "/pb/x/y" is "3/pb/x/y"), so a subtree is not one etcd prefix but one
// range per depth: the key "1/pb" itself, then "2/pb/", "3/pb/", ... up to
// MaxGrantDepth. prefix is the full path, the backend's global prefix
// (etcd3.Config.Prefix) included. The empty prefix (or "/") means every
// key: the range from "\x00" with range end "\x00", which etcd reads as
// every key from "\x00" on, its whole key space.
func PrefixRanges(prefix string) []KeyRange {
	if prefix == "" || prefix == "/" {
		return []KeyRange{{Key: "\x00", RangeEnd: "\x00"}}
	}
	d := backend.Depth(prefix)
	rs := []KeyRange{{Key: backend.EncodeKey(prefix)}}
	for depth := d + 1; depth <= MaxGrantDepth; depth++ {
		k := backend.EncodeKeyAt(prefix+"/", depth)
		rs = append(rs, KeyRange{Key: k, RangeEnd: clientv3.GetPrefixRangeEnd(k)})
	}
	return rs
}

// Auth manages the users and roles of a server or cluster started with
// WithAuth. Every call fails the test on error.
type Auth struct {
	endpoints []string
	o         options
}

// Auth returns the server's user and role manager, or nil without
// WithAuth.
func (e *Etcd) Auth() *Auth {
	if e.mc.opts.rootPassword == "" {
		return nil
	}
	return &Auth{endpoints: e.Endpoints(), o: e.mc.opts}
}

// Auth returns the cluster's user and role manager, or nil without
// WithAuth.
func (c *Cluster) Auth() *Auth {
	if c.members[0].mc.opts.rootPassword == "" {
		return nil
	}
	return &Auth{endpoints: c.Endpoints(), o: c.members[0].mc.opts}
}

// do runs f with a root client.
func (a *Auth) do(t testing.TB, what string, f func(context.Context, *clientv3.Client) error) {
	t.Helper()
	cli, err := clientv3.New(clientConfig(a.endpoints, a.o))
	if err != nil {
		t.Fatalf("sdptest: %s: connecting as %s: %v", what, RootUser, err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Patience(t))
	defer cancel()
	if err := f(ctx, cli); err != nil {
		t.Fatalf("sdptest: %s: %v", what, err)
	}
}

// AddUser creates user name with password and grants it roles.
func (a *Auth) AddUser(t testing.TB, name, password string, roles ...string) {
	t.Helper()
	a.do(t, "adding user "+name, func(ctx context.Context, cli *clientv3.Client) error {
		if _, err := cli.UserAdd(ctx, name, password); err != nil {
			return err
		}
		for _, r := range roles {
			if _, err := cli.UserGrantRole(ctx, name, r); err != nil {
				return fmt.Errorf("granting role %s: %w", r, err)
			}
		}
		return nil
	})
}

// Perm is a permission a role has on a prefix.
type Perm int

// The permissions of AddRole.
const (
	Read      Perm = Perm(clientv3.PermRead)
	Write     Perm = Perm(clientv3.PermWrite)
	ReadWrite Perm = Perm(clientv3.PermReadWrite)
)

// AddRole creates role name, with perm on the subtree of every path prefix in prefixes (see
// PrefixRanges: pass the full path, the global prefix included).
func (a *Auth) AddRole(t testing.TB, name string, perm Perm, prefixes ...string) {
	t.Helper()
	a.do(t, "adding role "+name, func(ctx context.Context, cli *clientv3.Client) error {
		if _, err := cli.RoleAdd(ctx, name); err != nil {
			return err
		}
		for _, p := range prefixes {
			for _, r := range PrefixRanges(p) {
				if _, err := cli.RoleGrantPermission(ctx, name, r.Key, r.RangeEnd, clientv3.PermissionType(perm)); err != nil {
					return fmt.Errorf("granting %q: %w", p, err)
				}
			}
		}
		return nil
	})
}

// Backend returns an etcd3 backend on the endpoints that authenticates as
// user with password (and with the trusted client certificate under
// WithTLS), closed by t.Cleanup. Empty fields of cfg are filled in as
// Etcd.Backend does.
func (a *Auth) Backend(t testing.TB, user, password string, cfg etcd3.Config) *etcd3.Backend {
	t.Helper()
	cfg.Username, cfg.Password = user, password
	if len(cfg.Endpoints) == 0 {
		cfg.Endpoints = a.endpoints
	}
	fillBackend(&cfg, a.o)
	return newBackend(t, cfg)
}

// enableAuth creates the root user with the root role and turns
// authentication on.
func enableAuth(endpoints []string, o options) error {
	cfg := clientConfig(endpoints, o)
	cfg.Username, cfg.Password = "", ""
	cli, err := clientv3.New(cfg)
	if err != nil {
		return fmt.Errorf("sdptest: enabling auth: %w", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := cli.UserAdd(ctx, RootUser, o.rootPassword); err != nil {
		return fmt.Errorf("sdptest: enabling auth: adding %s: %w", RootUser, err)
	}
	if _, err := cli.UserGrantRole(ctx, RootUser, "root"); err != nil {
		return fmt.Errorf("sdptest: enabling auth: granting root: %w", err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		return fmt.Errorf("sdptest: enabling auth: %w", err)
	}
	return nil
}

// clientConfig is the configuration of the raw clients of this package on
// endpoints: TLS with the trusted client certificate under WithTLS, the
// root user under WithAuth.
func clientConfig(endpoints []string, o options) clientv3.Config {
	cfg := clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: startTimeout, // logging in is slow on a loaded machine
		Logger:      zap.NewNop(),
		DialOptions: FastReconnect(),
	}
	if o.tlsFiles != nil {
		tc, err := o.tlsFiles.ClientConfig()
		if err == nil {
			cfg.TLS = tc
		}
	}
	if o.rootPassword != "" {
		cfg.Username, cfg.Password = RootUser, o.rootPassword
	}
	return cfg
}

// fillBackend fills the security fields of cfg left empty: the trusted
// client certificate under WithTLS, the root user under WithAuth.
func fillBackend(cfg *etcd3.Config, o options) {
	if o.tlsFiles != nil && cfg.TLS == (etcd3.TLSConfig{}) {
		cfg.TLS = o.tlsFiles.Backend()
	}
	if o.rootPassword != "" && cfg.Username == "" && cfg.Password == "" {
		cfg.Username, cfg.Password = RootUser, o.rootPassword
	}
}
