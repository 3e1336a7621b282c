// Package ui is the web console of sdpcfg ui: an HTTP handler serving an
// embedded single-page app and the JSON API it uses, over a Config.
//
// The API (every route under /api/, JSON in and out):
//
//	GET    /api/session                  revision, read-only flag, CSRF token
//	GET    /api/children?path=P&rev=R    the children of P (paths, not keys)
//	GET    /api/key?path=P&rev=R         one key: value, revisions, lease, owner
//	PUT    /api/key?path=P               {value, modRevision}: write if unchanged
//	DELETE /api/key?path=P&modRevision=M delete if unchanged
//	DELETE /api/tree?path=P&count=N      delete P and below, if N keys
//	GET    /api/history?path=P           every retained revision of P
//	GET    /api/events?from=R            Server-Sent Events: every change
//	GET    /api/leases                   leases and their keys
//	GET    /api/cluster                  endpoint status
//	GET    /api/controllers              topology, data sync, network objects
//
// Every write carries the X-CSRF-Token header /api/session gave and is a
// compare on the mod revision the user saw: a conflict answers 409 with
// the current version. Values are only ever inserted into the page as
// text, never as HTML.
package ui
