package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/txn"
)

// demoSync reproduces the synchronizer-framework demo on the demo's store:
// the Daphne and Desire databases as two config-store sources, the seed's
// five mappings, runs until converged (27, 16 and 0 operations, as in the
// seed), and the final states. Its keys are deleted at the end on a
// configured store.
func (d *demoRun) demoSync(ctx context.Context) error {
	name := "demo-" + d.runID
	base := "/datasync/" + name
	spec := datasync.Spec{
		Left:     datasync.SourceSpec{Name: "daphne", Prefix: base + "/daphne"},
		Right:    datasync.SourceSpec{Name: "desire", Prefix: base + "/desire"},
		Links:    base + "/links",
		Mappings: datasync.DemoMappings(),
	}
	if !d.owned {
		defer d.cfg.Txn(context.WithoutCancel(ctx), func(t *config.Txn) error {
			for _, k := range []string{base, datasync.Specs.Path(name), datasync.Statuses.Path(name)} {
				if err := t.Delete(k, txn.DeleteOptions{Recursive: true}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := d.cfg.Txn(ctx, func(t *config.Txn) error { return datasync.Specs.CreateOrUpdate(t, name, spec) }); err != nil {
		return err
	}
	s, err := spec.Syncer(d.cfg, nil)
	if err != nil {
		return err
	}
	if err := datasync.LoadDemo(ctx, s.Source(datasync.Left), s.Source(datasync.Right)); err != nil {
		return err
	}
	d.out.printf("daphne (%s) and desire (%s) loaded; %d mappings, spec at %s\n", spec.Left.Prefix, spec.Right.Prefix, len(spec.Mappings), datasync.Specs.Path(name))
	for i, m := range spec.Mappings {
		d.out.printf("  mapping %d: %s\n", i+1, m)
	}
	st := datasync.Status{Leader: d.cfg.Owner(), Full: true, Started: time.Now()}
	runs, err := s.Converge(ctx, 10)
	if err != nil {
		return err
	}
	for i, r := range runs {
		counts := map[string]int{}
		for _, op := range r.Ops {
			counts[string(op.Kind)]++
		}
		var parts []string
		for k, n := range counts {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
		sort.Strings(parts)
		d.out.printf("run %d: %d operation(s) %s\n", i+1, len(r.Ops), strings.Join(parts, ", "))
		st.Changes += r.Changes()
		if r.Changes() > 0 {
			st.Operations = r.Ops
		}
	}
	d.out.printf("converged after %d runs\n", len(runs))
	st.Finished, st.Runs, st.Converged = time.Now(), len(runs), true
	if err := datasync.WriteStatus(ctx, d.cfg, name, st); err != nil {
		return err
	}
	for _, side := range []struct {
		sd    datasync.Side
		types []string
	}{{datasync.Right, datasync.DemoRightTypes}, {datasync.Left, datasync.DemoLeftTypes}} {
		lines, err := datasync.Describe(ctx, s.Source(side.sd), side.types)
		if err != nil {
			return err
		}
		d.out.printf("final %s:\n", s.Source(side.sd).Name())
		for _, l := range lines {
			d.out.printf("  %s\n", l)
		}
	}
	d.out.printf("status at %s (see 'sdpcfg sync status %s')\n", datasync.Statuses.Path(name), name)
	return nil
}
