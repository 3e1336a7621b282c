package backend

import (
	"errors"
	"testing"
)

func TestValidatePath(t *testing.T) {
	// Every path ska-sdp-config can write is readable.
	good := []string{"/a", "/pb/x", "/a/b/c-d_e.f", "/é", "/subarray/sub 01", "/pb/a%b", "/pb/50%", "/x:y", "/a\n"}
	for _, p := range good {
		if err := ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", p, err)
		}
	}
	bad := []string{"", "a", "/", "/a/", "//a", "/a//b", "/\xff"}
	for _, p := range bad {
		err := ValidatePath(p)
		if !errors.Is(err, ErrInvalidPath) {
			t.Errorf("ValidatePath(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
}

func TestValidateWritePath(t *testing.T) {
	for _, p := range []string{"/a", "/subarray/sub 01", "/pb/a%b", "/pb/\u00a0"} {
		if err := ValidateWritePath(p); err != nil {
			t.Errorf("ValidateWritePath(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", "/a/", "/a\n", "/a\tb", "/a\x00", "/a\x7f", "/a\u0085"} {
		if err := ValidateWritePath(p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("ValidateWritePath(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"/", "/pb/", "/pb", "/pb/x"} {
		if err := ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "pb", "//", "/a//"} {
		if err := ValidatePrefix(p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
}

func TestEncodeDecodeKey(t *testing.T) {
	cases := map[string]string{"/pb/x": "2/pb/x", "/a": "1/a", "/a/b/c/d/e/f/g/h/i/j": "10/a/b/c/d/e/f/g/h/i/j"}
	for path, key := range cases {
		if got := EncodeKey(path); got != key {
			t.Errorf("EncodeKey(%q) = %q, want %q", path, got, key)
		}
		back, err := DecodeKey(key)
		if err != nil || back != path {
			t.Errorf("DecodeKey(%q) = %q, %v", key, back, err)
		}
	}
	if got := EncodeKeyAt("/pb/", 3); got != "3/pb/" {
		t.Errorf("EncodeKeyAt = %q", got)
	}
	for _, key := range []string{"", "/a", "x/a", "3/a", "-1/a"} {
		if _, err := DecodeKey(key); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("DecodeKey(%q) = %v, want ErrInvalidPath", key, err)
		}
	}
}

func TestEscapeSegment(t *testing.T) {
	cases := map[string]string{
		"10.0.0.1/24": "10.0.0.1%2F24",
		"a%b":         "a%b",     // verbatim, as Python stores it
		"a%2Fb":       "a%252Fb", // a "%" that would read as an escape
		"plain":       "plain",
		"":            "%-",
		"%-":          "%25-",
		"a b":         "a b", // ska-sdp-config's "sub 01"
		"line\nbreak": "line%0Abreak",
		"50%":         "50%",
	}
	for in, want := range cases {
		got := EscapeSegment(in)
		if got != want {
			t.Errorf("EscapeSegment(%q) = %q, want %q", in, got, want)
		}
		if err := ValidatePath("/" + got); err != nil {
			t.Errorf("escaped %q is not a valid segment: %v", in, err)
		}
		back, err := UnescapeSegment(got)
		if err != nil || back != in {
			t.Errorf("UnescapeSegment(%q) = %q, %v, want %q", got, back, err, in)
		}
	}
	// Segments other programs wrote are read as they are.
	for _, s := range []string{"%", "%2", "%zz", "%FF", "a%", "sub 01"} {
		if got, err := UnescapeSegment(s); err != nil || got != s {
			t.Errorf("UnescapeSegment(%q) = %q, %v, want it unchanged", s, got, err)
		}
	}
	for _, bad := range []string{"", "a/b"} {
		if _, err := UnescapeSegment(bad); err == nil {
			t.Errorf("UnescapeSegment(%q) succeeded", bad)
		}
	}
}

func TestRangeContains(t *testing.T) {
	r := PrefixAt("/pb/", 3)
	if !r.Contains("/pb/a/b") || r.Contains("/pb/a") || r.Contains("/pbx/a/b") {
		t.Error("PrefixAt(/pb/, 3) selects the wrong keys")
	}
	if k := Key("/a"); !k.Contains("/a") || k.Contains("/a/b") {
		t.Error("Key(/a) selects the wrong keys")
	}
	if d := PrefixAt("/pb", 0).KeyDepth(); d != 1 {
		t.Errorf("KeyDepth = %d, want 1", d)
	}
	if err := PrefixAt("/a/b/", 1).Validate(); !errors.Is(err, ErrInvalidPath) {
		t.Errorf("depth above prefix: %v", err)
	}
}

func TestWrapPath(t *testing.T) {
	err := WrapPath("get", "/a", ErrNotFound)
	if !errors.Is(err, ErrNotFound) || err.Error() != `get "/a": sdpconfig: key not found` {
		t.Errorf("WrapPath = %v", err)
	}
	if WrapPath("get", "/a", nil) != nil {
		t.Error("WrapPath(nil) != nil")
	}
	if again := WrapPath("list", "/b", err); again != err {
		t.Error("WrapPath rewrapped a PathError")
	}
}

func TestCompareHolds(t *testing.T) {
	kv := KeyValue{ModRevision: 7, CreateRevision: 3, Version: 2}
	cases := []struct {
		c    Compare
		want bool
	}{
		{Compare{Target: ModRevision, Op: Equal, Value: 7}, true},
		{Compare{Target: ModRevision, Op: NotEqual, Value: 7}, false},
		{Compare{Target: CreateRevision, Op: Less, Value: 4}, true},
		{Compare{Target: CreateRevision, Op: Less, Value: 3}, false},
		{Compare{Target: Version, Op: Greater, Value: 1}, true},
		{Compare{Target: Version, Op: Greater, Value: 2}, false},
	}
	for _, tc := range cases {
		if got := tc.c.Holds(kv); got != tc.want {
			t.Errorf("%+v.Holds(%+v) = %v, want %v", tc.c, kv, got, tc.want)
		}
	}
	if !(Compare{Target: Version, Op: Equal, Value: 0}).Holds(KeyValue{}) {
		t.Error("a missing key does not compare as zeros")
	}
}

func TestTxnFirstPath(t *testing.T) {
	cmp := Compare{Range: Key("/c"), Target: Version, Op: Equal}
	if p := (Txn{If: []Compare{cmp}, Then: []Op{Put("/t", "v", NoLease)}}).FirstPath(); p != "/c" {
		t.Errorf("FirstPath = %q", p)
	}
}

func TestTxnFirstPathBranches(t *testing.T) {
	if p := (Txn{Then: []Op{Put("/t", "v", NoLease)}}).FirstPath(); p != "/t" {
		t.Errorf("FirstPath = %q, want /t", p)
	}
	if p := (Txn{Else: []Op{Delete(Key("/e"))}}).FirstPath(); p != "/e" {
		t.Errorf("FirstPath = %q, want /e", p)
	}
	if p := (Txn{}).FirstPath(); p != "" {
		t.Errorf("FirstPath of an empty txn = %q", p)
	}
}
