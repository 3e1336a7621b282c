package config

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkMarshal compares Marshal, which encodes floats by their Go type
// through go-json-experiment's v1 mode, with the encoding/json pipeline it
// replaced (same Python-form writer after it), on one typed entity, in
// one run:
//
//	go test -run '^$' -bench BenchmarkMarshal -count 10 ./config/
func BenchmarkMarshal(b *testing.B) {
	v := newGoldenSample()
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, err := json.Marshal(v)
			if err != nil {
				b.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var tree any
			if err := dec.Decode(&tree); err != nil {
				b.Fatal(err)
			}
			var sb strings.Builder
			if err := writePy(&sb, tree, 0, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
