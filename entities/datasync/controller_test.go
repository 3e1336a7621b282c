package datasync

import (
	"context"
	"errors"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func demoSpec() Spec {
	return Spec{
		Left:     SourceSpec{Name: "daphne", Prefix: "/datasync/ctl/daphne"},
		Right:    SourceSpec{Name: "desire", Prefix: "/datasync/ctl/desire"},
		Links:    "/datasync/ctl/links",
		Mappings: DemoMappings(),
	}
}

type runningCtl struct {
	ctl  *Controller
	done chan error
	c    *config.Config
}

func startController(t *testing.T, b backend.Backend, id int) *runningCtl {
	c := config.New(b, config.Options{Owner: &config.OwnerInfo{PID: id, Hostname: "test", Command: []string{"ctl"}}})
	s, err := demoSpec().Syncer(c, nil)
	assert.NilError(t, err)
	ctl := NewController(c, "demo", s, ControllerOptions{Period: time.Hour})
	rc := &runningCtl{ctl: ctl, done: make(chan error, 1), c: c}
	go func() { rc.done <- ctl.Run(context.Background()) }()
	return rc
}

func (rc *runningCtl) stop(t *testing.T) {
	assert.NilError(t, rc.ctl.Close())
	<-rc.done
	rc.c.Close()
}

func TestControllerElectsOneSyncsAndFailsOver(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			b := st.open(t)
			c := config.New(b, config.Options{})
			defer c.Close()
			spec := demoSpec()
			assert.NilError(t, c.Txn(ctx, func(t *config.Txn) error { return Specs.Create(t, "demo", spec) }))
			daphne, _ := NewStoreSource(c, "daphne", spec.Left.Prefix)
			desire, _ := NewStoreSource(c, "desire", spec.Right.Prefix)
			assert.NilError(t, LoadDemo(ctx, daphne, desire))

			a := startController(t, b, 1)
			defer func() {
				if a != nil {
					a.stop(t)
				}
			}()
			var status Status
			sdptest.WaitFor(t, "a converged full sync", func() bool {
				s, err := ReadStatus(ctx, c, "demo")
				status = s
				return err == nil && s.Full && s.Converged
			})
			assert.Equal(t, status.Leader.PID, 1)
			assert.Equal(t, status.Runs, 3)
			assert.Equal(t, status.Changes, 27-12+16)
			got, err := Describe(ctx, desire, DemoRightTypes)
			assert.NilError(t, err)
			assert.DeepEqual(t, sortedCopy(got), sortedCopy(demoFinalDesire))

			bb := startController(t, b, 2)
			defer bb.stop(t)

			// A RunOnce elsewhere is refused while a controller is active.
			s2, err := spec.Syncer(c, nil)
			assert.NilError(t, err)
			_, err = RunOnce(ctx, c, "demo", s2, 3)
			assert.Assert(t, errors.Is(err, ErrActive), "got %v", err)

			// One entity changes in the left store: the leader syncs it alone.
			assert.NilError(t, c.Txn(ctx, func(t *config.Txn) error {
				return daphne.Kind(DemoVlanServiceProvider).Create(t, "new", Entity{Type: DemoVlanServiceProvider, ID: "new", Attrs: map[string]any{"name": "GCP"}})
			}))
			sdptest.WaitFor(t, "GCP on the right", func() bool {
				es, err := desire.Find(ctx, DemoCloudServiceProvider, Where{"name": "GCP"})
				return err == nil && len(es) == 1
			})
			sdptest.WaitFor(t, "status of the one-entity sync", func() bool {
				s, err := ReadStatus(ctx, c, "demo")
				status = s
				return err == nil && !s.Full && s.Changes == 2
			})
			assert.Equal(t, status.Leader.PID, 1)
			assert.DeepEqual(t, kinds(status.Operations), []string{"Addition", "Linking"})

			// The leader goes away: the other controller takes over and
			// answers an on-demand request.
			a.stop(t)
			a = nil
			id, err := RequestSync(ctx, c, "demo")
			assert.NilError(t, err)
			sdptest.WaitFor(t, "the request answered by controller 2", func() bool {
				s, err := ReadStatus(ctx, c, "demo")
				status = s
				return err == nil && s.Request == id && s.Full
			})
			assert.Equal(t, status.Leader.PID, 2)
			assert.Assert(t, status.Converged)
			assert.Equal(t, status.Changes, 0)
		})
	}
}

func TestRunOnceWritesStatus(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		spec := demoSpec()
		s, err := spec.Syncer(c, nil)
		assert.NilError(t, err)
		assert.NilError(t, LoadDemo(ctx, s.Source(Left), s.Source(Right)))
		st, err := RunOnce(ctx, c, "demo", s, 10)
		assert.NilError(t, err)
		assert.Equal(t, st.Runs, 3)
		assert.Assert(t, st.Converged)
		got, err := ReadStatus(ctx, c, "demo")
		assert.NilError(t, err)
		assert.Equal(t, got.Changes, 31)
		assert.Equal(t, len(got.Operations), 16)
		// The election is released: a second RunOnce works.
		st, err = RunOnce(ctx, c, "demo", s, 10)
		assert.NilError(t, err)
		assert.Equal(t, st.Runs, 1)
	})
}

// TestControllerPeriodicAndTriggeredSyncOfAnUnwatchedSource: changes in a
// source the controller cannot watch (memory) are picked up by the
// periodic full sync, and at once by Trigger.
func TestControllerPeriodicAndTriggeredSyncOfAnUnwatchedSource(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		left := NewMemorySource("L")
		right, err := NewStoreSource(c, "R", "/datasync/test/right")
		assert.NilError(t, err)
		s, err := NewSyncer(left, right, newLinks(t, c), []Mapping{providers}, nil)
		assert.NilError(t, err)
		for _, tc := range []struct {
			name   string
			period time.Duration
		}{{"periodic", 20 * time.Millisecond}, {"triggered", time.Hour}} {
			t.Run(tc.name, func(t *testing.T) {
				ctl := NewController(c, "p-"+tc.name, s, ControllerOptions{Period: tc.period})
				done := make(chan error, 1)
				go func() { done <- ctl.Run(ctx) }()
				defer func() { ctl.Close(); <-done }()
				sdptest.WaitFor(t, "the first sync", func() bool {
					_, err := ReadStatus(ctx, c, "p-"+tc.name)
					return err == nil
				})
				name := "from-" + tc.name
				mustCreate(t, left, ent("P", t0, "name", name))
				if tc.period == time.Hour {
					ctl.Trigger()
				}
				sdptest.WaitFor(t, name+" on the right", func() bool {
					qs, err := right.Find(ctx, "Q", Where{"name": name})
					return err == nil && len(qs) == 1
				})
			})
		}
	})
}
