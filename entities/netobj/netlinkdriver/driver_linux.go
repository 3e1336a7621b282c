//go:build linux

package netlinkdriver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// Driver is a netobj.Driver over one network namespace. It is safe for
// concurrent use (calls are serialised).
type Driver struct {
	mu sync.Mutex
	h  *netlink.Handle
	// links caches interface indexes by name, refreshed by List and on
	// a miss; a stale entry is dropped and looked up again on ENODEV.
	links map[string]int
}

var _ netobj.Driver = (*Driver)(nil)

// New returns a Driver on the network namespace ns (which the caller keeps
// and may close once New returns).
func New(ns netns.NsHandle) (*Driver, error) {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlinkdriver: netlink handle in namespace %v: %w", ns, err)
	}
	return &Driver{h: h, links: map[string]int{}}, nil
}

// NewFromHandle returns a Driver over h, which it closes on Close.
func NewFromHandle(h *netlink.Handle) *Driver { return &Driver{h: h, links: map[string]int{}} }

// Handle returns the netlink handle of the Driver, for callers that need
// operations it does not offer.
func (d *Driver) Handle() *netlink.Handle { return d.h }

// Close closes the netlink handle.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.h.Close()
	return nil
}

// retryDump runs a dump again when the kernel reports it interrupted by
// a concurrent change.
func retryDump[T any](f func() ([]T, error)) ([]T, error) {
	var err error
	for range 5 {
		var out []T
		if out, err = f(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

// mapErr wraps err with what was done and the netobj sentinel matching
// its errno.
func mapErr(op string, k netobj.Kind, key string, err error) error {
	var lnf netlink.LinkNotFoundError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%s %s %q: %w (%w)", op, k, key, netobj.ErrExists, err)
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ESRCH), errors.Is(err, syscall.ENOENT),
		errors.Is(err, syscall.EADDRNOTAVAIL), errors.As(err, &lnf):
		return fmt.Errorf("%s %s %q: %w (%w)", op, k, key, netobj.ErrNotExist, err)
	}
	return fmt.Errorf("%s %s %q: %w", op, k, key, err)
}

func key(k netobj.Kind, f netobj.Fields) string {
	return netobj.Object{Kind: k, Fields: f}.KeyString()
}

// List implements netobj.Driver.
func (d *Driver) List(ctx context.Context, k netobj.Kind) ([]netobj.Fields, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	links, err := retryDump(d.h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	names := make(map[int]string, len(links))
	clear(d.links)
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
		d.links[l.Attrs().Name] = l.Attrs().Index
	}
	var out []netobj.Fields
	switch k {
	case netobj.KindInterface:
		for _, l := range links {
			out = append(out, linkFields(l, names))
		}
	case netobj.KindAddress:
		addrs, err := retryDump(func() ([]netlink.Addr, error) { return d.h.AddrList(nil, netlink.FAMILY_ALL) })
		if err != nil {
			return nil, fmt.Errorf("list addresses: %w", err)
		}
		for _, a := range addrs {
			p, ok := prefix(a.IPNet)
			if !ok {
				continue
			}
			out = append(out, netobj.Fields{netobj.FieldIface: names[a.LinkIndex], netobj.FieldCIDR: p.String()})
		}
	case netobj.KindRoute:
		routes, err := retryDump(func() ([]netlink.Route, error) {
			return d.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{}, netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return nil, fmt.Errorf("list routes: %w", err)
		}
		for _, r := range routes {
			if r.Table == syscall.RT_TABLE_LOCAL {
				continue
			}
			out = append(out, routeFields(r, names))
		}
	default:
		return nil, fmt.Errorf("list %s: %w", k, netobj.ErrUnsupported)
	}
	return out, nil
}

func prefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func linkFields(l netlink.Link, names map[int]string) netobj.Fields {
	a := l.Attrs()
	f := netobj.Fields{
		netobj.FieldName:  a.Name,
		netobj.FieldType:  l.Type(),
		netobj.FieldMTU:   strconv.Itoa(a.MTU),
		netobj.FieldState: "down",
	}
	if a.Flags&net.FlagUp != 0 {
		f[netobj.FieldState] = "up"
	}
	if a.MasterIndex != 0 {
		f[netobj.FieldMaster] = names[a.MasterIndex]
	}
	switch v := l.(type) {
	case *netlink.Macvlan:
		f[netobj.FieldLink] = names[a.ParentIndex]
	case *netlink.Vlan:
		f[netobj.FieldLink] = names[a.ParentIndex]
		f[netobj.FieldVlanID] = strconv.Itoa(v.VlanId)
	case *netlink.Veth:
		// IFLA_LINK is the peer's index; with IFLA_LINK_NETNSID it is an
		// index in another namespace, whose names this driver does not
		// read: the peer is then not reported (and not compared).
		if a.NetNsID < 0 && a.ParentIndex != 0 {
			if peer, ok := names[a.ParentIndex]; ok {
				f[netobj.FieldPeer] = peer
			}
		}
	}
	return f
}

func routeFields(r netlink.Route, names map[int]string) netobj.Fields {
	dst := "0.0.0.0/0"
	if r.Family == netlink.FAMILY_V6 {
		dst = "::/0"
	}
	if p, ok := prefix(r.Dst); ok {
		dst = p.Masked().String()
	}
	f := netobj.Fields{
		netobj.FieldDst:    dst,
		netobj.FieldTable:  strconv.Itoa(r.Table),
		netobj.FieldMetric: strconv.Itoa(r.Priority),
	}
	if r.Gw != nil {
		if a, ok := netip.AddrFromSlice(r.Gw); ok {
			f[netobj.FieldGateway] = a.Unmap().String()
		}
	}
	if r.LinkIndex != 0 {
		f[netobj.FieldIface] = names[r.LinkIndex]
	}
	return f
}

// index returns the index of the interface called name, from the cache
// or by asking the kernel.
func (d *Driver) index(name string) (int, error) {
	if i, ok := d.links[name]; ok {
		return i, nil
	}
	l, err := d.h.LinkByName(name)
	if err != nil {
		return 0, mapErr("find", netobj.KindInterface, name, err)
	}
	d.links[name] = l.Attrs().Index
	return l.Attrs().Index, nil
}

// Add implements netobj.Driver.
func (d *Driver) Add(ctx context.Context, k netobj.Kind, f netobj.Fields) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.retryStale(func() error { return d.add(k, f) })
}

// retryStale runs op again with an empty index cache when it failed with
// ENODEV: a cached index may belong to a link deleted and re-created
// since. op must be idempotent up to that error.
func (d *Driver) retryStale(op func() error) error {
	err := op()
	if errors.Is(err, syscall.ENODEV) && len(d.links) > 0 {
		clear(d.links)
		err = op()
	}
	return err
}

func (d *Driver) add(k netobj.Kind, f netobj.Fields) error {
	switch k {
	case netobj.KindInterface:
		return d.addLink(f)
	case netobj.KindAddress:
		return d.addr("add", f)
	case netobj.KindRoute:
		r, err := d.route(f)
		if err != nil {
			return err
		}
		return mapErr("add", k, key(k, f), d.h.RouteAdd(r))
	}
	return fmt.Errorf("add %s: %w", k, netobj.ErrUnsupported)
}

func (d *Driver) addLink(f netobj.Fields) error {
	name := f[netobj.FieldName]
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	if v := f[netobj.FieldMTU]; v != "" {
		attrs.MTU, _ = strconv.Atoi(v)
	}
	if m := f[netobj.FieldMaster]; m != "" {
		i, err := d.index(m)
		if err != nil {
			return fmt.Errorf("add interface %q: master: %w", name, err)
		}
		attrs.MasterIndex = i
	}
	if p := f[netobj.FieldLink]; p != "" {
		i, err := d.index(p)
		if err != nil {
			return fmt.Errorf("add interface %q: link: %w", name, err)
		}
		attrs.ParentIndex = i
	}
	typ := f[netobj.FieldType]
	var l netlink.Link
	switch typ {
	case netobj.TypeBridge:
		l = &netlink.Bridge{LinkAttrs: attrs}
	case netobj.TypeVeth:
		l = &netlink.Veth{LinkAttrs: attrs, PeerName: f[netobj.FieldPeer]}
	case netobj.TypeMacvlan:
		l = &netlink.Macvlan{LinkAttrs: attrs, Mode: netlink.MACVLAN_MODE_BRIDGE}
	case netobj.TypeDummy:
		l = &netlink.Dummy{LinkAttrs: attrs}
	case netobj.TypeVlan:
		id, _ := strconv.Atoi(f[netobj.FieldVlanID])
		l = &netlink.Vlan{LinkAttrs: attrs, VlanId: id}
	default:
		return fmt.Errorf("add interface %q: type %q: %w", name, typ, netobj.ErrUnsupported)
	}
	if err := d.h.LinkAdd(l); err != nil {
		if errors.Is(err, syscall.EOPNOTSUPP) {
			return fmt.Errorf("add interface %q: kernel does not support link type %s: %w (%w)", name, typ, netobj.ErrUnsupported, err)
		}
		return mapErr("add", netobj.KindInterface, name, err)
	}
	if f[netobj.FieldState] == "up" {
		if err := d.h.LinkSetUp(l); err != nil {
			return fmt.Errorf("%w: %w", netobj.ErrPartial, mapErr("set up", netobj.KindInterface, name, err))
		}
	}
	return nil
}

func (d *Driver) addr(op string, f netobj.Fields) error {
	k := key(netobj.KindAddress, f)
	a, err := netlink.ParseAddr(f[netobj.FieldCIDR])
	if err != nil {
		return fmt.Errorf("%s address %q: %w: %w", op, k, netobj.ErrInvalidObject, err)
	}
	name := f[netobj.FieldIface]
	do := func() error {
		i, err := d.index(name)
		if err != nil {
			return err
		}
		link := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: i, Name: name}}
		if op == "add" {
			return d.h.AddrAdd(link, a)
		}
		return d.h.AddrDel(link, a)
	}
	if op == "add" {
		return mapErr(op, netobj.KindAddress, k, do())
	}
	return mapErr(op, netobj.KindAddress, k, d.retryStale(do))
}

