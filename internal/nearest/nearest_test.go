package nearest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"gte", "get", 2}, {"", "ls", 2}, {"delete", "delete", 0}, {"nmae", "name", 2}, {"prent", "parent", 1}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestName(t *testing.T) {
	if n, ok := Name("upgrade_alowed", []string{"name", "upgrade_allowed"}, 3); !ok || n != "upgrade_allowed" {
		t.Errorf("Name = %q, %v", n, ok)
	}
	if _, ok := Name("zzzz", []string{"name"}, 3); ok {
		t.Error("a far name was suggested")
	}
}
