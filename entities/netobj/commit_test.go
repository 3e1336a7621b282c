package netobj_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

func ptr(o netobj.Object) *netobj.Object { return &o }

func want(changes ...netobj.Object) []netobj.Change {
	var cs []netobj.Change
	for _, o := range changes {
		cs = append(cs, netobj.Change{ID: o.DefaultID(), Desired: ptr(o)})
	}
	return cs
}

func transitions(rs []netobj.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID+":"+r.Transition)
	}
	return out
}

func methods(calls []netobj.Call) []string {
	var out []string
	for _, c := range calls {
		s := c.Method + " " + string(c.Kind) + " " + c.Key
		if c.Fields != nil {
			s += fmt.Sprint(" ", c.Fields)
		}
		out = append(out, s)
	}
	return out
}

var (
	br0  = netobj.Interface("br0", netobj.TypeBridge, netobj.FieldState, "up")
	veth = netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldMaster, "br0", netobj.FieldMTU, "1400")
	addr = netobj.Address("br0", "10.1.0.1/24")
	rt   = netobj.Route("10.2.0.0/16", netobj.FieldGateway, "10.1.0.254")
)

func TestInvalidIsAddedInDependencyOrder(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	// Given in reverse: the commit orders interface, address, route.
	rs, err := netobj.Commit(ctx, d, want(rt, addr, veth, br0), netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, transitions(rs), []string{
		"10.2.0.0/16:add", "br0,10.1.0.1/24:add", "v0:add", "br0:add",
	})
	assert.DeepEqual(t, methods(d.Calls()), []string{
		"add interface name=br0",
		"add interface name=v0",
		"add address interface=br0,cidr=10.1.0.1/24",
		"add route dst=10.2.0.0/16,table=254,metric=0",
	})
	assert.Equal(t, rs[3].Object.Fields["state"], "up")
}

func TestCleanObjectCommitsWithZeroCalls(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	_, err := netobj.Commit(ctx, d, want(br0, addr), netobj.CommitOptions{})
	assert.NilError(t, err)
	d.ResetCalls()
	rs, err := netobj.Commit(ctx, d, want(br0, addr), netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, transitions(rs), []string{"br0:clean", "br0,10.1.0.1/24:clean"})
	assert.Check(t, is.Len(d.Calls(), 0))
}

func TestSystemSetsOnlyChangedFields(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	_, err := netobj.Commit(ctx, d, want(br0, veth), netobj.CommitOptions{})
	assert.NilError(t, err)
	d.ResetCalls()
	v := veth.Clone()
	v.Set(netobj.FieldMTU, "1300")
	v.Set(netobj.FieldState, "up")
	rs, err := netobj.Commit(ctx, d, want(br0, v), netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, transitions(rs), []string{"br0:clean", "v0:set"})
	assert.DeepEqual(t, methods(d.Calls()), []string{"set interface name=v0 [mtu state]"})
	got, _ := d.List(ctx, netobj.KindInterface)
	assert.Equal(t, got[1]["mtu"], "1300")
	assert.Equal(t, got[1]["state"], "up")
}

func TestRemoveDeletesByKeyFields(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	_, err := netobj.Commit(ctx, d, want(br0, addr, rt), netobj.CommitOptions{})
	assert.NilError(t, err)
	d.ResetCalls()
	rs, err := netobj.Commit(ctx, d, []netobj.Change{
		{ID: "br0", Applied: ptr(br0)},
		{ID: "a", Applied: ptr(addr)},
		{ID: "r", Applied: ptr(rt)},
		{ID: "gone", Applied: ptr(netobj.Address("br0", "10.9.9.9/32"))},
	}, netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, transitions(rs), []string{"br0:remove", "a:remove", "r:remove", "gone:absent"})
	// Removals run routes, then addresses, then interfaces.
	assert.DeepEqual(t, methods(d.Calls()), []string{
		"del route dst=10.2.0.0/16,table=254,metric=0",
		"del address interface=br0,cidr=10.1.0.1/24",
		"del interface name=br0",
	})
}

