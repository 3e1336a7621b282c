package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// fuzzEntity is a typed entity with the shapes stored values have.
type fuzzEntity struct {
	Script     string            `json:"script"`
	Parameters map[string]any    `json:"parameters"`
	Count      int               `json:"count"`
	Ratio      float64           `json:"ratio"`
	Tags       []string          `json:"tags"`
	Labels     map[string]string `json:"labels"`
	Nested     *fuzzEntity       `json:"nested"`
}

// FuzzDecode checks the decoding of stored values into typed entities on
// any input: nothing panics; failures wrap ErrDecode; a value that decodes
// is re-encoded by Marshal (ska-sdp-config's JSON) into a value that
// decodes to the same entity, and Marshal is stable on its own output.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"script": "vis-receive", "count": 3, "ratio": 0.5, "tags": ["a"], "labels": {"x": "y"}}`,
		`{"parameters": {"a": [1, 2.5, -0, 1e300, "x", null, true]}}`,
		`{"nested": {"nested": {"script": "é\u00e9\ud83d\ude00"}}}`,
		`null`, `{}`, `[]`, `"x"`, `1`, `{"count": 1.5}`, `{"ratio": 1e400}`, `{} {}`, `{"a":`, "\xff",
		`{"parameters": {"n": 123456789012345678901234567890}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := decode[fuzzEntity]("/fuzz", s)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatalf("decode(%q) error %v does not wrap ErrDecode", s, err)
			}
		} else {
			out, err := Marshal(e)
			if err == nil {
				e2, err := decode[fuzzEntity]("/fuzz", out)
				if err != nil {
					t.Fatalf("decode(Marshal(decode(%q))) = %v; Marshal gave %q", s, err, out)
				}
				out2, err := Marshal(e2)
				if err != nil || out2 != out {
					t.Fatalf("Marshal not stable: %q then %q (%v)", out, out2, err)
				}
			}
		}
		v, err := decode[any]("/fuzz", s)
		if err != nil {
			return
		}
		out, err := Marshal(v)
		if err != nil {
			return // numbers beyond a float, which Python cannot write either
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("Marshal(decode(%q)) = %q, not JSON", s, out)
		}
		v2, err := decode[any]("/fuzz", out)
		if err != nil {
			t.Fatalf("decode(Marshal(decode(%q))) = %v; Marshal gave %q", s, err, out)
		}
		out2, err := Marshal(v2)
		if err != nil || out2 != out {
			t.Fatalf("Marshal not stable: %q then %q (%v)", out, out2, err)
		}
		if _, isMap := v.(map[string]any); isMap != reflect.ValueOf(v2).Type().ConvertibleTo(reflect.TypeOf(map[string]any{})) {
			t.Fatalf("decode(%q) changed kind: %T then %T", s, v, v2)
		}
	})
}