func (d *Driver) route(f netobj.Fields) (*netlink.Route, error) {
	k := key(netobj.KindRoute, f)
	_, dst, err := net.ParseCIDR(f[netobj.FieldDst])
	if err != nil {
		return nil, fmt.Errorf("route %q: %w: %w", k, netobj.ErrInvalidObject, err)
	}
	r := &netlink.Route{Dst: dst}
	r.Table, _ = strconv.Atoi(f[netobj.FieldTable])
	r.Priority, _ = strconv.Atoi(f[netobj.FieldMetric])
	if g := f[netobj.FieldGateway]; g != "" {
		r.Gw = net.ParseIP(g)
	}
	if i := f[netobj.FieldIface]; i != "" {
		idx, err := d.index(i)
		if err != nil {
			return nil, fmt.Errorf("route %q: interface: %w", k, err)
		}
		r.LinkIndex = idx
	}
	return r, nil
}

// exactRoute returns the route on the system that f names: its
// destination, table and metric exactly (the kernel reads metric 0 in a
// delete as any metric), and its gateway and interface where f gives them;
// ErrNotExist if there is none. Deleting what it returns, with its
// protocol, scope and type, deletes that route and no other.
func (d *Driver) exactRoute(f netobj.Fields) (*netlink.Route, error) {
	k := key(netobj.KindRoute, f)
	want, err := d.route(f)
	if err != nil {
		if errors.Is(err, netobj.ErrNotExist) {
			// Its interface is gone: so is the route.
			return nil, fmt.Errorf("delete route %q: %w", k, err)
		}
		return nil, err
	}
	family := netlink.FAMILY_V4
	if want.Dst.IP.To4() == nil {
		family = netlink.FAMILY_V6
	}
	filter := &netlink.Route{Dst: want.Dst, Table: cmp.Or(want.Table, unix.RT_TABLE_MAIN)}
	routes, err := d.h.RouteListFiltered(family, filter, netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("delete route %q: list: %w", k, err)
	}
	for i := range routes {
		r := &routes[i]
		if r.Priority != want.Priority {
			continue
		}
		if want.Gw != nil && !want.Gw.Equal(r.Gw) {
			continue
		}
		if want.LinkIndex != 0 && want.LinkIndex != r.LinkIndex {
			continue
		}
		return r, nil
	}
	return nil, fmt.Errorf("delete route %q: %w", k, netobj.ErrNotExist)
}

