//go:build linux

package netlinkdriver_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/sdpconfig/sdpconfig/entities/netobj/netlinkdriver"
)

var nsCount atomic.Int64

// newNamespace creates a named network namespace for the test, removed by
// its cleanup, and returns a handle on it. The calling thread is locked
// while it enters the new namespace and is back in its own before the
// function returns; the host's namespace is never changed. The test skips
// when it cannot create namespaces (not root).
func newNamespace(tb testing.TB) netns.NsHandle {
	tb.Helper()
	ns, _ := newNamedNamespace(tb)
	return ns
}

// newNamedNamespace is newNamespace, and returns the namespace's name too
// (for another process to enter it).
func newNamedNamespace(tb testing.TB) (netns.NsHandle, string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipping: creating a network namespace needs root (run the tests as root, as CI does)")
	}
	name := fmt.Sprintf("netobjtest-%d-%d", os.Getpid(), nsCount.Add(1))
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		tb.Fatalf("current namespace: %v", err)
	}
	defer orig.Close()
	ns, err := netns.NewNamed(name) // also moves this thread into it
	if err != nil {
		_ = netns.Set(orig)
		runtime.UnlockOSThread()
		if errors.Is(err, syscall.EPERM) {
			tb.Skipf("skipping: cannot create a network namespace: %v", err)
		}
		tb.Fatalf("create namespace %s: %v", name, err)
	}
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: it dies with this goroutine instead of
		// running other goroutines in the wrong namespace.
		tb.Fatalf("return to the original namespace: %v", err)
	}
	runtime.UnlockOSThread()
	tb.Cleanup(func() {
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			tb.Errorf("delete namespace %s: %v", name, err)
		}
	})
	return ns, name
}

// newDriver returns a driver on a fresh namespace, closed by the cleanup.
// It skips when the kernel lacks veth or bridge links, which the tests use.
func newDriver(tb testing.TB) *netlinkdriver.Driver {
	tb.Helper()
	ns := newNamespace(tb)
	d, err := netlinkdriver.New(ns)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	probe := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "probe0"}, PeerName: "probe1"}
	if err := d.Handle().LinkAdd(probe); err != nil {
		if errors.Is(err, syscall.EOPNOTSUPP) {
			tb.Skipf("skipping: the kernel does not support veth links: %v", err)
		}
		tb.Fatalf("probe veth: %v", err)
	}
	if err := d.Handle().LinkDel(probe); err != nil {
		tb.Fatal(err)
	}
	return d
}
