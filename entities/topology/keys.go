package topology

import "github.com/sdpconfig/sdpconfig/config"

// Prefix is the path every key of the topology controller lives under.
const Prefix = "/topology"

// The four collections of the controller, one key per agent each (see the
// package documentation). Each has one writer.
var (
	// DesiredTopologies holds the master's Desired per agent.
	DesiredTopologies = config.MustKind[Desired](Prefix + "/desired")
	// AppliedRows holds the agent's AppliedRow.
	AppliedRows = config.MustKind[AppliedRow](Prefix + "/applied")
	// Heartbeats holds the agent's Heartbeat, bound to the agent's lease.
	Heartbeats = config.MustKind[Heartbeat](Prefix + "/heartbeat")
	// DriftFlags holds the master's Drift for agents that drift.
	DriftFlags = config.MustKind[Drift](Prefix + "/drift")
)