func TestRouteKeyChangeReplaces(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	_, err := netobj.Commit(ctx, d, want(br0, addr, rt), netobj.CommitOptions{})
	assert.NilError(t, err)
	d.ResetCalls()
	moved := rt.Clone()
	moved.Set(netobj.FieldDst, "10.3.0.0/16")
	rs, err := netobj.Commit(ctx, d, []netobj.Change{{ID: "r", Desired: &moved, Applied: ptr(rt)}}, netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, transitions(rs), []string{"r:replace"})
	assert.DeepEqual(t, methods(d.Calls()), []string{
		"add route dst=10.3.0.0/16,table=254,metric=0",
		"del route dst=10.2.0.0/16,table=254,metric=0",
	})
}

func TestKeyChangeOfAddressIsAnError(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	_, err := netobj.Commit(ctx, d, want(br0, addr), netobj.CommitOptions{})
	assert.NilError(t, err)
	d.ResetCalls()
	other := netobj.Address("br0", "10.1.0.2/24")
	rs, err := netobj.Commit(ctx, d, []netobj.Change{{ID: "a", Desired: &other, Applied: ptr(addr)}}, netobj.CommitOptions{})
	assert.Assert(t, errors.Is(err, netobj.ErrKeyChanged), "%v", err)
	assert.Equal(t, rs[0].Transition, netobj.TransitionFailed)
	assert.Check(t, is.Len(d.Calls(), 0))
}

func TestCreateOnlyFieldChangeIsAnError(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	_, err := netobj.Commit(ctx, d, want(br0), netobj.CommitOptions{})
	assert.NilError(t, err)
	asVeth := netobj.Interface("br0", netobj.TypeVeth, netobj.FieldPeer, "x")
	_, err = netobj.Commit(ctx, d, want(asVeth), netobj.CommitOptions{})
	assert.Assert(t, errors.Is(err, netobj.ErrCreateOnly), "%v", err)
}

func TestInvalidObjectFailsBeforeAnyCall(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	bad := netobj.Address("br0", "10.1.0.1/99")
	rs, err := netobj.Commit(ctx, d, want(br0, bad), netobj.CommitOptions{})
	assert.Assert(t, errors.Is(err, netobj.ErrInvalidObject), "%v", err)
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce))
	assert.Equal(t, ce.ID, "br0,10.1.0.1/99")
	assert.DeepEqual(t, transitions(rs), []string{"br0:skipped", "br0,10.1.0.1/99:failed"})
	assert.Check(t, is.Len(d.Calls(), 0))
}

// flaky is a driver whose first add of each object goes through without
// showing (the read-back misses it), as a system that applies late would.
type flaky struct {
	*netobj.MemoryDriver
	hidden map[string]netobj.Fields
	kind   netobj.Kind
}

func (f *flaky) Add(ctx context.Context, k netobj.Kind, o netobj.Fields) error {
	key := fmt.Sprint(k, o)
	if _, ok := f.hidden[key]; !ok && k == f.kind {
		f.hidden[key] = o
		return nil // "applied", but not visible yet
	}
	if _, ok := f.hidden[key]; ok && k == f.kind {
		// Now it shows, and the retried add finds it exists.
		err := f.MemoryDriver.Add(ctx, k, o)
		if err != nil {
			return err
		}
		return f.MemoryDriver.Add(ctx, k, o)
	}
	return f.MemoryDriver.Add(ctx, k, o)
}

