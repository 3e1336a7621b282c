//go:build linux

package netlinkdriver_test

import (
	"context"
	"errors"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/entities/netobj/netlinkdriver"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// dump returns what ip -j shows of links, addresses and routes (every
// table) in the driver's namespace, for comparing a whole namespace before
// and after a failed commit.
func dump(t *testing.T, name string) string {
	t.Helper()
	var all []byte
	for _, args := range [][]string{{"-j", "link"}, {"-j", "addr"}, {"-j", "route", "show", "table", "all"}, {"-j", "-6", "route", "show", "table", "all"}} {
		out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
		assert.NilError(t, err, string(out))
		all = append(all, out...)
	}
	return string(all)
}

// driverIn returns a driver on a fresh named namespace with the base of
// the rollback tests: br0 with 10.1.0.1/24, up.
func driverIn(t *testing.T) (*netlinkdriver.Driver, string) {
	t.Helper()
	ns, name := newNamedNamespace(t)
	// No duplicate address detection: link-local addresses would show as
	// "tentative" in one dump and not in the next.
	out, err := exec.Command("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0").CombinedOutput()
	assert.NilError(t, err, string(out))
	d, err := netlinkdriver.New(ns)
	assert.NilError(t, err)
	t.Cleanup(func() { d.Close() })
	_, err = netobj.Commit(context.Background(), d, want(br0, addr), netobj.CommitOptions{})
	assert.NilError(t, err)
	return d, name
}

// ip runs ip in the namespace.
func ip(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
	assert.NilError(t, err, string(out))
}

// A failed route add is not undone: its undo deleted, by destination and
// table with metric 0 (any metric, to the kernel), a route we never
// managed.
func TestFailedAddDoesNotDeleteAnUnmanagedRoute(t *testing.T) {
	d, name := driverIn(t)
	ip(t, name, "route", "add", "10.9.0.0/24", "via", "10.1.0.253", "metric", "100")
	before := dump(t, name)
	unreachable := netobj.Route("10.9.0.0/24", netobj.FieldGateway, "10.250.0.1")
	_, err := netobj.Commit(context.Background(), d, want(br0, addr, unreachable), netobj.CommitOptions{})
	assert.ErrorContains(t, err, "unreachable")
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce), "%v", err)
	assert.NilError(t, ce.Rollback)
	assert.Equal(t, dump(t, name), before)
}

// The removal of a route we applied deletes that route, with its gateway,
// and not another of the same destination and table.
func TestRemovalDeletesTheExactRoute(t *testing.T) {
	d, name := driverIn(t)
	ours := netobj.Route("10.9.0.0/24", netobj.FieldGateway, "10.1.0.254", netobj.FieldMetric, "5")
	_, err := netobj.Commit(context.Background(), d, want(br0, addr, ours), netobj.CommitOptions{})
	assert.NilError(t, err)
	ip(t, name, "route", "add", "10.9.0.0/24", "via", "10.1.0.253", "metric", "100")
	before := dump(t, name)
	_, err = netobj.Commit(context.Background(), d, []netobj.Change{{ID: "r", Applied: &ours}}, netobj.CommitOptions{})
	assert.NilError(t, err)
	out, err := exec.Command("ip", "-n", name, "route", "show", "10.9.0.0/24").CombinedOutput()
	assert.NilError(t, err)
	assert.Equal(t, string(out), "10.9.0.0/24 via 10.1.0.253 dev br0 metric 100 \n")
	assert.Assert(t, dump(t, name) != before)
}

// An IPv6 route given no metric is stored by the kernel with metric
// 1024: the commit's read-back finds it, and the next commit is clean.
func TestV6RouteWithoutMetricIsApplied(t *testing.T) {
	d, name := driverIn(t)
	ip(t, name, "-6", "addr", "add", "2001:db8:1::1/64", "dev", "br0")
	r6 := netobj.Route("2001:db8:9::/48", netobj.FieldGateway, "2001:db8:1::fe")
	rs, err := netobj.Commit(context.Background(), d, want(br0, r6), netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.Equal(t, rs[1].Transition, netobj.TransitionAdd)
	rs, err = netobj.Commit(context.Background(), d, want(br0, r6), netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.Equal(t, rs[1].Transition, netobj.TransitionClean)
	out, err := exec.Command("ip", "-n", name, "-6", "route", "show", "2001:db8:9::/48").CombinedOutput()
	assert.NilError(t, err)
	assert.Equal(t, string(out), "2001:db8:9::/48 via 2001:db8:1::fe dev br0 metric 1024 pref medium\n")
}

// A commit that removes br0's address, and so makes the kernel drop the
// route through it, then fails: the rollback puts the address back and
// the route too, as the snapshot has them.
func TestRollbackRestoresWhatTheKernelDropped(t *testing.T) {
	d, name := driverIn(t)
	_, err := netobj.Commit(context.Background(), d, want(br0, addr, rt), netobj.CommitOptions{})
	assert.NilError(t, err)
	before := dump(t, name)
	unreachable := netobj.Route("10.9.0.0/24", netobj.FieldGateway, "10.250.0.1")
	changes := append(want(br0, unreachable), netobj.Change{ID: "addr", Applied: &addr}, netobj.Change{ID: "rt", Desired: &rt, Applied: &rt})
	_, err = netobj.Commit(context.Background(), d, changes, netobj.CommitOptions{})
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce), "%v", err)
	assert.NilError(t, ce.Rollback)
	assert.Equal(t, dump(t, name), before)
}

