package topology

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// cacheBucket and cacheKey locate the applied row in a cache file.
var (
	cacheBucket = []byte("topology")
	cacheKey    = []byte("applied")
)

// Cache is an agent's local copy of its applied row in a bbolt file, so
// that the agent can say what it last applied, with what hash, without the
// store. It is a cache, never a source of truth: the agent does not apply
// from it on boot. It is safe for concurrent use.
type Cache struct {
	db *bolt.DB
}

// OpenCache opens (or creates) the cache file at path. It fails if another
// process holds the file for more than a second.
func OpenCache(path string) (*Cache, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("topology: open cache %q: %w", path, err)
	}
	return &Cache{db: db}, nil
}

// Get returns the cached row, and false if none is cached.
func (c *Cache) Get() (row AppliedRow, ok bool, err error) {
	err = c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(cacheBucket)
		if b == nil {
			return nil
		}
		v := b.Get(cacheKey)
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &row)
	})
	if err != nil {
		return AppliedRow{}, false, fmt.Errorf("topology: read cache %q: %w", c.db.Path(), err)
	}
	return row, ok, nil
}

// Set caches row (ok true) or forgets the cached row (ok false).
func (c *Cache) Set(row AppliedRow, ok bool) error {
	err := c.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(cacheBucket)
		if err != nil {
			return err
		}
		if !ok {
			return b.Delete(cacheKey)
		}
		v, err := json.Marshal(row)
		if err != nil {
			return err
		}
		return b.Put(cacheKey, v)
	})
	if err != nil {
		return fmt.Errorf("topology: write cache %q: %w", c.db.Path(), err)
	}
	return nil
}

// Close closes the file.
func (c *Cache) Close() error { return c.db.Close() }
