//go:build linux

package netlinkdriver_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/entities/netobj/netlinkdriver"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
)

// The environment of the crash helper process (TestCrashHelper).
const (
	helperNS       = "NETOBJ_CRASH_HELPER_NS"
	helperEndpoint = "NETOBJ_CRASH_HELPER_ENDPOINT"
)

// crashAddr is the object of the crash test: an address on lo, which
// every namespace has.
var crashAddr = netobj.Address("lo", "10.77.0.1/32")

// A controller SIGKILLed after applying an object and before writing its
// status leaves an intent record; the next controller, finding the object
// no longer desired, removes it from the system instead of leaving it
// there for good.
func TestKilledBetweenApplyAndStatusLeavesNoOrphan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and a controller process")
	}
	ns, name := newNamedNamespace(t)
	h, err := netlink.NewHandleAt(ns)
	assert.NilError(t, err)
	t.Cleanup(h.Close)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	cfg := config.New(b, config.Options{})
	t.Cleanup(func() { cfg.Close() })
	ctx := sdptest.Context(t)
	err = cfg.Txn(ctx, func(tx *config.Txn) error {
		_, err := netobj.Paths{}.PutDesired(tx, "crash", "a", crashAddr)
		return err
	})
	assert.NilError(t, err)

	// The controller process applies the address and is killed as it
	// writes the status.
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), helperNS+"="+name, helperEndpoint+"="+e.Endpoints()[0])
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	cmd.Stderr = os.Stderr
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), "WRITING STATUS") {
	}
	assert.Assert(t, sc.Err() == nil && strings.Contains(sc.Text(), "WRITING STATUS"), "the helper ended before writing a status")
	assert.Assert(t, hasAddr(t, h, "10.77.0.1/32"), "the helper did not apply the address")
	assert.NilError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	// Not desired any more; no status was ever written.
	err = cfg.Txn(ctx, func(tx *config.Txn) error {
		_, err := netobj.Paths{}.DeleteDesired(tx, "crash", netobj.KindAddress, "a")
		return err
	})
	assert.NilError(t, err)

	d, err := netlinkdriver.New(ns)
	assert.NilError(t, err)
	t.Cleanup(func() { d.Close() })
	passes := make(chan netobj.Pass, 16)
	ctl := &netobj.Controller{Config: cfg, Target: "crash", Driver: d, DriverName: "netlink", ObserveInterval: time.Hour,
		OnPass: func(p netobj.Pass) { passes <- p }}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ctl.Run(cctx) }()
	defer func() {
		cancel()
		assert.NilError(t, <-done)
	}()
	select {
	case p := <-passes:
		assert.Equal(t, len(p.Failed), 0, "%v", p.Failed)
	case <-ctx.Done():
		t.Fatal("no pass of the new controller before the test's deadline")
	}
	assert.Assert(t, !hasAddr(t, h, "10.77.0.1/32"), "the address applied by the killed controller is still on the system")
	var left []string
	err = cfg.Txn(ctx, func(tx *config.Txn) error {
		keys, err := tx.List(netobj.Paths{}.Target("crash")+"/intent/", txn.ListOptions{Recurse: 1})
		left = keys
		return err
	})
	assert.NilError(t, err)
	assert.Equal(t, len(left), 0, "intent records left: %v", left)
}

// hasAddr reports whether lo has the address cidr.
func hasAddr(t *testing.T, h *netlink.Handle, cidr string) bool {
	t.Helper()
	lo, err := h.LinkByName("lo")
	assert.NilError(t, err)
	as, err := h.AddrList(lo, netlink.FAMILY_V4)
	assert.NilError(t, err)
	for _, a := range as {
		if a.IPNet.String() == cidr {
			return true
		}
	}
	return false
}

// TestCrashHelper is the controller process of the crash test: run
// only with its environment set, it runs a controller in the named
// namespace that blocks forever at its first status write, after saying
// so on stdout.
func TestCrashHelper(t *testing.T) {
	name := os.Getenv(helperNS)
	if name == "" {
		t.Skip("the controller process of TestKilledBetweenApplyAndStatusLeavesNoOrphan")
	}
	ns, err := netns.GetFromName(name)
	assert.NilError(t, err)
	d, err := netlinkdriver.New(ns)
	assert.NilError(t, err)
	ctx := context.Background()
	b, err := etcd3.New(ctx, etcd3.Config{Endpoints: []string{os.Getenv(helperEndpoint)}})
	assert.NilError(t, err)
	cfg := config.New(stallStatus{b}, config.Options{})
	ctl := &netobj.Controller{Config: cfg, Target: "crash", Driver: d, DriverName: "netlink", ObserveInterval: time.Hour}
	t.Fatal(ctl.Run(ctx)) // never returns: the parent kills it
}

// stallStatus is a backend whose commits that write an observed status
// never end.
type stallStatus struct{ *etcd3.Backend }

func (s stallStatus) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	for _, op := range t.Then {
		if strings.Contains(op.Range.Path, "/observed/") {
			fmt.Println("WRITING STATUS")
			select {}
		}
	}
	return s.Backend.Commit(ctx, t)
}
