package config

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// The nested sample of testdata/gen_golden.py, as Go values: structs (whose
// fields encoding/json does not sort), maps, empty containers, every kind of
// number and every character class Python escapes.
type goldenInner struct {
	Zeta  string         `json:"zeta"`
	Alpha []int          `json:"alpha"`
	Empty map[string]any `json:"empty"`
	None  []string       `json:"none"`
	Deep  map[string]any `json:"deep"`
}

type goldenSample struct {
	ID         string         `json:"id"`
	Count      int            `json:"count"`
	Big        uint64         `json:"big"`
	Ratio      float64        `json:"ratio"`
	Tiny       float64        `json:"tiny"`
	Small      float64        `json:"small"`
	Huge       float64        `json:"huge"`
	Neg        float64        `json:"neg"`
	Flag       bool           `json:"flag"`
	Nothing    *string        `json:"nothing"`
	Text       string         `json:"text"`
	Inner      goldenInner    `json:"inner"`
	Parameters map[string]int `json:"parameters"`
	Items      []any
}

func newGoldenSample() goldenSample {
	return goldenSample{
		ID:    "pb-test-20240101-00000",
		Count: 42,
		Big:   12345678901234567890,
		Ratio: 0.1,
		Tiny:  1e-05,
		Small: 0.0001,
		Huge:  1.5e300,
		Neg:   -2.5,
		Flag:  true,
		Text:  "h\u00e9llo \"q\" \\ / \n\t\r\b\f\x01\x1f\x7f \u65e5\u672c \U0001F600 <&> \u2028",
		Inner: goldenInner{
			Zeta:  "last",
			Alpha: []int{3, 1, 2},
			Empty: map[string]any{},
			None:  []string{},
			Deep: map[string]any{
				"b": []any{map[string]any{}, []any{}, map[string]any{"y": []any{true, false, nil}}},
				"a": map[string]string{"k": "v"},
			},
		},
		Parameters: map[string]int{"b": 1, "B": 2, "a1": 3, "a": 4, "\u00e9": 5, "z": 6, "": 7},
		Items:      []any{"x", 1, 2.25, map[string][]int{"q": {}}},
	}
}

// TestMarshalGolden checks Marshal byte for byte against Python's
// json.dumps of the same sample (testdata/gen_golden.py wrote the files).
func TestMarshalGolden(t *testing.T) {
	for _, tc := range []struct {
		file    string
		marshal func(any) (string, error)
	}{
		{"testdata/sample.json", Marshal},
		{"testdata/sample_ascii.json", MarshalASCII},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want, err := os.ReadFile(tc.file)
			assert.NilError(t, err)
			got, err := tc.marshal(newGoldenSample())
			assert.NilError(t, err)
			assert.Equal(t, got, string(want))
		})
	}
}

func TestMarshalScalarsAndEmpty(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, "null"},
		{true, "true"},
		{"é", `"é"`},
		{int64(-7), "-7"},
		{1.0, "1.0"}, // a float64 stays a float for Python (encoding/json would write 1)
		{float32(0.1), "0.1"},
		{int(1), "1"},
		{json.Number("1.0"), "1.0"},
		{json.Number("-0"), "0"},
		{json.Number("-0.0"), "-0.0"},
		{json.Number("1E+2"), "100.0"},
		{json.Number("123456789012345678901234567890"), "123456789012345678901234567890"},
		{map[string]any{}, "{}"},
		{[]int{}, "[]"},
		{map[string]any{"a": map[string]any{}}, "{\n  \"a\": {}\n}"},
		{"<&>\u2028", "\"<&>\u2028\""}, // no HTML escaping, unlike encoding/json
	}
	for _, c := range cases {
		got, err := Marshal(c.in)
		assert.NilError(t, err, "%#v", c.in)
		assert.Equal(t, got, c.want, "%#v", c.in)
	}
	_, err := Marshal(json.Number("1e400"))
	assert.ErrorContains(t, err, "out of the range")
	_, err = Marshal(make(chan int))
	assert.ErrorContains(t, err, "chan int")
}

