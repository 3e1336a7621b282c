package etcd3

import "testing"

func TestProgressOrdered(t *testing.T) {
	for v, want := range map[string]bool{
		"3.4.23": false, "3.4.24": false, "3.4.25": true, "3.4.37": true,
		"3.5.7": false, "3.5.8": true, "3.5.21": true,
		"3.6.0": true, "3.7.0-rc.1": true, "v3.6.5": true,
		"3.3.27": false, "2.3.8": false, "4.0.0": true,
		"": false, "3.5": false, "x.y.z": false,
	} {
		if got := progressOrdered(v); got != want {
			t.Errorf("progressOrdered(%q) = %v, want %v", v, got, want)
		}
	}
}
