package config

import "github.com/sdpconfig/sdpconfig/txn"

// Txn is one attempt of a Config transaction: a *txn.Txn (every method of
// which it has: Get, List, Create, Update, Put, Delete, OnCommit, ...) that
// also knows its Config, for the client lease of ownership keys. Typed
// entities (Kind) read and write through it. Like a *txn.Txn, it is not safe
// for concurrent use and must not be used after its function returns.
type Txn struct {
	*txn.Txn
	c *Config
}

// Config returns the Config the transaction runs on.
func (t *Txn) Config() *Config { return t.c }
