// Package topology is the topology controller (seed 001, DECNET's
// topology_store): a master writes the desired topology of each agent, the
// agent applies it through an Applier and records the one applied row, and
// heartbeats on a lease with the hash it applied and what it observes; the
// master flags drift and re-pushes by bumping a generation counter.
//
// # Keys
//
// Every key lives under Prefix ("/topology"), one per agent, each with one
// writer (docs/topology.md has the full layout):
//
//	/topology/desired/<agent>    Desired    master: topology id, spec, hash, generation
//	/topology/applied/<agent>    AppliedRow agent: the one applied row
//	/topology/heartbeat/<agent>  Heartbeat  agent, on a lease: applied hash, observed state
//	/topology/drift/<agent>      Drift      master: why the agent drifts
//
// # The applied row
//
// Store implements the seed's rules on the applied row, each as one
// conditional transaction (safe when two writers race): Put of the same
// topology id is an idempotent re-push, a different id fails with an
// *AlreadyAppliedError (ErrAlreadyApplied); RecordError writes a marker row
// (empty hash, applied_at 0) when there is no row, and otherwise changes only
// the error (and the blob if it was empty); Clear is a no-op for a missing
// row or another topology's.
//
// # Controllers
//
// Agent runs a caching watcher loop on its desired key; Master follows
// every desired, heartbeat and drift key with one Mirror and judges the
// agents whose keys changed. Neither restores anything on boot: an agent's
// first pass only reports. See Agent and Master.
package topology