func TestAddFindsExistsToleratedOnlyAfterFirstCall(t *testing.T) {
	ctx := context.Background()
	m := netobj.NewMemoryDriver()
	d := &flaky{MemoryDriver: m, hidden: map[string]netobj.Fields{}, kind: netobj.KindAddress}
	rs, err := netobj.Commit(ctx, d, want(br0, addr), netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, transitions(rs), []string{"br0:add", "br0,10.1.0.1/24:add"})
	// Round 2 re-added it and got ErrExists, which was tolerated.
	assert.DeepEqual(t, methods(m.Calls()), []string{
		"add interface name=br0",
		"add address interface=br0,cidr=10.1.0.1/24",
		"add address interface=br0,cidr=10.1.0.1/24",
	})

	// On the first call, ErrExists is an error.
	m2 := netobj.NewMemoryDriver()
	m2.Put(br0)
	m2.FailOn(func(c netobj.Call) error {
		if c.Method == "add" {
			return fmt.Errorf("injected: %w", netobj.ErrExists)
		}
		return nil
	})
	_, err = netobj.Commit(ctx, m2, want(br0, addr), netobj.CommitOptions{})
	assert.Assert(t, errors.Is(err, netobj.ErrExists), "%v", err)
}

// sticky is a driver whose deletes of addresses report success but leave
// the address on the first call, as a late system would.
type sticky struct {
	*netobj.MemoryDriver
	n int
}

func (s *sticky) Delete(ctx context.Context, k netobj.Kind, key netobj.Fields) error {
	s.n++
	if s.n == 1 {
		return nil
	}
	if err := s.MemoryDriver.Delete(ctx, k, key); err != nil {
		return err
	}
	return s.MemoryDriver.Delete(ctx, k, key) // finds it gone
}

func TestDeleteFindsGoneToleratedOnlyAfterFirstCall(t *testing.T) {
	ctx := context.Background()
	m := netobj.NewMemoryDriver()
	m.Put(br0)
	a, _ := addr.Normalize()
	m.Put(a)
	d := &sticky{MemoryDriver: m}
	rs, err := netobj.Commit(ctx, d, []netobj.Change{{ID: "a", Applied: ptr(addr)}}, netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, transitions(rs), []string{"a:remove"})
	got, _ := m.List(ctx, netobj.KindAddress)
	assert.Check(t, is.Len(got, 0))

	// On the first call, ErrNotExist is an error.
	m2 := netobj.NewMemoryDriver()
	m2.Put(br0)
	m2.Put(a)
	m2.FailOn(func(c netobj.Call) error { return fmt.Errorf("injected: %w", netobj.ErrNotExist) })
	_, err = netobj.Commit(ctx, m2, []netobj.Change{{ID: "a", Applied: ptr(addr)}}, netobj.CommitOptions{})
	assert.Assert(t, errors.Is(err, netobj.ErrNotExist), "%v", err)
}

// blind is a driver whose adds never show in List.
type blind struct{ *netobj.MemoryDriver }

func (blind) Add(context.Context, netobj.Kind, netobj.Fields) error { return nil }

func TestReadBackIsBounded(t *testing.T) {
	ctx := context.Background()
	m := netobj.NewMemoryDriver()
	rs, err := netobj.Commit(ctx, blind{m}, want(br0), netobj.CommitOptions{Rounds: 4})
	assert.Assert(t, errors.Is(err, netobj.ErrNotApplied), "%v", err)
	assert.ErrorContains(t, err, "after 4 rounds")
	assert.Equal(t, rs[0].Transition, netobj.TransitionFailed)
}

