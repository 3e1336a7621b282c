//go:build linux

package netlinkdriver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// view is a namespace as the randomized test compares it: every link's
// name, peer, master, MTU and admin state; every IPv4 address; every IPv4
// route outside the local table. It leaves out what a re-created link
// cannot keep (index, MAC) and what the kernel settles on its own later
// (carrier, operstate).
func view(t *testing.T, name string) string {
	t.Helper()
	run := func(args ...string) []map[string]any {
		out, err := exec.Command("ip", append([]string{"-n", name, "-j"}, args...)...).CombinedOutput()
		assert.NilError(t, err, string(out))
		var v []map[string]any
		assert.NilError(t, json.Unmarshal(out, &v), string(out))
		return v
	}
	var lines []string
	for _, l := range run("link") {
		flags, _ := l["flags"].([]any)
		up := slices.Contains(flags, any("UP"))
		lines = append(lines, fmt.Sprintf("link %v peer=%v master=%v mtu=%v up=%v", l["ifname"], l["link"], l["master"], l["mtu"], up))
	}
	for _, a := range run("-4", "addr") {
		infos, _ := a["addr_info"].([]any)
		for _, i := range infos {
			m := i.(map[string]any)
			lines = append(lines, fmt.Sprintf("addr %v %v/%v", a["ifname"], m["local"], m["prefixlen"]))
		}
	}
	for _, r := range run("-4", "route", "show", "table", "all") {
		if r["table"] == "local" {
			continue
		}
		lines = append(lines, fmt.Sprintf("route %v via=%v dev=%v metric=%v table=%v proto=%v", r["dst"], r["gateway"], r["dev"], r["metric"], r["table"], r["protocol"]))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// failingDriver fails its n-th mutating call (counting from 1), before
// making it: one failure per commit, so it injects none once a call has
// failed by itself (the rollback's calls are not to fail).
type failingDriver struct {
	netobj.Driver
	n, calls int
}

// seen disarms f once a real call failed.
func (f *failingDriver) seen(err error) error {
	if err != nil {
		f.n = -1
	}
	return err
}

func (f *failingDriver) fail(what string) error {
	f.calls++
	if f.calls == f.n {
		f.n = -1
		return fmt.Errorf("injected failure of call %d (%s)", f.n, what)
	}
	return nil
}

func (f *failingDriver) Add(ctx context.Context, k netobj.Kind, fs netobj.Fields) error {
	if err := f.fail("add " + string(k)); err != nil {
		return err
	}
	return f.seen(f.Driver.Add(ctx, k, fs))
}

func (f *failingDriver) Set(ctx context.Context, k netobj.Kind, fs netobj.Fields, changed []string) error {
	if err := f.fail("set " + string(k)); err != nil {
		return err
	}
	return f.seen(f.Driver.Set(ctx, k, fs, changed))
}

func (f *failingDriver) Delete(ctx context.Context, k netobj.Kind, fs netobj.Fields) error {
	if err := f.fail("delete " + string(k)); err != nil {
		return err
	}
	return f.seen(f.Driver.Delete(ctx, k, fs))
}

// TestRandomCommitsRollBackToTheSnapshot commits random desired states
// with a failure injected at a random call, on a namespace that also holds
// objects nobody manages. After every failed commit the namespace must be
// as it was before it, and the unmanaged objects are never touched.
func TestRandomCommitsRollBackToTheSnapshot(t *testing.T) {
	d, name := driverIn(t)
	// Not managed: a veth pair and a route through br0's subnet.
	ip(t, name, "link", "add", "hx", "type", "veth", "peer", "name", "hy")
	ip(t, name, "route", "add", "10.66.0.0/16", "via", "10.1.0.253", "metric", "50")
	pool := []netobj.Object{
		br0, addr,
		netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldMaster, "br0", netobj.FieldMTU, "1400"),
		netobj.Interface("v2", netobj.TypeVeth, netobj.FieldPeer, "v2p", netobj.FieldState, "up"),
		netobj.Address("v2", "10.7.0.1/24"),
		netobj.Route("10.8.0.0/16", netobj.FieldGateway, "10.7.0.254", netobj.FieldMetric, "7"),
		netobj.Route("10.2.0.0/16", netobj.FieldGateway, "10.1.0.254"),
		netobj.Route("10.66.0.0/16", netobj.FieldGateway, "10.1.0.254", netobj.FieldMetric, "9"),
		netobj.Route("10.9.0.0/24", netobj.FieldGateway, "10.250.0.1"), // unreachable: always fails
	}
	needs := func(o netobj.Object, set map[string]netobj.Object) bool {
		for _, f := range []string{netobj.FieldMaster, netobj.FieldIface} {
			if n := o.Fields[f]; n != "" {
				if _, ok := set[n]; !ok {
					return false
				}
			}
		}
		if o.Kind == netobj.KindRoute && o.Fields[netobj.FieldGateway] == "10.7.0.254" {
			_, ok := set["v2,10.7.0.1/24"]
			return ok
		}
		return true
	}
	rng := rand.New(rand.NewPCG(1, 2)) // fixed: a failure replays
	applied := map[string]netobj.Object{"br0": br0, "br0,10.1.0.1/24": addr}
	failed := 0
	for round := 0; round < 40; round++ {
		// A random desired set, closed under what its objects name.
		// br0 and its address stay: the unmanaged route goes through them,
		// and the kernel would drop it with them.
		desired := map[string]netobj.Object{"br0": br0, "br0,10.1.0.1/24": addr}
		for _, o := range pool[2:] {
			if rng.IntN(2) == 0 {
				desired[o.DefaultID()] = o
			}
		}
		for changed := true; changed; {
			changed = false
			for id, o := range desired {
				if !needs(o, desired) {
					delete(desired, id)
					changed = true
				}
			}
		}
		var changes []netobj.Change
		for _, o := range pool {
			id := o.DefaultID()
			ch := netobj.Change{ID: id}
			if des, ok := desired[id]; ok {
				ch.Desired = &des
			}
			if app, ok := applied[id]; ok {
				ch.Applied = &app
			}
			if ch.Desired != nil || ch.Applied != nil {
				changes = append(changes, ch)
			}
		}
		before := view(t, name)
		fd := &failingDriver{Driver: d, n: 1 + rng.IntN(8)}
		_, err := netobj.Commit(context.Background(), fd, changes, netobj.CommitOptions{})
		after := view(t, name)
		for _, unmanaged := range []string{"link hx peer=hy", "link hy peer=hx", "route 10.66.0.0/16 via=10.1.0.253 dev=br0 metric=50"} {
			if strings.Contains(before, unmanaged) {
				assert.Assert(t, strings.Contains(after, unmanaged), "round %d: %q was touched:\n%s", round, unmanaged, after)
			}
		}
		if err != nil {
			var ce *netobj.CommitError
			if !errors.As(err, &ce) {
				t.Fatalf("round %d: %v", round, err)
			}
			failed++
			assert.NilError(t, ce.Rollback, "round %d", round)
			assert.Equal(t, after, before, "round %d: the failed commit (%v) did not roll back to the snapshot", round, err)
			continue
		}
		applied = desired
	}
	t.Logf("%d of 40 commits failed and rolled back", failed)
	assert.Assert(t, failed >= 10, "only %d commits failed", failed)
}
