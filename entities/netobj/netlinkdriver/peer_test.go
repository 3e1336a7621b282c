//go:build linux

package netlinkdriver_test

import (
	"context"
	"testing"

	"github.com/vishvananda/netlink"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// The driver reports a veth's peer (IFLA_LINK, in the same namespace), so
// that a desired peer that differs from the system's is refused as a
// change of a create-only field instead of passing as "clean".
func TestVethPeerChangeIsDetected(t *testing.T) {
	ctx := context.Background()
	d := newDriver(t)
	_, err := netobj.Commit(ctx, d, want(br0, veth), netobj.CommitOptions{})
	assert.NilError(t, err)

	got, err := d.List(ctx, netobj.KindInterface)
	assert.NilError(t, err)
	peers := map[string]string{}
	for _, f := range got {
		peers[f[netobj.FieldName]] = f[netobj.FieldPeer]
	}
	assert.Equal(t, peers["v0"], "v0p")
	assert.Equal(t, peers["v0p"], "v0")
	assert.Equal(t, peers["br0"], "")

	// The same name, another peer: v0 was re-created behind our back with
	// peer v9, and the desired v0p no longer matches.
	h := d.Handle()
	l, err := h.LinkByName("v0")
	assert.NilError(t, err)
	assert.NilError(t, h.LinkDel(l))
	assert.NilError(t, h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "v0"}, PeerName: "v9"}))
	_, err = netobj.Commit(ctx, d, want(br0, veth), netobj.CommitOptions{})
	assert.ErrorIs(t, err, netobj.ErrCreateOnly)
	assert.ErrorContains(t, err, `field peer is "v9" on the system, "v0p" desired`)
}
