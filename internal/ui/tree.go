package ui

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// maxChildren bounds the children one /api/children answer lists; More
// says when there are more (search by prefix narrows them).
const maxChildren = 1000

// child is one entry of a path's children: a key, a path with keys below
// it, or both.
type child struct {
	Path        string `json:"path"`
	Name        string `json:"name"`
	Key         bool   `json:"key"`         // a key at this path exists
	HasChildren bool   `json:"hasChildren"` // keys exist below it
	ModRevision int64  `json:"modRevision,omitempty"`
	Lease       string `json:"lease,omitempty"`
}

type childrenResult struct {
	Path     string  `json:"path"`
	Revision int64   `json:"revision"`
	Children []child `json:"children"`
	More     bool    `json:"more"`
}

// revParam reads the optional rev parameter (0: newest).
func revParam(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("rev")
	if s == "" {
		return 0, nil
	}
	rev, err := strconv.ParseInt(s, 10, 64)
	if err != nil || rev < 0 {
		return 0, badRequest("rev %q: want a revision, a number >= 0", s)
	}
	return rev, nil
}

// pathParam reads the path parameter: "/" or a valid key path.
func pathParam(r *http.Request, rootOK bool) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", badRequest("missing path parameter")
	}
	if p == "/" && rootOK {
		return p, nil
	}
	if err := backend.ValidatePath(p); err != nil {
		return "", badRequest("%v", err)
	}
	return p, nil
}

// scanPage is how many keys one request of a children scan reads.
const scanPage = 256

// children lists the children of path at rev: the keys one level below
// it, and the names that only have keys deeper down. The keys of the
// level below come in one request; each deeper level is scanned in pages
// that skip over the rest of a child's subtree once the child is known,
// so the answer costs about the number of children, not of keys.
func (s *Server) children(r *http.Request) (any, error) {
	path, err := pathParam(r, true)
	if err != nil {
		return nil, err
	}
	rev, err := revParam(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	prefix := strings.TrimSuffix(path, "/") + "/"
	if rev == 0 {
		if rev, err = s.b.Revision(ctx); err != nil {
			return nil, err
		}
	}
	found := map[string]*child{}
	more := false
	add := func(p string) *child {
		c := found[p]
		if c == nil && len(found) < maxChildren {
			c = &child{Path: p, Name: p[len(prefix):]}
			found[p] = c
		} else if c == nil {
			more = true
		}
		return c
	}
	res, err := s.b.List(ctx, prefix, backend.ListOptions{Depths: []int{0}, Revision: rev, Limit: maxChildren})
	if err != nil {
		return nil, err
	}
	more = res.More
	for _, kv := range res.KVs {
		c := add(kv.Path)
		c.Key, c.ModRevision = true, kv.ModRevision
		if kv.Lease != backend.NoLease {
			c.Lease = strconv.FormatInt(int64(kv.Lease), 16)
		}
	}
	for level := 1; backend.Depth(prefix)+level <= backend.MaxDepth; level++ {
		after := ""
		for {
			res, err := s.b.List(ctx, prefix, backend.ListOptions{Depths: []int{level}, Revision: rev, After: after, Limit: scanPage})
			if err != nil {
				return nil, err
			}
			for _, kv := range res.KVs {
				name, _, _ := strings.Cut(kv.Path[len(prefix):], "/")
				if c := add(prefix + name); c != nil {
					c.HasChildren = true
				}
				// The rest of this child's subtree at this level is
				// skipped by the next page.
				after = prefix + name + "/\U0010FFFF"
			}
			if !res.More || more {
				break
			}
		}
	}
	names := make([]string, 0, len(found))
	for p := range found {
		names = append(names, p)
	}
	slices.Sort(names)
	out := childrenResult{Path: path, Revision: rev, Children: make([]child, 0, len(names)), More: more}
	for _, p := range names {
		out.Children = append(out.Children, *found[p])
	}
	return out, nil
}

// keyResult is one key as the page shows it.
type keyResult struct {
	Path           string          `json:"path"`
	Value          string          `json:"value"`
	JSON           bool            `json:"json"` // Value is JSON
	CreateRevision int64           `json:"createRevision"`
	ModRevision    int64           `json:"modRevision"`
	Version        int64           `json:"version"`
	Lease          string          `json:"lease,omitempty"`
	Revision       int64           `json:"revision"` // the store's, when read
	Owner          json.RawMessage `json:"owner,omitempty"`
	// OwnerLease and OwnerTTL are the owner key's lease and the seconds
	// it has left, when the store tells.
	OwnerLease string `json:"ownerLease,omitempty"`
	OwnerTTL   int64  `json:"ownerTTL,omitempty"`
}

func newKeyResult(kv backend.KeyValue, rev int64) keyResult {
	k := keyResult{Path: kv.Path, Value: kv.Value, JSON: json.Valid([]byte(kv.Value)), CreateRevision: kv.CreateRevision,
		ModRevision: kv.ModRevision, Version: kv.Version, Revision: rev}
	if kv.Lease != backend.NoLease {
		k.Lease = strconv.FormatInt(int64(kv.Lease), 16)
	}
	return k
}

// getKey reads one key at rev, with its entity's owner (the sub-key
// owner, as ska-sdp-config writes it) when it has one.
func (s *Server) getKey(r *http.Request) (any, error) {
	path, err := pathParam(r, false)
	if err != nil {
		return nil, err
	}
	rev, err := revParam(r)
	if err != nil {
		return nil, err
	}
	kv, cur, err := s.b.Get(r.Context(), path, rev)
	if err != nil {
		return nil, backend.WrapPath("get", path, err)
	}
	k := newKeyResult(kv, cur)
	if ow, _, err := s.b.Get(r.Context(), path+"/owner", rev); err == nil && json.Valid([]byte(ow.Value)) {
		k.Owner = json.RawMessage(ow.Value)
		if ow.Lease != backend.NoLease {
			k.OwnerLease = strconv.FormatInt(int64(ow.Lease), 16)
			if li, ok := s.b.(leaseInspector); ok {
				if info, err := li.LeaseInfo(r.Context(), ow.Lease); err == nil {
					k.OwnerTTL = int64(info.Remaining.Seconds())
				}
			}
		}
	}
	return k, nil
}
