// Package netlinkdriver is the Linux netobj.Driver: it applies interfaces
// (bridge, veth, macvlan, dummy, vlan), addresses and routes to one network
// namespace through rtnetlink (github.com/vishvananda/netlink), with a
// netlink.Handle bound to that namespace, so that it never touches the
// namespace of the calling thread.
//
// Errors map to netobj's sentinels: EEXIST to netobj.ErrExists; ENODEV,
// ESRCH, ENOENT and EADDRNOTAVAIL (and a missing link) to
// netobj.ErrNotExist; a link type the kernel does not know (EOPNOTSUPP) to
// netobj.ErrUnsupported, with the message "kernel does not support link
// type <type>". It builds only on Linux.
package netlinkdriver
