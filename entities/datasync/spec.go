package datasync

import (
	"fmt"
	"log/slog"

	"github.com/sdpconfig/sdpconfig/config"
)

// SourceSpec names a StoreSource: its name and its config-store prefix.
type SourceSpec struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
}

// Spec describes a synchronisation between two StoreSources of one store,
// so that any process (the controller, `sdpcfg sync run`) can build its
// Syncer from the store: Specs holds it at /datasync/spec/<name>.
type Spec struct {
	Left     SourceSpec `json:"left"`
	Right    SourceSpec `json:"right"`
	Links    string     `json:"links"`
	Mappings []Mapping  `json:"mappings"`
}

// Validate checks the spec's mappings and paths.
func (sp Spec) Validate() error {
	if sp.Left.Name == "" || sp.Right.Name == "" || sp.Links == "" {
		return fmt.Errorf("datasync: spec needs both sources named and a links prefix")
	}
	for _, m := range sp.Mappings {
		if err := m.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Specs is the collection of synchronisation specs, by name.
var Specs = config.MustKind[Spec]("/datasync/spec")

// Syncer builds the spec's StoreSources, Links and Syncer on c.
func (sp Spec) Syncer(c *config.Config, log *slog.Logger) (*Syncer, error) {
	l, err := NewStoreSource(c, sp.Left.Name, sp.Left.Prefix)
	if err != nil {
		return nil, err
	}
	r, err := NewStoreSource(c, sp.Right.Name, sp.Right.Prefix)
	if err != nil {
		return nil, err
	}
	links, err := NewLinks(c, sp.Links)
	if err != nil {
		return nil, err
	}
	return NewSyncer(l, r, links, sp.Mappings, log)
}
