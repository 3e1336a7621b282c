// Package robustness holds sdpconfig's fault tests: clients running
// transactions on a 3-member embedded etcd cluster (testing/sdptest) while
// members crash and restart and history is compacted, with the outcome
// checked afterwards — invariants of the data, a linearizability check of
// the history with porcupine, the order and completeness of what watchers
// saw, and the lifetime of leases. Everything runs on loopback.
//
// The package has no non-test code. TestFaults runs for about 30 s under -race
// (10 s with -short; ROBUSTNESS_ROUNDS sets the number of fault rounds,
// 4 by default);
// docs/reliability.md describes what is checked and the figures of a run.
package robustness
