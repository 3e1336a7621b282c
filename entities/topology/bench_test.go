package topology

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// benchAgents is how many agents the master watches in the benchmarks.
const benchAgents = 1000

// benchAgent is the name of agent i.
func benchAgent(i int) string { return fmt.Sprintf("agent-%04d", i) }

// benchSetup starts etcd, writes benchAgents desired topologies with
// heartbeats that match them, and runs a master until the benchmark ends.
func benchSetup(b *testing.B) (*sdptest.Etcd, *config.Config, *Master, Desired) {
	e := sdptest.NewEtcd(b)
	be := e.Backend(b, etcd3.Config{})
	cfg := config.New(be, config.Options{})
	b.Cleanup(func() { cfg.Close() })
	ctx := context.Background()
	spec := map[string]any{"lans": []any{map[string]any{"name": "lan0", "cidr": "10.0.0.0/24"}}}
	hash, _ := Hash(spec)
	d := Desired{TopologyID: "lab", Spec: spec, Hash: hash, Generation: 1}
	for lo := 0; lo < benchAgents; lo += 50 {
		err := cfg.Txn(ctx, func(t *config.Txn) error {
			for i := lo; i < lo+50; i++ {
				if err := DesiredTopologies.CreateOrUpdate(t, benchAgent(i), d); err != nil {
					return err
				}
				if err := Heartbeats.CreateOrUpdate(t, benchAgent(i), benchHeartbeat(d, 0)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	m := NewMaster(cfg, MasterOptions{MaxRepushes: 1 << 30})
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(mctx) }()
	b.Cleanup(func() { cancel(); <-done })
	return e, cfg, m, d
}

// benchHeartbeat is an in-sync heartbeat for d, for round r.
func benchHeartbeat(d Desired, r int) Heartbeat {
	return Heartbeat{TopologyID: d.TopologyID, AppliedHash: d.Hash, Generation: d.Generation, Observed: map[string]any{"round": r}}
}

// benchWaitFlag waits until agent's drift flag exists (want) or not.
func benchWaitFlag(b *testing.B, cfg *config.Config, agent string, want bool) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		err := cfg.Txn(context.Background(), func(t *config.Txn) (err error) {
			ok, err = DriftFlags.Exists(t, agent)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if ok == want {
			return
		}
		if time.Now().After(deadline) {
			st, _ := Status(context.Background(), cfg)
			for _, s := range st {
				if s.Agent == agent {
					b.Logf("desired %+v hb %+v drift %+v", *s.Desired, *s.Heartbeat, s.Drift)
				}
			}
			b.Fatalf("timed out waiting for the flag of %s to be %v", agent, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkMasterHeartbeatRound: every one of 1,000 agents heartbeats (one
// round), the last one with a wrong hash; the round counts as processed
// when the master has flagged that agent, which it judges after reading
// the whole round. All on the master's one watch stream.
func BenchmarkMasterHeartbeatRound(b *testing.B) {
	_, cfg, m, d := benchSetup(b)
	ctx := context.Background()
	last := benchAgent(benchAgents - 1)
	evals0 := m.Stats().Evaluations
	lastD := d // the last agent's desired topology, bumped every round
	b.ResetTimer()
	for r := 1; r <= b.N; r++ {
		for lo := 0; lo < benchAgents; lo += 100 {
			err := cfg.Txn(ctx, func(t *config.Txn) error {
				for i := lo; i < lo+100; i++ {
					hb := benchHeartbeat(d, r)
					if i == benchAgents-1 {
						hb = benchHeartbeat(lastD, r)
						hb.AppliedHash = "wrong"
					}
					if err := Heartbeats.CreateOrUpdate(t, benchAgent(i), hb); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		benchWaitFlag(b, cfg, last, true)
		b.StopTimer()
		// Put the last agent back in sync (at the bumped generation).
		err := cfg.Txn(ctx, func(t *config.Txn) error {
			cur, err := DesiredTopologies.Get(t, last)
			if err != nil {
				return err
			}
			lastD = cur
			return Heartbeats.Update(t, last, benchHeartbeat(cur, r))
		})
		if err != nil {
			b.Fatal(err)
		}
		benchWaitFlag(b, cfg, last, false)
		b.StartTimer()
	}
	b.StopTimer()
	st := m.Stats()
	if st.Streams != 1 {
		b.Fatalf("master used %d watch streams, want 1", st.Streams)
	}
	b.ReportMetric(float64(st.Evaluations-evals0)/float64(b.N), "evaluations/round")
	b.ReportMetric(float64(st.Streams), "streams")
}

// BenchmarkRepushLatency compares, in one run on one etcd, the raw watch
// latency (a put until a clientv3 watch delivers it) with the re-push
// latency with 1,000 agents watched: a drifting heartbeat put (with the
// same raw client) until a clientv3 watch on the agent's desired key
// delivers the master's generation bump. A re-push is two commits and two
// deliveries, so 2x is its floor. It reports both medians and their ratio.
func BenchmarkRepushLatency(b *testing.B) {
	e, cfg, _, _ := benchSetup(b)
	cli := e.Client(b)
	ctx := context.Background()
	var raw, repush []time.Duration

	// Raw watch latency.
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	rawKey := "/bench/raw"
	wch := cli.Watch(wctx, rawKey)
	// The re-push target: agent 500's desired key, in etcd's stored form.
	agent := benchAgent(benchAgents / 2)
	var desiredKey, hbKey string
	{
		resp, err := cli.Get(ctx, "", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			b.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			if k := string(kv.Key); len(k) > len(agent) && k[len(k)-len(agent):] == agent && slices.Contains([]byte(k), '/') && containsSeg(k, "desired") {
				desiredKey = k
			}
			if k := string(kv.Key); len(k) > len(agent) && k[len(k)-len(agent):] == agent && containsSeg(k, "heartbeat") {
				hbKey = k
			}
		}
		if desiredKey == "" || hbKey == "" {
			b.Fatal("keys of the agent not found")
		}
	}
	dch := cli.Watch(wctx, desiredKey)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := cli.Put(ctx, rawKey, fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
		<-wch
		raw = append(raw, time.Since(start))

		var cur Desired
		err := cfg.Txn(ctx, func(t *config.Txn) (err error) {
			cur, err = DesiredTopologies.Get(t, agent)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		hb := benchHeartbeat(cur, i)
		hb.AppliedHash = "wrong"
		v, err := config.Marshal(hb)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if _, err := cli.Put(ctx, hbKey, v); err != nil { // the same write path as the raw put
			b.Fatal(err)
		}
		<-dch // the generation bump reaches the agent's watch
		repush = append(repush, time.Since(start))

		b.StopTimer()
		err = cfg.Txn(ctx, func(t *config.Txn) error {
			cur, err := DesiredTopologies.Get(t, agent)
			if err != nil {
				return err
			}
			return Heartbeats.Update(t, agent, benchHeartbeat(cur, i))
		})
		if err != nil {
			b.Fatal(err)
		}
		benchWaitFlag(b, cfg, agent, false)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(raw)
	slices.Sort(repush)
	rawP50, repushP50 := raw[len(raw)/2], repush[len(repush)/2]
	b.ReportMetric(float64(rawP50.Microseconds()), "raw-watch-p50-µs")
	b.ReportMetric(float64(repushP50.Microseconds()), "repush-p50-µs")
	b.ReportMetric(float64(repushP50)/float64(rawP50), "repush/raw")
}

// containsSeg reports whether the stored key k has the path segment seg.
func containsSeg(k, seg string) bool {
	for i := 0; i+len(seg)+2 <= len(k); i++ {
		if k[i] == '/' && k[i+1:i+1+len(seg)] == seg && k[i+1+len(seg)] == '/' {
			return true
		}
	}
	return false
}
