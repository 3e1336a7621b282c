// Package mirror keeps a local copy of every key under a prefix of a
// configuration store and tells a Handler of each change, like an LDAP
// syncrepl consumer or a client-go informer, or etcd's client/v3/mirror.
// It covers every key whose path starts with the prefix, at the prefix's
// depth and the backend.MaxDepth-1 levels below it, over one backend watch
// stream. (To run a body again whenever what it read changes, use package
// watcher.)
//
//	m, err := mirror.NewMirror(b, "/pb/", handler, mirror.MirrorOptions{
//		StatePath: "/var/lib/svc/pb.mirror", // optional: resume after a restart
//	})
//	go m.Run(ctx)
//	rev, _ := b.Update(ctx, "/pb/pb-1", v)
//	m.WaitForRevision(ctx, rev) // the mirror has seen the write
//	m.Stop()
//
// Modes. RefreshOnly brings the copy up to date once, calls RefreshDone and
// returns. RefreshAndPersist (the zero Mode) then follows the store until
// Stop is called or Run's context ends.
//
// Callbacks. Add(kv) for a key the mirror did not hold, Change(old, new)
// for a key written again (a rewrite of the same value is a change: its mod
// revision moved), Delete(old) for a key deleted (by a delete, a lease
// ending, or found missing by a refresh), and RefreshDone(view) once the
// copy has caught up with the store. They run one at a time on Run's
// goroutine, in revision order (in path order within a refresh), with old
// values taken from the mirror's own copy, never from the store's history.
// The view is read-only and consistent at view.Revision() while RefreshDone
// runs.
//
// The cookie is a revision: the copy is the store's state at that revision,
// restricted to the prefix. Without a state file, or with an empty one, Run
// starts with a refresh: a List of the prefix in pages of PageSize keys,
// all at the revision of the first page, so a large prefix never needs one
// giant response; then the watch starts at that revision plus one. With a
// state file holding a cookie, Run loads the copy and resumes the watch
// from the cookie plus one: no List, and no callback for keys it already
// reported; the changes made while it was away are delivered as they
// happened, then RefreshDone.
//
// Compaction. When the history after the cookie is gone (the watch ends
// with backend.ErrCompacted), or the store is behind the cookie (another
// store), the mirror refreshes and reconciles with its copy: Delete for
// keys gone, Change for keys whose value or mod revision differs, Add for
// new keys, nothing for keys unchanged. It reports the net difference, not
// each change in between: a key deleted and created again while away is a
// Change, and a key that came and went is not reported at all.
//
// Streams. A watch stream cut by the network (backend.ErrUnavailable)
// resumes from the last revision applied plus one, with no gap and no
// duplicate. Unavailable stores are retried with exponential backoff
// (RetryInterval up to MaxRetry) until Run's context ends. Progress
// notifications keep WaitForRevision working when the awaited write is
// outside the prefix.
//
// State file. A bbolt file holds the format version (StateFormat), the
// prefix, the keys with their revisions, and the cookie. Each refresh page
// and each watch response is written in one bbolt transaction, the cookie
// in the same transaction as the changes it covers, so that Stop or a crash
// leaves the file at a consistent point. A refresh removes the cookie in
// its first transaction and writes the new one in its last: a refresh cut
// short is redone (and reconciled) on the next start. A file written for
// another prefix or format version is refused with a *StateMismatchError
// (ErrStateMismatch), or emptied with WipeOnMismatch. A file that is not a
// state file, or is damaged, is refused with ErrStateCorrupt and never
// written to; neither is a file another Mirror or process holds
// (ErrStateLocked). The file stays open from NewMirror until Run returns,
// or until Stop if Run is never called.
//
// Delivery. Each change is delivered once across Stop and restart, stream
// cuts and compactions. A callback that fails or panics stops Run with a
// *CallbackError naming the callback, the key and the revision; the state
// file records everything before that change and not the change itself, so
// a restart delivers it again (and not the changes before it). After a
// crash of the process, changes whose callbacks ran but whose transaction
// was not written yet (at most one page or one watch response) are
// delivered again.
//
// Memory. The whole prefix is held in memory: about twice the bytes of its
// paths and values (2.2x for 100-byte values, see BenchmarkMirrorRefresh).
package mirror
