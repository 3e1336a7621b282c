package netobj_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

func TestNormalize(t *testing.T) {
	ok := []struct {
		in   netobj.Object
		want netobj.Fields
		id   string
	}{
		{netobj.Route("default", netobj.FieldIface, "eth0"),
			netobj.Fields{"dst": "0.0.0.0/0", "interface": "eth0", "table": "254", "metric": "0"}, "0.0.0.0/0"},
		{netobj.Route("10.2.3.4/16", netobj.FieldGateway, "10.0.0.1", netobj.FieldMetric, "010"),
			netobj.Fields{"dst": "10.2.0.0/16", "gateway": "10.0.0.1", "table": "254", "metric": "10"}, "10.2.0.0/16,254,10"},
		{netobj.Route("10.2.0.0/16", netobj.FieldGateway, "10.0.0.1", netobj.FieldTable, "100"),
			netobj.Fields{"dst": "10.2.0.0/16", "gateway": "10.0.0.1", "table": "100", "metric": "0"}, "10.2.0.0/16,100"},
		{netobj.Address("eth0", "10.0.0.1/24"), netobj.Fields{"interface": "eth0", "cidr": "10.0.0.1/24"}, "eth0,10.0.0.1/24"},
		{netobj.Interface("vl5", netobj.TypeVlan, netobj.FieldLink, "eth0", netobj.FieldVlanID, "5", netobj.FieldMTU, "01500"),
			netobj.Fields{"name": "vl5", "type": "vlan", "link": "eth0", "vlan_id": "5", "mtu": "1500"}, "vl5"},
		// IPv6 routes get the kernel's default metric, 1024, as it stores
		// them: a read-back then finds what was asked for.
		{netobj.Route("2001:db8::/32", netobj.FieldIface, "eth0"),
			netobj.Fields{"dst": "2001:db8::/32", "interface": "eth0", "table": "254", "metric": "1024"}, "2001:db8::/32"},
		{netobj.Route("2001:db8::/32", netobj.FieldIface, "eth0", netobj.FieldMetric, "0"),
			netobj.Fields{"dst": "2001:db8::/32", "interface": "eth0", "table": "254", "metric": "1024"}, "2001:db8::/32"},
		{netobj.Route("2001:db8::/32", netobj.FieldIface, "eth0", netobj.FieldMetric, "7"),
			netobj.Fields{"dst": "2001:db8::/32", "interface": "eth0", "table": "254", "metric": "7"}, "2001:db8::/32,254,7"},
		{netobj.Interface("abcdefghijklmno", netobj.TypeBridge), netobj.Fields{"name": "abcdefghijklmno", "type": "bridge"}, "abcdefghijklmno"},
	}
	for _, c := range ok {
		n, err := c.in.Normalize()
		assert.NilError(t, err)
		assert.DeepEqual(t, n.Fields, c.want)
		assert.Equal(t, c.in.DefaultID(), c.id)
	}
	bad := []struct {
		in   netobj.Object
		want string
	}{
		{netobj.Object{Kind: "tunnel"}, `unknown kind "tunnel"`},
		{netobj.Interface("x", netobj.TypeBridge, "colour", "red"), `unknown field "colour"`},
		{netobj.Interface("", netobj.TypeBridge), `key field "name" is missing`},
		{netobj.Interface("x", "wifi"), `unknown interface type "wifi"`},
		{netobj.Interface("x", netobj.TypeVeth), "a veth needs a peer name"},
		{netobj.Interface("x", netobj.TypeMacvlan), "a macvlan needs a link"},
		{netobj.Interface("x", netobj.TypeVlan, netobj.FieldLink, "eth0"), "a vlan needs a vlan_id"},
		{netobj.Interface("x", netobj.TypeBridge, netobj.FieldMTU, "big"), `field "mtu": "big" is not a number`},
		{netobj.Interface("x", netobj.TypeBridge, netobj.FieldState, "sideways"), "neither up nor down"},
		{netobj.Address("eth0", "10.0.0.1"), "field cidr"},
		{netobj.Route("10.0.0.0/8"), "a route needs a gateway or an interface"},
		{netobj.Route("10.0.0.0/8", netobj.FieldGateway, "nowhere"), "field gateway"},
		// What the kernel refuses, refused before any call.
		{netobj.Interface("abcdefghijklmnop", netobj.TypeBridge), `field name: "abcdefghijklmnop" is longer than 15 bytes`},
		{netobj.Interface("a/b", netobj.TypeBridge), `field name: "a/b" holds a "/" or a space`},
		{netobj.Interface("a b", netobj.TypeBridge), `field name: "a b" holds a "/" or a space`},
		{netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "abcdefghijklmnop"), "field peer: "},
		{netobj.Interface("v0", netobj.TypeBridge, netobj.FieldMaster, "abcdefghijklmnop"), "field master: "},
		{netobj.Interface("m0", netobj.TypeMacvlan, netobj.FieldLink, "abcdefghijklmnop"), "field link: "},
		{netobj.Address("abcdefghijklmnop", "10.0.0.1/24"), "field interface: "},
		{netobj.Route("10.0.0.0/8", netobj.FieldIface, "abcdefghijklmnop"), "field interface: "},
		{netobj.Interface("vl", netobj.TypeVlan, netobj.FieldLink, "eth0", netobj.FieldVlanID, "4095"), "field vlan_id: 4095 is not in 1-4094"},
		{netobj.Interface("vl", netobj.TypeVlan, netobj.FieldLink, "eth0", netobj.FieldVlanID, "0"), "field vlan_id: 0 is not in 1-4094"},
		{netobj.Route("10.0.0.0/8", netobj.FieldIface, "eth0", netobj.FieldTable, "0"), "field table: 0 is not a routing table"},
	}
	for _, c := range bad {
		_, err := c.in.Normalize()
		assert.Assert(t, errors.Is(err, netobj.ErrInvalidObject), "%v: %v", c.in, err)
		assert.ErrorContains(t, err, c.want)
	}
}

