package topology

// Desired is the topology the master wants an agent to run, written by the
// master only.
type Desired struct {
	// TopologyID names the topology.
	TopologyID string `json:"topology_id"`
	// Spec is the hydrated spec the agent applies.
	Spec map[string]any `json:"spec"`
	// Hash is HashWith(Spec, VolatilePaths): the agent refuses a push where
	// it differs.
	Hash string `json:"version_hash"`
	// VolatilePaths are the paths the hash leaves out (see HashWith); nil
	// in a push of an earlier version, which used DefaultVolatilePaths.
	VolatilePaths []string `json:"volatile_paths,omitempty"`
	// Generation grows by one on every push and re-push; the agent applies
	// when it moves.
	Generation int64 `json:"generation"`
}

// AppliedRow is the one applied row of an agent, written by the agent only:
// the seed's applied_topology row.
type AppliedRow struct {
	TopologyID string `json:"topology_id"`
	// AppliedVersionHash is the hash of the applied spec; empty in a
	// marker row (an apply failed before anything succeeded).
	AppliedVersionHash string `json:"applied_version_hash"`
	// Hydrated is what the applier returned (or the spec of a failed
	// apply), kept so that a teardown can find what it built; {} if none.
	Hydrated map[string]any `json:"hydrated"`
	// AppliedAt is the Unix time of the last successful apply; 0 in a
	// marker row.
	AppliedAt int64 `json:"applied_at"`
	// LastError is the last apply error, truncated; empty after a success.
	LastError string `json:"last_error"`
}

// IsMarker reports whether the row is an error marker: no apply of its
// topology succeeded yet.
func (r AppliedRow) IsMarker() bool { return r.AppliedVersionHash == "" }

// Heartbeat is what an agent reports on its lease: the key vanishes when the
// agent stops renewing it.
type Heartbeat struct {
	// TopologyID and AppliedHash are those of the agent's applied row
	// (empty when it has none; AppliedHash empty for a marker row).
	TopologyID  string `json:"topology_id"`
	AppliedHash string `json:"applied_hash"`
	// Generation is the desired generation the agent has acted on (or, on
	// its first pass, only seen).
	Generation int64 `json:"generation"`
	// Observed is the applier's observation; {"error": ...} when it failed.
	Observed map[string]any `json:"observed"`
	// LastError is the applied row's last error.
	LastError string `json:"last_error"`
}

// Drift is the master's flag on an agent that does not run its desired
// topology. It is deleted when the agent reports the desired hash again.
type Drift struct {
	// Reason says why (one of the Reason* constants).
	Reason string `json:"reason"`
	// Since is the Unix time the flag was raised.
	Since int64 `json:"since"`
	// Repushes counts the generation bumps the master made for the
	// desired push Generation belongs to, whatever the reasons: at most
	// MaxRepushes per push, until the flag clears or a new push (or
	// Resync) starts a new budget.
	Repushes int `json:"repushes"`
	// Generation is the desired generation the budget has reached: the
	// master's last re-push, or the generation the flag was raised at. A
	// desired generation above it is a new push.
	Generation int64 `json:"generation,omitempty"`
}

// The drift reasons of a Drift flag.
const (
	ReasonMissingHeartbeat = "missing heartbeat"
	ReasonTopologyID       = "different topology id"
	ReasonMarker           = "error marker (no applied hash)"
	ReasonHash             = "applied hash differs from desired"
	ReasonObservedError    = "observed state reports an error"
	ReasonObservedMissing  = "observed state lacks the topology"
	ReasonApplyNotFinished = "apply not finished"
)