func TestMarshalASCIIEscapes(t *testing.T) {
	got, err := MarshalASCII("é\u007f\U0001F600\u2028")
	assert.NilError(t, err)
	assert.Equal(t, got, `"\u00e9\u007f\ud83d\ude00\u2028"`)
	got, err = Marshal("é\u007f\U0001F600")
	assert.NilError(t, err)
	assert.Equal(t, got, "\"é\u007f\U0001F600\"")
}

func TestPyFloatRepr(t *testing.T) {
	cases := map[float64]string{
		0:         "0.0",
		1:         "1.0",
		-2.5:      "-2.5",
		0.1:       "0.1",
		1e-4:      "0.0001",
		1e-5:      "1e-05",
		1.5e-7:    "1.5e-07",
		1e15:      "1000000000000000.0",
		1e16:      "1e+16",
		1.25e16:   "1.25e+16",
		1e100:     "1e+100",
		123.456:   "123.456",
		1 / 3.0:   "0.3333333333333333",
		5e-324:    "5e-324",
		math.Pi:   "3.141592653589793",
		-1e22:     "-1e+22",
		2.5e-5:    "2.5e-05",
		99999.999: "99999.999",
	}
	for f, want := range cases {
		assert.Equal(t, pyFloatRepr(f), want, "%v", f)
	}
	assert.Equal(t, pyFloatRepr(math.Copysign(0, -1)), "-0.0")
}

// TestMarshalMatchesPython feeds random values through Python's json
// module and checks that Marshal's output is its fixed point: what Python
// writes after reading it is the same bytes. It needs python3.
func TestMarshalMatchesPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: cannot compare with Python's json module")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var docs []string
	var asciiDocs []string
	for i := 0; i < 200; i++ {
		v := randomValue(r, 3)
		s, err := Marshal(v)
		assert.NilError(t, err)
		docs = append(docs, s)
		a, err := MarshalASCII(v)
		assert.NilError(t, err)
		asciiDocs = append(asciiDocs, a)
	}
	input, err := json.Marshal(map[string][]string{"utf8": docs, "ascii": asciiDocs})
	assert.NilError(t, err)
	script := `
import json, sys
d = json.load(sys.stdin)
out = {
  "utf8": [json.dumps(json.loads(s), ensure_ascii=False, indent=2, separators=(",", ": "), sort_keys=True) for s in d["utf8"]],
  "ascii": [json.dumps(json.loads(s), indent=2, sort_keys=True) for s in d["ascii"]],
}
json.dump(out, sys.stdout)
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(input))
	outBytes, err := cmd.Output()
	assert.NilError(t, err)
	var out map[string][]string
	assert.NilError(t, json.Unmarshal(outBytes, &out))
	for i := range docs {
		assert.Equal(t, out["utf8"][i], docs[i], "document %d", i)
		assert.Equal(t, out["ascii"][i], asciiDocs[i], "ascii document %d", i)
	}
}

// randomValue returns a random JSON-able value nested up to depth levels.
func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(9)
	if depth == 0 && k >= 7 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.Int64() - r.Int64()
	case 3: // floats across the whole range, both notations
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(40)-20))
	case 4:
		return math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(0x7fe)+1)<<52)
	case 5, 6:
		return randomString(r)
	case 7:
		n := r.IntN(4)
		l := make([]any, n)
		for i := range l {
			l[i] = randomValue(r, depth-1)
		}
		return l
	default:
		n := r.IntN(4)
		m := make(map[string]any, n)
		for i := 0; i < n; i++ {
			m[randomString(r)] = randomValue(r, depth-1)
		}
		return m
	}
}

func randomString(r *rand.Rand) string {
	alphabet := []rune("aZ09 \"\\/\n\t\x00\x1f\x7fé日\u2028\U0001F600<&>")
	n := r.IntN(6)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}