// Undoing the removal of a veth re-creates it with its peer (the snapshot
// now holds the peer's name), and then its address and the route through
// it. The new pair has new indexes and MAC addresses, which the dumps
// compared leave out.
func TestRollbackOfAVethRemoval(t *testing.T) {
	d, name := driverIn(t)
	v2 := netobj.Interface("v2", netobj.TypeVeth, netobj.FieldPeer, "v2p", netobj.FieldMTU, "1400", netobj.FieldState, "up")
	v2a := netobj.Address("v2", "10.7.0.1/24")
	r8 := netobj.Route("10.8.0.0/16", netobj.FieldGateway, "10.7.0.254", netobj.FieldMetric, "7")
	_, err := netobj.Commit(context.Background(), d, want(br0, addr, v2, v2a, r8), netobj.CommitOptions{})
	assert.NilError(t, err)
	noCarrier(t, name, "v2")
	before := maskIdentity(dump(t, name))
	unreachable := netobj.Route("10.9.0.0/24", netobj.FieldGateway, "10.250.0.1")
	changes := append(want(br0, addr, unreachable),
		netobj.Change{ID: "v2", Applied: &v2}, netobj.Change{ID: "v2a", Applied: &v2a}, netobj.Change{ID: "r8", Applied: &r8})
	_, err = netobj.Commit(context.Background(), d, changes, netobj.CommitOptions{})
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce), "%v", err)
	assert.NilError(t, ce.Rollback)
	assert.Equal(t, maskIdentity(dump(t, name)), before)
}

// maskIdentity blanks what a re-created link cannot keep: its index and
// its MAC address (and the IPv6 link-local address derived from it).
func maskIdentity(s string) string {
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`"ifindex":\d+`),
		regexp.MustCompile(`"(address|broadcast|permaddr)":"[0-9a-f:]{17}"`),
		regexp.MustCompile(`"(local|dst)":"fe80::[0-9a-f:]*"`),
	} {
		s = re.ReplaceAllString(s, "•")
	}
	return s
}

// Undoing the removal of a bridge with a port: the port's undo (back onto
// br0) runs before br0 is back and fails; the restore after the undo sets
// it back once br0 is there, so the port is not left detached.
func TestRollbackOfABridgeRemovalReattachesItsPort(t *testing.T) {
	d, name := driverIn(t)
	v0 := netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldMaster, "br0", netobj.FieldState, "up")
	_, err := netobj.Commit(context.Background(), d, want(br0, addr, v0), netobj.CommitOptions{})
	assert.NilError(t, err)
	noCarrier(t, name, "br0")
	before := linksAndV4(t, name)
	free := netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldState, "up")
	unreachable := netobj.Route("10.9.0.0/24", netobj.FieldGateway, "10.250.0.1")
	changes := []netobj.Change{
		{ID: "br0", Applied: &br0}, {ID: "addr", Applied: &addr},
		{ID: "v0", Desired: &free, Applied: &v0},
		{ID: "bad", Desired: &unreachable},
	}
	_, err = netobj.Commit(context.Background(), d, changes, netobj.CommitOptions{})
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce), "%v", err)
	assert.NilError(t, ce.Rollback)
	noCarrier(t, name, "br0") // the re-created bridge, once its port is back
	assert.Equal(t, linksAndV4(t, name), before)
}