// Set implements netobj.Driver.
func (d *Driver) Set(ctx context.Context, k netobj.Kind, f netobj.Fields, changed []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.retryStale(func() error { return d.set(k, f, changed) })
}

func (d *Driver) set(k netobj.Kind, f netobj.Fields, changed []string) error {
	switch k {
	case netobj.KindInterface:
		name := f[netobj.FieldName]
		l, err := d.h.LinkByName(name)
		if err != nil {
			return mapErr("set", k, name, err)
		}
		for done, n := range changed {
			var err error
			switch n {
			case netobj.FieldMTU:
				mtu, _ := strconv.Atoi(f[n])
				err = d.h.LinkSetMTU(l, mtu)
			case netobj.FieldState:
				if f[n] == "up" {
					err = d.h.LinkSetUp(l)
				} else {
					err = d.h.LinkSetDown(l)
				}
			case netobj.FieldMaster:
				if f[n] == "" {
					err = d.h.LinkSetNoMaster(l)
				} else {
					var i int
					if i, err = d.index(f[n]); err == nil {
						err = d.h.LinkSetMasterByIndex(l, i)
					}
				}
			default:
				err = fmt.Errorf("field %s: %w", n, netobj.ErrCreateOnly)
			}
			if err != nil {
				err = mapErr("set "+n+" of", k, name, err)
				if done > 0 {
					err = fmt.Errorf("%w: %w", netobj.ErrPartial, err)
				}
				return err
			}
		}
		return nil
	case netobj.KindRoute:
		r, err := d.route(f)
		if err != nil {
			return err
		}
		return mapErr("set", k, key(k, f), d.h.RouteReplace(r))
	}
	return fmt.Errorf("set %s %q: %w", k, key(k, f), netobj.ErrCreateOnly)
}

// Delete implements netobj.Driver.
func (d *Driver) Delete(ctx context.Context, k netobj.Kind, f netobj.Fields) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch k {
	case netobj.KindInterface:
		name := f[netobj.FieldName]
		l, err := d.h.LinkByName(name)
		if err != nil {
			return mapErr("delete", k, name, err)
		}
		delete(d.links, name)
		return mapErr("delete", k, name, d.h.LinkDel(l))
	case netobj.KindAddress:
		return d.addr("delete", f)
	case netobj.KindRoute:
		r, err := d.exactRoute(f)
		if err != nil {
			return err
		}
		return mapErr("delete", k, key(k, f), d.h.RouteDel(r))
	}
	return fmt.Errorf("delete %s: %w", k, netobj.ErrUnsupported)
}
