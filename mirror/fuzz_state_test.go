package mirror

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
)

// fuzzKey is the key FuzzDecodeEntry's records are checked under.
const fuzzKey = "/pb/a"

// FuzzDecodeEntry checks the decoding of one key record of a Mirror state
// file on any bytes: nothing panics, and a record that decodes encodes to
// one that decodes to the same entry.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(fuzzKey, entry{value: `{"a": 1}`, create: 3, mod: 7, version: 2, lease: 42}))
	f.Add(encodeEntry(fuzzKey, entry{value: "", create: 1, mod: 1, version: 1}))
	f.Add(encodeEntry(fuzzKey, entry{value: "é\xff", create: 1 << 40, mod: 1 << 41, version: 9, lease: -1}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{1, 1, 1, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry([]byte(fuzzKey), b)
		if err != nil {
			return
		}
		back, err := decodeEntry([]byte(fuzzKey), encodeEntry(fuzzKey, e))
		if err != nil || back != e {
			t.Fatalf("entry %+v encodes to a record that decodes to %+v, %v", e, back, err)
		}
	})
}

// stateFileSeed returns the bytes of a valid state file for prefix "/pb/"
// with a cookie and a few keys.
func stateFileSeed(f *testing.F) []byte {
	path := filepath.Join(f.TempDir(), "seed.db")
	sf, err := createStateFile(path, "/pb/")
	if err != nil {
		f.Fatal(err)
	}
	err = sf.commit([]change{
		{path: "/pb/a", e: entry{value: "1", create: 2, mod: 2, version: 1}},
		{path: "/pb/b/c", e: entry{value: `{"x": "é"}`, create: 3, mod: 5, version: 3, lease: 7}},
	}, 5, listMark{})
	if cerr := sf.close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzStateFile checks the Mirror's state file reader on any file content:
// it never panics or crashes (a damaged bbolt file must become
// ErrStateCorrupt, even when bbolt itself panics), refuses what it cannot
// use with one of its errors, and what it accepts holds only valid paths
// under the prefix.
func FuzzStateFile(f *testing.F) {
	seed := stateFileSeed(f)
	f.Add(seed)
	f.Add(seed[:4096])
	f.Add(seed[:len(seed)/2])
	f.Add([]byte("not a database"))
	damaged := append([]byte(nil), seed...)
	for i := 4096; i < len(damaged); i += 97 {
		damaged[i] ^= 0x5a
	}
	f.Add(damaged)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "state.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sf, st, err := openStateFile(path, "/pb/", false)
		if err != nil {
			if !errors.Is(err, ErrStateCorrupt) && !errors.Is(err, ErrStateMismatch) && !errors.Is(err, ErrStateLocked) {
				// bbolt's own I/O errors on a short file are wrapped as is.
				if !strings.Contains(err.Error(), "state file") {
					t.Fatalf("unexpected error: %v", err)
				}
			}
			return
		}
		defer sf.close()
		for p := range st.keys {
			if backend.ValidatePath(p) != nil || !strings.HasPrefix(p, "/pb/") {
				t.Fatalf("accepted key %q", p)
			}
		}
		if st.rev < 0 {
			t.Fatalf("accepted cookie %d", st.rev)
		}
	})
}
