package config_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
)

// Block is an entity type: a processing block as ska-sdp-config stores it.
type Block struct {
	ID         string         `json:"id"`
	Script     string         `json:"script"`
	Parameters map[string]any `json:"parameters"`
}

// Validate is called before every write of a Block.
func (b Block) Validate() error {
	if b.Script == "" {
		return errors.New("no script")
	}
	return nil
}

// Blocks is the collection of Blocks under /pb.
var Blocks = config.MustKind[Block]("/pb")

// BlockState is the state sub-key of a Block: /pb/<id>/state.
var BlockState = config.StateOf[map[string]any](Blocks)

// A transaction reads a snapshot and commits its writes atomically; fn may
// run again on a conflict, so it only computes and writes through t.
func ExampleConfig_Txn() {
	ctx := context.Background()
	c := config.New(memory.New(), config.Options{})
	defer c.Close()

	increment := func(t *config.Txn) error {
		v, ok, err := t.Get("/counter")
		if err != nil {
			return err
		}
		n := 0
		if ok {
			if n, err = strconv.Atoi(v); err != nil {
				return err
			}
		}
		return t.Put("/counter", strconv.Itoa(n+1))
	}
	for i := 0; i < 3; i++ {
		if err := c.Txn(ctx, increment); err != nil {
			log.Fatal(err)
		}
	}

	var v string
	err := c.Txn(ctx, func(t *config.Txn) error {
		var err error
		v, _, err = t.Get("/counter")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("counter:", v)
	// Output:
	// counter: 3
}

// Typed entities are JSON values written as ska-sdp-config writes them.
func ExampleKind() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	c := config.New(b, config.Options{})
	defer c.Close()

	err := c.Txn(ctx, func(t *config.Txn) error {
		pb := Block{ID: "pb-1", Script: "vis-receive", Parameters: map[string]any{"channels": 4}}
		if err := Blocks.Create(t, pb.ID, pb); err != nil {
			return err
		}
		return BlockState.Create(t, pb.ID, map[string]any{"status": "RUNNING"})
	})
	if err != nil {
		log.Fatal(err)
	}

	var ids []string
	var pb Block
	var state map[string]any
	err = c.Txn(ctx, func(t *config.Txn) error {
		var err error
		if ids, err = Blocks.List(t); err != nil {
			return err
		}
		if pb, err = Blocks.Get(t, "pb-1"); err != nil {
			return err
		}
		state, err = BlockState.Get(t, "pb-1")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids, pb.Script, state["status"])

	kv, _, err := b.Get(ctx, Blocks.Path("pb-1"), 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(kv.Path)
	fmt.Println(kv.Value)

	// Missing entities and invalid values are errors naming the key.
	err = c.Txn(ctx, func(t *config.Txn) error {
		_, err := Blocks.Get(t, "pb-2")
		return err
	})
	fmt.Println(errors.Is(err, backend.ErrNotFound), err)
	err = c.Txn(ctx, func(t *config.Txn) error {
		return Blocks.Update(t, "pb-1", Block{ID: "pb-1"})
	})
	fmt.Println(errors.Is(err, config.ErrInvalidEntity), err)
	// Output:
	// [pb-1] vis-receive RUNNING
	// /pb/pb-1
	// {
	//   "id": "pb-1",
	//   "parameters": {
	//     "channels": 4
	//   },
	//   "script": "vis-receive"
	// }
	// true get "/pb/pb-2": sdpconfig: key not found
	// true validate "/pb/pb-1": config: invalid entity: no script
}

// Ownership is an owner key bound to the Config's client lease: it lasts as
// long as the lease.
func ExampleKind_TakeOwnership() {
	ctx := context.Background()
	b := memory.New()
	defer b.Close()
	me := config.OwnerInfo{PID: 42, Hostname: "node-1", Command: []string{"processor"}}
	c := config.New(b, config.Options{Owner: &me})
	defer c.Close()

	alive := func() bool {
		var ok bool
		if err := c.Txn(ctx, func(t *config.Txn) error {
			var err error
			ok, err = Blocks.IsAlive(t, "pb-1")
			return err
		}); err != nil {
			log.Fatal(err)
		}
		return ok
	}

	err := c.Txn(ctx, func(t *config.Txn) error {
		return Blocks.TakeOwnership(t, "pb-1", c.Owner())
	})
	fmt.Println("take:", err, "alive:", alive())

	err = c.Txn(ctx, func(t *config.Txn) error {
		return Blocks.TakeOwnership(t, "pb-1", c.Owner())
	})
	fmt.Println("again:", errors.Is(err, backend.ErrCollision))

	var owner config.OwnerInfo
	if err := c.Txn(ctx, func(t *config.Txn) error {
		var err error
		owner, err = Blocks.Owner(t, "pb-1")
		return err
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("owner:", owner.Hostname, owner.PID)

	// The client lease ends (here revoked; in life, the process died):
	// the ownership goes with it.
	l, err := c.ClientLease(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := l.Revoke(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("alive after revoke:", alive())
	// Output:
	// take: <nil> alive: true
	// again: true
	// owner: node-1 42
	// alive after revoke: false
}

// Marshal writes JSON exactly as Python's json.dumps(obj, indent=2,
// sort_keys=True, ensure_ascii=False) does.
func ExampleMarshal() {
	s, err := config.Marshal(struct {
		Zeta  float64        `json:"zeta"`
		Alpha []string       `json:"alpha"`
		Empty map[string]any `json:"empty"`
	}{Zeta: 1e-5, Alpha: []string{"é"}, Empty: map[string]any{}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output:
	// {
	//   "alpha": [
	//     "é"
	//   ],
	//   "empty": {},
	//   "zeta": 1e-05
	// }
}

// ResolveSettings tells where each setting came from; the password is
// never shown.
func ExampleResolveSettings() {
	env := map[string]string{
		config.EnvHost:     "etcd.example",
		config.EnvUsername: "sdp",
		config.EnvPassword: "secret",
	}
	s, err := config.ResolveSettings(config.Options{Port: 2380}, func(k string) string { return env[k] })
	if err != nil {
		log.Fatal(err)
	}
	for _, st := range s.List() {
		if st.Value != "" {
			fmt.Printf("%-9s %-24s %s\n", st.Name, st.Value, st.Source)
		}
	}

	_, err = config.ResolveSettings(config.Options{}, func(k string) string {
		return map[string]string{config.EnvPort: "twenty"}[k]
	})
	fmt.Println(err)
	// Output:
	// backend   etcd3                    default
	// endpoints etcd.example:2380        option
	// host      etcd.example             env
	// port      2380                     option
	// protocol  http                     default
	// username  sdp                      env
	// password  (set)                    env
	// config: invalid setting: port "twenty" (from SDP_CONFIG_PORT): not a port number
}