// Two IPv6 addresses with the same IP are one address to the kernel,
// whatever their prefix lengths: a commit naming both is refused before
// any call, as two objects naming one.
func TestTwoV6AddressesWithOneIPAreRefused(t *testing.T) {
	d := netobj.NewMemoryDriver()
	changes := []netobj.Change{
		{ID: "a", Desired: ptr(netobj.Address("eth0", "2001:db8::1/64"))},
		{ID: "b", Desired: ptr(netobj.Address("eth0", "2001:db8::1/48"))},
	}
	_, err := netobj.Commit(context.Background(), d, changes, netobj.CommitOptions{})
	assert.ErrorIs(t, err, netobj.ErrInvalidObject)
	assert.ErrorContains(t, err, `field cidr: address "b" has the IP of "a"`)
	assert.Equal(t, len(d.Calls()), 0)
	// IPv4 tells them apart by prefix length too.
	changes[0].Desired, changes[1].Desired = ptr(netobj.Address("eth0", "10.0.0.1/24")), ptr(netobj.Address("eth0", "10.0.0.1/16"))
	changes = append(changes, netobj.Change{ID: "eth0", Desired: ptr(netobj.Interface("eth0", netobj.TypeBridge))})
	_, err = netobj.Commit(context.Background(), d, changes, netobj.CommitOptions{})
	assert.NilError(t, err)
}

func TestDictLikeFields(t *testing.T) {
	o := netobj.Interface("br0", netobj.TypeBridge)
	v, ok := o.Get(netobj.FieldName)
	assert.Assert(t, ok && v == "br0")
	_, ok = o.Get(netobj.FieldMTU)
	assert.Assert(t, !ok)
	o.Set(netobj.FieldMTU, "9000")
	assert.DeepEqual(t, o.Fields.Names(), []string{"mtu", "name", "type"})
	c := o.Clone()
	c.Set(netobj.FieldMTU, "1500")
	assert.Equal(t, o.Fields["mtu"], "9000")
	assert.DeepEqual(t, o.Key(), netobj.Fields{"name": "br0"})
	assert.DeepEqual(t, netobj.KeyFields(netobj.KindRoute), []string{"dst", "table", "metric"})
	assert.Assert(t, netobj.Replaceable(netobj.KindRoute) && !netobj.Replaceable(netobj.KindAddress) && !netobj.Replaceable(netobj.KindInterface))
}

func TestPathsEscapeAndRoundTrip(t *testing.T) {
	b := memory.New()
	defer b.Close()
	c := config.New(b, config.Options{})
	defer c.Close()
	ctx := context.Background()
	p := netobj.Paths{Root: "/net"}
	assert.Equal(t, p.Desired("rack 1/host", netobj.KindAddress, "eth0,10.0.0.1/24"), "/net/rack 1%2Fhost/desired/address/eth0,10.0.0.1%2F24")
	assert.Equal(t, p.Observed("h", netobj.KindRoute, "10.0.0.0/8"), "/net/h/observed/route/10.0.0.0%2F8")
	assert.Equal(t, p.Alive("h"), "/net/h/alive")
	err := c.Txn(ctx, func(tx *config.Txn) error {
		id, err := p.PutDesired(tx, "rack 1/host", "", netobj.Address("eth0", "10.0.0.1/24"))
		assert.Equal(t, id, "eth0,10.0.0.1/24")
		if err != nil {
			return err
		}
		_, err = p.PutDesired(tx, "rack 1/host", "", netobj.Address("eth0", "bad"))
		assert.Assert(t, errors.Is(err, netobj.ErrInvalidObject))
		return nil
	})
	assert.NilError(t, err)
	err = c.Txn(ctx, func(tx *config.Txn) error {
		m, err := p.ListDesired(tx.Txn, "rack 1/host")
		assert.DeepEqual(t, m, map[netobj.Ref]netobj.Object{
			{Kind: netobj.KindAddress, ID: "eth0,10.0.0.1/24"}: {Kind: netobj.KindAddress, Fields: netobj.Fields{"interface": "eth0", "cidr": "10.0.0.1/24"}},
		})
		targets, err2 := p.Targets(tx.Txn)
		assert.DeepEqual(t, targets, []string{"rack 1/host"})
		return errors.Join(err, err2)
	})
	assert.NilError(t, err)
}

func TestRollbackFailureIsReported(t *testing.T) {
	ctx := context.Background()
	d := netobj.NewMemoryDriver()
	d.FailOn(func(c netobj.Call) error {
		switch {
		case c.Method == "add" && c.Kind == netobj.KindAddress:
			return errors.New("injected: address refused")
		case c.Method == "del" && c.Kind == netobj.KindInterface:
			return errors.New("injected: device busy")
		}
		return nil
	})
	_, err := netobj.Commit(ctx, d, want(br0, addr), netobj.CommitOptions{})
	var ce *netobj.CommitError
	assert.Assert(t, errors.As(err, &ce), "%v", err)
	assert.ErrorContains(t, ce.Err, "address refused")
	assert.ErrorContains(t, ce.Rollback, `undo add of interface "name=br0": injected: device busy`)
	assert.ErrorContains(t, err, fmt.Sprintf("(rollback: %v)", ce.Rollback))
}
