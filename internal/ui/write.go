package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// maxValue bounds the body of a write.
const maxValue = 1 << 20

// putRequest is the body of PUT /api/key: the value, and the mod revision
// of the key the user saw (0: the key must not exist: a create).
type putRequest struct {
	Value       string `json:"value"`
	ModRevision int64  `json:"modRevision"`
	Raw         bool   `json:"raw"` // a value that need not be JSON
}

// putKey writes a key if its mod revision is still the one the user saw.
func (s *Server) putKey(r *http.Request) (any, error) {
	path, err := pathParam(r, false)
	if err != nil {
		return nil, err
	}
	if err := backend.ValidateWritePath(path); err != nil {
		return nil, badRequest("%v", err)
	}
	var req putRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxValue+1024))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, badRequest("body: want {\"value\": ..., \"modRevision\": N}: %v", err)
	}
	if !req.Raw && !json.Valid([]byte(req.Value)) {
		return nil, badRequest("value of %s is not valid JSON: %v (send raw to store it as text)", path, jsonError(req.Value))
	}
	for _, k := range s.opts.Kinds {
		if ok, err := k.Check(path, req.Value); ok && err != nil {
			return nil, badRequest("%v", oneLine(err))
		}
	}
	if len(req.Value) > maxValue {
		return nil, badRequest("value of %s: %d bytes, over the console's limit of %d", path, len(req.Value), maxValue)
	}
	// An update keeps the key's lease: the lease read here is the one the
	// key still has when the compare on its mod revision holds.
	lease := backend.NoLease
	if req.ModRevision != 0 {
		kv, _, err := s.b.Get(r.Context(), path, 0)
		if err == nil && kv.ModRevision == req.ModRevision {
			lease = kv.Lease
		}
	}
	res, err := s.b.Commit(r.Context(), backend.Txn{
		If:   []backend.Compare{{Range: backend.Key(path), Target: backend.ModRevision, Op: backend.Equal, Value: req.ModRevision}},
		Then: []backend.Op{backend.Put(path, req.Value, lease)},
	})
	if err != nil {
		return nil, backend.WrapPath("write", path, err)
	}
	if !res.Succeeded {
		return nil, s.conflict(r, path, req.ModRevision)
	}
	s.log.Info("ui: wrote key", "path", path, "revision", res.Revision)
	return map[string]any{"revision": res.Revision}, nil
}

// conflict builds the 409 answer of a write whose key moved from seen:
// the key as it is now (absent: null).
func (s *Server) conflict(r *http.Request, path string, seen int64) error {
	kv, rev, err := s.b.Get(r.Context(), path, 0)
	msg := fmt.Sprintf("%s changed since you read it (mod revision %d); nothing was written", path, seen)
	if err != nil {
		if seen == 0 {
			msg = fmt.Sprintf("%s was created by someone else; nothing was written", path)
		}
		return &conflictError{msg: msg + "; it is now deleted", Current: nil}
	}
	if seen == 0 {
		msg = fmt.Sprintf("%s exists already (mod revision %d); nothing was written", path, kv.ModRevision)
	}
	return &conflictError{msg: msg, Current: newKeyResult(kv, rev)}
}

// deleteKey deletes a key if its mod revision is the one the user saw.
func (s *Server) deleteKey(r *http.Request) (any, error) {
	path, err := pathParam(r, false)
	if err != nil {
		return nil, err
	}
	seen, err := strconv.ParseInt(r.URL.Query().Get("modRevision"), 10, 64)
	if err != nil || seen <= 0 {
		return nil, badRequest("modRevision %q: want the mod revision of the key you saw", r.URL.Query().Get("modRevision"))
	}
	res, err := s.b.Commit(r.Context(), backend.Txn{
		If:   []backend.Compare{{Range: backend.Key(path), Target: backend.ModRevision, Op: backend.Equal, Value: seen}},
		Then: []backend.Op{backend.Delete(backend.Key(path))},
	})
	if err != nil {
		return nil, backend.WrapPath("delete", path, err)
	}
	if !res.Succeeded {
		return nil, s.conflict(r, path, seen)
	}
	s.log.Info("ui: deleted key", "path", path, "revision", res.Revision)
	return map[string]any{"revision": res.Revision, "deleted": res.Deleted}, nil
}

// deleteTree deletes path and every key below it, if they are count keys
// and none changed since they were counted: the user confirms the count,
// as 'sdpcfg delete -R' asks for it.
func (s *Server) deleteTree(r *http.Request) (any, error) {
	path, err := pathParam(r, false)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	n, rev, err := s.countTree(r, path)
	if err != nil {
		return nil, err
	}
	want := r.URL.Query().Get("count")
	if want != strconv.Itoa(n) {
		return nil, &conflictError{msg: fmt.Sprintf("%s and below hold %d keys: confirm with count=%d", path, n, n), Current: map[string]any{"count": n}}
	}
	ranges := append([]backend.Range{backend.Key(path)}, backend.Subtree(path)...)
	var ifs []backend.Compare
	var ops []backend.Op
	for _, rg := range ranges {
		// Nothing in the subtree was written after it was counted.
		ifs = append(ifs, backend.Compare{Range: rg, Target: backend.ModRevision, Op: backend.Less, Value: rev + 1})
		ops = append(ops, backend.Delete(rg))
	}
	res, err := s.b.Commit(ctx, backend.Txn{If: ifs, Then: ops})
	if err != nil {
		return nil, backend.WrapPath("delete", path, err)
	}
	if !res.Succeeded {
		return nil, &conflictError{msg: fmt.Sprintf("keys at or below %s changed since they were counted; nothing was deleted", path), Current: nil}
	}
	s.log.Info("ui: deleted tree", "path", path, "keys", res.Deleted, "revision", res.Revision)
	return map[string]any{"revision": res.Revision, "deleted": res.Deleted}, nil
}

// countTree counts the keys at and below path, at one revision.
func (s *Server) countTree(r *http.Request, path string) (int, int64, error) {
	ctx := r.Context()
	rev, err := s.b.Revision(ctx)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	if _, _, err := s.b.Get(ctx, path, rev); err == nil {
		n++
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	res, err := s.b.List(ctx, prefix, backend.ListOptions{Recurse: backend.MaxDepth - 1, Revision: rev})
	if err != nil {
		return 0, 0, err
	}
	return n + len(res.KVs), rev, nil
}

// jsonError says where value stops being JSON.
func jsonError(value string) error {
	var v any
	return json.Unmarshal([]byte(value), &v)
}

// oneLine makes err's message one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