// linksAndV4 returns the links (name, flags, mtu, master: no index or MAC,
// sorted by name), the IPv4 addresses and the IPv4 routes of every table:
// the whole namespace but what a re-created bridge cannot keep (its index,
// its MAC and the link-local IPv6 address derived from it).
func linksAndV4(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", name, "-o", "link").CombinedOutput()
	assert.NilError(t, err, string(out))
	var links []string
	strip := regexp.MustCompile(`^\d+: |link/ether [0-9a-f:]+ brd [0-9a-f:]+|\\`)
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		links = append(links, strings.TrimSpace(strip.ReplaceAllString(l, "")))
	}
	slices.Sort(links)
	rest := ""
	for _, args := range [][]string{{"-o", "-4", "addr"}, {"-4", "route", "show", "table", "all"}} {
		out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
		assert.NilError(t, err, string(out))
		rest += regexp.MustCompile(`(?m)^\d+: `).ReplaceAllString(string(out), "")
	}
	return strings.Join(links, "\n") + "\n" + rest
}

// Both ends of a veth pair can be desired objects: the second end, which
// the first one's add created, gets its own MTU, state and master.
func TestBothEndsOfAVethAreManaged(t *testing.T) {
	d, name := driverIn(t)
	v0 := netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldState, "up")
	v0p := netobj.Interface("v0p", netobj.TypeVeth, netobj.FieldPeer, "v0", netobj.FieldMTU, "1400", netobj.FieldMaster, "br0", netobj.FieldState, "up")
	rs, err := netobj.Commit(context.Background(), d, want(br0, v0, v0p), netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, []string{rs[1].Transition, rs[2].Transition}, []string{netobj.TransitionAdd, netobj.TransitionAdd})
	out, err := exec.Command("ip", "-n", name, "-o", "link", "show", "v0p").CombinedOutput()
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(out), "mtu 1400") && strings.Contains(string(out), "master br0") && strings.Contains(string(out), ",UP"), string(out))
	rs, err = netobj.Commit(context.Background(), d, want(br0, v0, v0p), netobj.CommitOptions{})
	assert.NilError(t, err)
	for _, r := range rs {
		assert.Equal(t, r.Transition, netobj.TransitionClean, r.ID)
	}
}

// A port of MTU 1400 enslaved to a bridge of MTU 1500 lowers the bridge's
// MTU: the commit reads everything back after all its groups and sets the
// bridge's MTU again, instead of reporting success with the bridge at 1400.
func TestCommitLeavesEveryObjectAsDesired(t *testing.T) {
	d, name := driverIn(t)
	br := br0.Clone()
	br.Set(netobj.FieldMTU, "1500")
	port := netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldMaster, "br0", netobj.FieldMTU, "1400")
	_, err := netobj.Commit(context.Background(), d, want(br, port), netobj.CommitOptions{})
	assert.NilError(t, err)
	out, err := exec.Command("ip", "-n", name, "-o", "link", "show", "br0").CombinedOutput()
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(out), "mtu 1500 "), string(out))
	rs, err := netobj.Commit(context.Background(), d, want(br, port), netobj.CommitOptions{})
	assert.NilError(t, err)
	for _, r := range rs {
		assert.Equal(t, r.Transition, netobj.TransitionClean, r.ID)
	}
}

// Removing a bridge that desired objects still name is refused before any
// call, naming them: the kernel would take the port's enslavement and the
// address with it.
func TestRemovalOfANamedInterfaceIsRefused(t *testing.T) {
	d, name := driverIn(t)
	port := netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldMaster, "br0")
	_, err := netobj.Commit(context.Background(), d, want(br0, addr, port), netobj.CommitOptions{})
	assert.NilError(t, err)
	// The bridge loses its carrier on its own once a port (down) joined.
	noCarrier(t, name, "br0")
	before := linksAndV4(t, name)
	changes := append(want(addr, port), netobj.Change{ID: "br0", Applied: &br0})
	_, err = netobj.Commit(context.Background(), d, changes, netobj.CommitOptions{})
	assert.ErrorIs(t, err, netobj.ErrInvalidObject)
	assert.ErrorContains(t, err, `interface "br0" cannot be removed while desired objects name it: address "br0,10.1.0.1/24" (interface), interface "v0" (master)`)
	assert.Equal(t, linksAndV4(t, name), before)
}

// noCarrier waits until the kernel shows link ifname without carrier (it
// settles on its own once a port or a peer is down), so that dumps taken
// before and after a commit compare what the commit did, not the timing.
func noCarrier(t *testing.T, name, ifname string) {
	t.Helper()
	sdptest.WaitFor(t, ifname+" without carrier", func() bool {
		out, err := exec.Command("ip", "-n", name, "-o", "link", "show", ifname).CombinedOutput()
		return err == nil && strings.Contains(string(out), "NO-CARRIER")
	})
}
