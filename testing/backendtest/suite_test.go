package backendtest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/sdpconfig/sdpconfig/backend"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestCaseNames checks that every subtest has a unique name, so that
// go test -run selects exactly one.
func TestCaseNames(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range areas() {
		if len(a.cases) == 0 {
			t.Errorf("area %s has no cases", a.name)
		}
		for _, c := range a.cases {
			name := a.name + "/" + c.name
			if seen[name] || c.run == nil {
				t.Errorf("case %s is duplicated or has no function", name)
			}
			seen[name] = true
		}
	}
}

func TestNamesPath(t *testing.T) {
	cases := []struct {
		msg, path string
		want      bool
	}{
		{`get "/pb/x": sdpconfig: key not found`, "/pb/x", true},
		{`validate "/pb\n": sdpconfig: invalid path`, "/pb\n", true},
		{`validate "/pb/\xff": sdpconfig: invalid path`, "/pb/\xff", true},
		{`sdpconfig: key not found`, "/pb/x", false},
	}
	for _, c := range cases {
		if got := namesPath(c.msg, c.path); got != c.want {
			t.Errorf("namesPath(%q, %q) = %v, want %v", c.msg, c.path, got, c.want)
		}
	}
}

func TestEventEqual(t *testing.T) {
	kv := backend.KeyValue{Path: "/a", Value: "v", CreateRevision: 2, ModRevision: 3, Version: 2}
	prev := kv
	prev.Value, prev.ModRevision, prev.Version = "u", 2, 1
	e := putEvent(kv, ptr(prev))
	if !eventEqual(e, putEvent(kv, ptr(prev))) {
		t.Error("equal events compare unequal")
	}
	for name, other := range map[string]backend.Event{
		"no prev":    putEvent(kv, nil),
		"other prev": putEvent(kv, ptr(kv)),
		"delete":     deleteEvent(prev, 3),
	} {
		if eventEqual(e, other) {
			t.Errorf("event equals the one with %s", name)
		}
	}
	d := deleteEvent(kv, 4)
	if d.KV != (backend.KeyValue{Path: "/a", ModRevision: 4}) || d.Prev == nil || *d.Prev != kv {
		t.Errorf("deleteEvent = %s", fmtEvent(d))
	}
}
