package main

import (
	"bufio"
	"encoding/json"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/sdpconfig/sdpconfig/backend"
)

// shape is how a command's items form its output.
type shape int

const (
	shapeOne    shape = iota // a single item (get): one JSON object, one YAML document
	shapeList                // a list (ls): a JSON array, a YAML sequence, streamed
	shapeStream              // an endless stream (watch): one JSON object per line, YAML documents
)

// printer writes a command's items in one output format (-o). There is one
// printer per format; commands give each item as a value (for json and
// yaml) and as the function that writes its table form.
type printer interface {
	// print writes one item.
	print(v any, table func(w io.Writer)) error
	// end completes the output and flushes it.
	end() error
}

// newPrinter returns the printer of format for items of the given shape.
func newPrinter(format string, w io.Writer, s shape) printer {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case outJSON:
		return &jsonPrinter{w: bw, shape: s}
	case outYAML:
		return &yamlPrinter{w: bw, shape: s}
	}
	return &tablePrinter{w: bw, shape: s}
}

// tablePrinter writes the table (human) form of each item.
type tablePrinter struct {
	w     *bufio.Writer
	shape shape
}

func (p *tablePrinter) print(_ any, table func(io.Writer)) error {
	table(p.w)
	if p.shape == shapeStream {
		return p.w.Flush()
	}
	return nil
}

func (p *tablePrinter) end() error { return p.w.Flush() }

// jsonPrinter writes indented JSON: an object, an array streamed item by
// item, or (for streams) one compact object per line.
type jsonPrinter struct {
	w     *bufio.Writer
	shape shape
	n     int
}

func (p *jsonPrinter) print(v any, _ func(io.Writer)) error {
	var b []byte
	var err error
	switch p.shape {
	case shapeStream:
		if b, err = json.Marshal(v); err != nil {
			return err
		}
		p.w.Write(b)
		p.w.WriteByte('\n')
		return p.w.Flush()
	case shapeList:
		if b, err = json.MarshalIndent(v, "  ", "  "); err != nil {
			return err
		}
		if p.n == 0 {
			p.w.WriteString("[\n  ")
		} else {
			p.w.WriteString(",\n  ")
		}
	default:
		if b, err = json.MarshalIndent(v, "", "  "); err != nil {
			return err
		}
	}
	p.n++
	_, err = p.w.Write(b)
	if p.shape == shapeOne {
		p.w.WriteByte('\n')
	}
	return err
}

func (p *jsonPrinter) end() error {
	if p.shape == shapeList {
		if p.n == 0 {
			p.w.WriteString("[]\n")
		} else {
			p.w.WriteString("\n]\n")
		}
	}
	return p.w.Flush()
}

// yamlPrinter writes YAML: a document, a sequence streamed item by item,
// or (for streams) one document per item.
type yamlPrinter struct {
	w     *bufio.Writer
	shape shape
	n     int
}

func (p *yamlPrinter) print(v any, _ func(io.Writer)) error {
	if p.shape == shapeList {
		v = []any{v} // "- ..." : one element of the sequence
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	if p.shape == shapeStream {
		p.w.WriteString("---\n")
	}
	p.n++
	p.w.Write(b)
	if p.shape == shapeStream {
		return p.w.Flush()
	}
	return nil
}

func (p *yamlPrinter) end() error {
	if p.shape == shapeList && p.n == 0 {
		p.w.WriteString("[]\n")
	}
	return p.w.Flush()
}

// kvItem is a key as the json and yaml outputs show it.
type kvItem struct {
	Path           string  `json:"path"`
	Value          *string `json:"value,omitempty"` // absent when values were not asked for
	CreateRevision int64   `json:"create_revision,omitempty"`
	ModRevision    int64   `json:"mod_revision,omitempty"`
	Version        int64   `json:"version,omitempty"`
	Lease          int64   `json:"lease,omitempty"`
	Dir            bool    `json:"dir,omitempty"` // a subtree below the depth listed, path ending with "/"
}

// newKVItem returns kv as an item, with its value if withValue.
func newKVItem(kv backend.KeyValue, withValue bool) kvItem {
	it := kvItem{Path: kv.Path, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version, Lease: int64(kv.Lease)}
	if withValue {
		v := kv.Value
		it.Value = &v
	}
	return it
}

// eventItem is a watch event as the json and yaml outputs show it.
type eventItem struct {
	Type      string  `json:"type"` // "PUT" or "DELETE"
	Path      string  `json:"path"`
	Value     *string `json:"value,omitempty"` // PUT only
	Revision  int64   `json:"revision"`        // the revision of the change
	Version   int64   `json:"version,omitempty"`
	PrevValue *string `json:"prev_value,omitempty"` // the value before, if any
}

// newEventItem returns ev as an item.
func newEventItem(ev backend.Event) eventItem {
	it := eventItem{Type: ev.Type.String(), Path: ev.KV.Path, Revision: ev.KV.ModRevision, Version: ev.KV.Version}
	if ev.Type == backend.EventPut {
		v := ev.KV.Value
		it.Value = &v
	}
	if ev.Prev != nil {
		v := ev.Prev.Value
		it.PrevValue = &v
	}
	return it
}
