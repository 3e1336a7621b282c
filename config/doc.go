// Package config is the user-facing API of sdpconfig, as database/sql is
// over its drivers: it connects to a store (package backend: etcd3 or
// memory), runs transactions on it, hands out leases, and stores typed
// entities as JSON in ska-sdp-config's layout, so that Go and Python
// services share one store.
//
// # Basics
//
// Open connects with settings taken from Options, then the SDP_CONFIG_*
// environment variables ska-sdp-config reads (SDP_CONFIG_BACKEND,
// SDP_CONFIG_HOST, SDP_CONFIG_PORT, SDP_CONFIG_PROTOCOL, SDP_CONFIG_CERT,
// SDP_CONFIG_USERNAME, SDP_CONFIG_PASSWORD, plus SDP_CONFIG_CLIENT_CERT,
// SDP_CONFIG_CLIENT_KEY, SDP_CONFIG_ENDPOINTS and SDP_CONFIG_PREFIX), then
// defaults (etcd3 at 127.0.0.1:2379 over http). ResolveSettings is that
// resolution on its own, with the source of every value, for tools that
// print it. New wraps a backend the caller already has, typically
// memory.New() in tests; the caller keeps ownership of it.
//
//	c, err := config.Open(ctx, config.Options{})
//	if err != nil { ... }
//	defer c.Close()
//
//	err = c.Txn(ctx, func(t *config.Txn) error {
//		v, ok, err := t.Get("/counter")
//		...
//		return t.Put("/counter", next)
//	})
//
// Config.Txn runs its function on a consistent snapshot and commits its
// writes atomically. When the store changed under the snapshot, the
// function runs again (up to 64 times by default): it may be called several
// times and must be idempotent apart from its calls on the Txn. Keep side
// effects for after Txn returns, or register them with Txn.OnCommit.
//
// A global prefix (Options.Prefix, SDP_CONFIG_PREFIX) puts every path of the
// Config under a path such as "/sdp", as ska-sdp-config's global_prefix
// does; paths in transactions, results and watch events stay relative to it.
//
// # Typed entities
//
// A Kind[T] is a collection of entities of type T under a prefix, stored as
// ska-sdp-config stores them: the entity at <prefix>/<id>, its state at
// <prefix>/<id>/state (StateOf), its owner at <prefix>/<id>/owner. Values
// are written by Marshal: Python's json.dumps(obj, indent=2,
// sort_keys=True, ensure_ascii=False), byte for byte. Its methods run inside
// a transaction:
//
//	var blocks = config.MustKind[Block]("/pb")
//
//	err := c.Txn(ctx, func(t *config.Txn) error {
//		pb, err := blocks.Get(t, "pb-1")
//		if err != nil { return err } // wraps backend.ErrNotFound if absent
//		pb.Script = "vis-receive"
//		return blocks.Update(t, "pb-1", pb)
//	})
//
// Get never returns a zero value for a missing key (backend.ErrNotFound) or
// an undecodable one (ErrDecode); both errors name the key. If T or *T has
// a Validate() error method, every write calls it and refuses an invalid
// value before anything is written (ErrInvalidEntity).
//
// # Ownership
//
// A process claims an entity with Kind.TakeOwnership: an owner key holding
// its OwnerInfo (pid, hostname, command, as ska-sdp-config writes it),
// bound to the Config's client lease. The claim fails with
// backend.ErrCollision while someone owns the entity, and vanishes with the
// lease: when the Config closes, or when its process dies or loses the
// store for longer than the lease's TTL (Options.ClientLeaseTTL, 10s by
// default). IsAlive tells whether an entity has an owner, Owner who it is,
// IsOwner whether it is this Config; ReleaseOwnership gives it up.
//
// # Caveats
//
//   - Transaction functions run more than once under contention. Do not
//     send messages, write files or increment counters outside the Txn in
//     them.
//   - Every key a transaction reads or lists is checked at commit; a
//     commit may hold at most the store's limit of compares (128 on a
//     default etcd). Listing a large collection in a transaction that
//     writes can exceed it: list with txn.ListOptions{Untracked: true} and
//     map paths back with Kind.ID.
//   - A lost client lease is replaced by a new one at the next
//     ClientLease or TakeOwnership, but the ownership keys of the old one
//     are gone: a process must watch its lease (Lease.Done) and take its
//     entities again, or stop working on them.
//   - Values decoded into interfaces keep numbers as json.Number, so that a
//     read-modify-write keeps 1.0 a float and big integers exact, as Python
//     wrote them.
//   - Marshal writes UTF-8 as ska-sdp-config does (ensure_ascii=False);
//     MarshalASCII writes Python's default \uXXXX escapes instead. Python
//     reads both the same.
package config
