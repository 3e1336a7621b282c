//go:build linux

package netlinkdriver_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/vishvananda/netlink"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

func ptr(o netobj.Object) *netobj.Object { return &o }

func want(objs ...netobj.Object) []netobj.Change {
	var cs []netobj.Change
	for _, o := range objs {
		cs = append(cs, netobj.Change{ID: o.DefaultID(), Desired: ptr(o)})
	}
	return cs
}

var (
	br0  = netobj.Interface("br0", netobj.TypeBridge, netobj.FieldState, "up")
	veth = netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldMaster, "br0", netobj.FieldMTU, "1400", netobj.FieldState, "up")
	mv   = netobj.Interface("mv0", netobj.TypeMacvlan, netobj.FieldLink, "v0p", netobj.FieldState, "up")
	addr = netobj.Address("br0", "10.1.0.1/24")
	mva  = netobj.Address("mv0", "10.4.0.1/24")
	rt   = netobj.Route("10.2.0.0/16", netobj.FieldGateway, "10.1.0.254")
)

func TestApplyInNamespace(t *testing.T) {
	ctx := context.Background()
	d := newDriver(t)
	h := d.Handle()

	rs, err := netobj.Commit(ctx, d, want(rt, mva, addr, mv, veth, br0), netobj.CommitOptions{})
	assert.NilError(t, err)
	for _, r := range rs {
		assert.Equal(t, r.Transition, netobj.TransitionAdd, r.ID)
	}
	v0, err := h.LinkByName("v0")
	assert.NilError(t, err)
	b, err := h.LinkByName("br0")
	assert.NilError(t, err)
	assert.Equal(t, v0.Attrs().MTU, 1400)
	assert.Equal(t, v0.Attrs().MasterIndex, b.Attrs().Index)
	assert.Assert(t, b.Attrs().Flags&net.FlagUp != 0)
	m, err := h.LinkByName("mv0")
	assert.NilError(t, err)
	assert.Equal(t, m.Type(), "macvlan")
	addrs, err := h.AddrList(b, netlink.FAMILY_V4)
	assert.NilError(t, err)
	assert.Assert(t, is.Len(addrs, 1))
	assert.Equal(t, addrs[0].IPNet.String(), "10.1.0.1/24")
	routes, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: mustCIDR("10.2.0.0/16")}, netlink.RT_FILTER_DST)
	assert.NilError(t, err)
	assert.Assert(t, is.Len(routes, 1))
	assert.Equal(t, routes[0].Gw.String(), "10.1.0.254")

	// A second commit of the same objects is clean.
	rs, err = netobj.Commit(ctx, d, want(rt, mva, addr, mv, veth, br0), netobj.CommitOptions{})
	assert.NilError(t, err)
	for _, r := range rs {
		assert.Equal(t, r.Transition, netobj.TransitionClean, r.ID)
	}

	// Set changed fields: mtu, master removed, state down.
	v := veth.Clone()
	v.Set(netobj.FieldMTU, "1300")
	delete(v.Fields, netobj.FieldMaster)
	v.Set(netobj.FieldState, "down")
	rs, err = netobj.Commit(ctx, d, []netobj.Change{{ID: "v0", Desired: &v, Applied: ptr(veth)}}, netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.Equal(t, rs[0].Transition, netobj.TransitionSet)
	v0, err = h.LinkByName("v0")
	assert.NilError(t, err)
	assert.Equal(t, v0.Attrs().MTU, 1300)
	assert.Equal(t, v0.Attrs().MasterIndex, 0)
	assert.Assert(t, v0.Attrs().Flags&net.FlagUp == 0)

	// Replace the route (key change), then remove everything.
	moved := rt.Clone()
	moved.Set(netobj.FieldDst, "10.3.0.0/16")
	rs, err = netobj.Commit(ctx, d, []netobj.Change{{ID: "r", Desired: &moved, Applied: ptr(rt)}}, netobj.CommitOptions{})
	assert.NilError(t, err)
	assert.Equal(t, rs[0].Transition, netobj.TransitionReplace)
	routes, err = h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: mustCIDR("10.2.0.0/16")}, netlink.RT_FILTER_DST)
	assert.NilError(t, err)
	assert.Assert(t, is.Len(routes, 0))

	rs, err = netobj.Commit(ctx, d, []netobj.Change{
		{ID: "r", Applied: &moved}, {ID: "a", Applied: ptr(addr)}, {ID: "mva", Applied: ptr(mva)},
		{ID: "mv", Applied: ptr(mv)}, {ID: "v", Applied: ptr(veth)}, {ID: "b", Applied: ptr(br0)},
	}, netobj.CommitOptions{})
	assert.NilError(t, err)
	for _, r := range rs {
		assert.Equal(t, r.Transition, netobj.TransitionRemove, r.ID)
	}
	links, err := h.LinkList()
	assert.NilError(t, err)
	assert.Assert(t, is.Len(links, 1), "only lo is left") // lo
}

