package etcd3

import (
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/sdpconfig/sdpconfig/backend"
)

// keyspace translates between paths and stored keys under a global
// prefix: with prefix "/app", the path "/pb/x" is the key "3/app/pb/x".
type keyspace struct {
	prefix string // "" or a valid path
	depth  int    // backend.Depth(prefix)
}

func newKeyspace(prefix string) keyspace {
	return keyspace{prefix: prefix, depth: backend.Depth(prefix)}
}

// key returns the stored key of path.
func (k keyspace) key(path string) string {
	return backend.EncodeKeyAt(k.prefix+path, k.depth+backend.Depth(path))
}

// rangeKey returns the stored form of prefix for the keys at depth (a
// depth of paths, without the global prefix).
func (k keyspace) rangeKey(prefix string, depth int) string {
	return backend.EncodeKeyAt(k.prefix+prefix, k.depth+depth)
}

// of returns the stored key of r, and whether it is a prefix.
func (k keyspace) of(r backend.Range) (string, bool) {
	if !r.Prefix {
		return k.key(r.Path), false
	}
	return k.rangeKey(r.Path, r.KeyDepth()), true
}

// path returns the path a stored key stands for, or false for a key that
// is not a valid key under the prefix (written by someone else).
func (k keyspace) path(key []byte) (string, bool) {
	full, err := backend.DecodeKey(string(key))
	if err != nil {
		return "", false
	}
	if k.prefix == "" {
		return full, true
	}
	if !strings.HasPrefix(full, k.prefix) || len(full) == len(k.prefix) || full[len(k.prefix)] != '/' {
		return "", false
	}
	return full[len(k.prefix):], true
}

// keyValue converts a stored key-value pair; ok is false for a key outside
// the keyspace.
func (k keyspace) keyValue(kv *mvccpb.KeyValue) (backend.KeyValue, bool) {
	p, ok := k.path(kv.Key)
	if !ok {
		return backend.KeyValue{}, false
	}
	return backend.KeyValue{
		Path:           p,
		Value:          string(kv.Value),
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
		Version:        kv.Version,
		Lease:          backend.LeaseID(kv.Lease),
	}, true
}