func TestFailureRollsBackToSnapshot(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	// Before: br0 up with mtu 1500 and one address; a route to drop.
	old := br0.Clone()
	old.Set(netobj.FieldMTU, "1500")
	oldAddr := netobj.Address("br0", "10.1.0.9/24")
	_, err := netobj.Commit(ctx, d, want(old, oldAddr, rt), netobj.CommitOptions{})
	assert.NilError(t, err)
	before := dump(t, d)
	d.ResetCalls()

	// The commit: change br0's mtu, add a veth and an address, drop the
	// old address and the route, add a new route whose add fails.
	newBr := old.Clone()
	newBr.Set(netobj.FieldMTU, "9000")
	bad := netobj.Route("10.7.0.0/16", netobj.FieldIface, "v0")
	d.FailOn(func(c netobj.Call) error {
		if c.Method == "add" && c.Key == "dst=10.7.0.0/16,table=254,metric=0" {
			return errors.New("injected: network unreachable")
		}
		return nil
	})
	changes := append(want(newBr, veth, addr, bad),
		netobj.Change{ID: "old-addr", Applied: ptr(oldAddr)},
		netobj.Change{ID: "old-route", Applied: ptr(rt)})
	rs, err := netobj.Commit(ctx, d, changes, netobj.CommitOptions{})
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, ce.ID, "10.7.0.0/16")
	assert.NilError(t, ce.Rollback)
	assert.ErrorContains(t, err, "network unreachable")
	assert.DeepEqual(t, transitions(rs), []string{
		"br0:rolled back", "v0:rolled back", "br0,10.1.0.1/24:rolled back",
		"10.7.0.0/16:failed", "old-addr:rolled back", "old-route:rolled back",
	})
	assert.DeepEqual(t, methods(d.Calls()), []string{
		"del route dst=10.2.0.0/16,table=254,metric=0",
		"del address interface=br0,cidr=10.1.0.9/24",
		"set interface name=br0 [mtu]",
		"add interface name=v0",
		"add address interface=br0,cidr=10.1.0.1/24",
		"add route dst=10.7.0.0/16,table=254,metric=0",
		// The rollback, in reverse. Not the failed add itself: it did
		// nothing (its error does not wrap ErrPartial), and undoing it
		// would delete whatever else has its key.
		"del address interface=br0,cidr=10.1.0.1/24",
		"del interface name=v0",
		"set interface name=br0 [mtu]",
		"add address interface=br0,cidr=10.1.0.9/24",
		"add route dst=10.2.0.0/16,table=254,metric=0",
	})
	assert.DeepEqual(t, dump(t, d), before)
}

// A failed call whose error wraps ErrPartial did part of its work: the
// rollback undoes it too.
func TestPartlyDoneCallIsUndone(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	before := dump(t, d)
	d.FailOn(func(c netobj.Call) error {
		if c.Method == "add" && c.Kind == netobj.KindInterface {
			return fmt.Errorf("%w: injected: added, then not set up", netobj.ErrPartial)
		}
		return nil
	})
	_, err := netobj.Commit(ctx, d, want(br0), netobj.CommitOptions{})
	assert.ErrorIs(t, err, netobj.ErrPartial)
	assert.DeepEqual(t, methods(d.Calls()), []string{"add interface name=br0", "del interface name=br0"})
	assert.DeepEqual(t, dump(t, d), before)
}

func TestUnsupportedKindIsReported(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver(netobj.TypeDummy)
	rs, err := netobj.Commit(ctx, d, want(br0, netobj.Interface("d0", netobj.TypeDummy)), netobj.CommitOptions{})
	assert.Assert(t, errors.Is(err, netobj.ErrUnsupported), "%v", err)
	assert.ErrorContains(t, err, "kernel does not support link type dummy")
	assert.DeepEqual(t, transitions(rs), []string{"br0:rolled back", "d0:failed"})
	assert.DeepEqual(t, dump(t, d), map[netobj.Kind][]netobj.Fields{})
}

func dump(t *testing.T, d netobj.Driver) map[netobj.Kind][]netobj.Fields {
	t.Helper()
	out := map[netobj.Kind][]netobj.Fields{}
	for _, k := range netobj.Kinds {
		l, err := d.List(context.Background(), k)
		assert.NilError(t, err)
		if len(l) > 0 {
			out[k] = l
		}
	}
	return out
}

func TestTwoObjectsForOneSystemObjectAreRefused(t *testing.T) {
	d := netobj.NewMemoryDriver()
	_, err := netobj.Commit(context.Background(), d, []netobj.Change{
		{ID: "a", Desired: ptr(addr)}, {ID: "b", Desired: ptr(netobj.Address("br0", "10.1.0.1/24"))},
	}, netobj.CommitOptions{})
	assert.Assert(t, errors.Is(err, netobj.ErrInvalidObject), "%v", err)
	assert.ErrorContains(t, err, `the same system object as "a"`)
	assert.Check(t, is.Len(d.Calls(), 0))
}