func TestRollbackInNamespace(t *testing.T) {
	ctx := context.Background()
	d := newDriver(t)
	h := d.Handle()
	_, err := netobj.Commit(ctx, d, want(br0, addr), netobj.CommitOptions{})
	assert.NilError(t, err)

	// mtu change, a veth, an address on it and a route through a gateway
	// no interface reaches: the kernel refuses the route (ENETUNREACH).
	b := br0.Clone()
	b.Set(netobj.FieldMTU, "1280")
	bad := netobj.Route("10.9.0.0/16", netobj.FieldGateway, "192.0.2.1")
	rs, err := netobj.Commit(ctx, d, append(want(b, veth, netobj.Address("v0", "10.6.0.1/24"), bad),
		netobj.Change{ID: "old", Applied: ptr(addr)}), netobj.CommitOptions{})
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, ce.ID, "10.9.0.0/16")
	assert.NilError(t, ce.Rollback)
	assert.Equal(t, rs[3].Transition, netobj.TransitionFailed)
	assert.Equal(t, rs[0].Transition, netobj.TransitionRolledBack)

	// Back to the snapshot: br0 with its mtu and address, no v0.
	bl, err := h.LinkByName("br0")
	assert.NilError(t, err)
	assert.Equal(t, bl.Attrs().MTU, 1500)
	_, err = h.LinkByName("v0")
	assert.Assert(t, err != nil, "v0 was rolled back")
	addrs, err := h.AddrList(bl, netlink.FAMILY_V4)
	assert.NilError(t, err)
	assert.Assert(t, is.Len(addrs, 1))
	assert.Equal(t, addrs[0].IPNet.String(), "10.1.0.1/24")
}

func TestUnsupportedLinkTypesAreReported(t *testing.T) {
	ctx := context.Background()
	d := newDriver(t)
	for _, o := range []netobj.Object{
		netobj.Interface("d0", netobj.TypeDummy),
		netobj.Interface("vl5", netobj.TypeVlan, netobj.FieldLink, "br0", netobj.FieldVlanID, "5"),
	} {
		typ := o.Fields[netobj.FieldType]
		rs, err := netobj.Commit(ctx, d, want(br0, o), netobj.CommitOptions{})
		if err == nil {
			t.Logf("this kernel supports %s links: nothing to report", typ)
			continue
		}
		assert.Assert(t, errors.Is(err, netobj.ErrUnsupported), "%v", err)
		assert.ErrorContains(t, err, "kernel does not support link type "+typ)
		assert.Equal(t, rs[1].Transition, netobj.TransitionFailed)
		assert.ErrorContains(t, rs[1].Err, "kernel does not support link type "+typ)
		// br0 was rolled back.
		_, lerr := d.Handle().LinkByName("br0")
		assert.Assert(t, lerr != nil)
	}
}

func TestErrnoMapping(t *testing.T) {
	ctx := context.Background()
	d := newDriver(t)
	n, _ := br0.Normalize()
	assert.NilError(t, d.Add(ctx, netobj.KindInterface, n.Fields))
	err := d.Add(ctx, netobj.KindInterface, n.Fields)
	assert.Assert(t, errors.Is(err, netobj.ErrExists), "%v", err)
	a, _ := addr.Normalize()
	assert.NilError(t, d.Add(ctx, netobj.KindAddress, a.Fields))
	assert.Assert(t, errors.Is(d.Add(ctx, netobj.KindAddress, a.Fields), netobj.ErrExists))
	assert.NilError(t, d.Delete(ctx, netobj.KindAddress, a.Key()))
	err = d.Delete(ctx, netobj.KindAddress, a.Key())
	assert.Assert(t, errors.Is(err, netobj.ErrNotExist), "%v", err)
	r, _ := netobj.Route("10.8.0.0/16", netobj.FieldIface, "br0").Normalize()
	err = d.Delete(ctx, netobj.KindRoute, r.Key())
	assert.Assert(t, errors.Is(err, netobj.ErrNotExist), "%v", err)
	assert.NilError(t, d.Delete(ctx, netobj.KindInterface, n.Key()))
	err = d.Delete(ctx, netobj.KindInterface, n.Key())
	assert.Assert(t, errors.Is(err, netobj.ErrNotExist), "%v", err)
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}
