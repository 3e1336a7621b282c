package mirror

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// damageKeys is the size of the state file TestStateFileDamage damages:
// enough for branch pages and overflow.
const damageKeys = 2000

// damageFile returns a state file of damageKeys keys under "/pb/", and
// the state it holds.
func damageFile(t *testing.T) ([]byte, *state) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed.db")
	sf, err := createStateFile(path, "/pb/")
	if err != nil {
		t.Fatal(err)
	}
	var batch []change
	for i := range damageKeys {
		e := entry{value: fmt.Sprintf(`{"n": %d}`, i), create: int64(i + 2), mod: int64(i + 2), version: 1}
		batch = append(batch, change{path: fmt.Sprintf("/pb/k%05d", i), e: e})
		if len(batch) == 500 {
			if err := sf.commit(batch, int64(i+2), listMark{}); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	// Two commits of the same cookie: the older meta page, which bbolt
	// falls back to when the newer one is damaged, holds the same state.
	for range 2 {
		if err := sf.commit(nil, damageKeys+1, listMark{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sf.close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sf, st, err := openStateFile(path, "/pb/", false)
	if err != nil {
		t.Fatal(err)
	}
	sf.close()
	return data, st
}

// openDamaged writes data to a file and opens it as a state file. A file
// refused must be refused with ErrStateCorrupt (or ErrStateMismatch, for
// a damaged format or prefix) and left as it was; a file accepted must
// hold exactly want.
func openDamaged(t *testing.T, name string, data []byte, want *state) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sf, st, err := openStateFile(path, "/pb/", false)
	if err != nil {
		if !errors.Is(err, ErrStateCorrupt) && !errors.Is(err, ErrStateMismatch) {
			t.Errorf("%s: refused with an error that is not ErrStateCorrupt: %v", name, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
			t.Errorf("%s: a refused file was changed", name)
		}
		return err
	}
	sf.close()
	if st.rev != want.rev || !maps.Equal(st.keys, want.keys) {
		t.Errorf("%s: accepted with other values: cookie %d (want %d), %d keys (want %d)", name, st.rev, want.rev, len(st.keys), len(want.keys))
	}
	return nil
}

// TestStateFileDamage damages a state file of 2,000 keys in every way the
// trials found, and others: every damaged file is refused with
// ErrStateCorrupt, or accepted with exactly the values it held; none
// crashes or hangs the reader.
func TestStateFileDamage(t *testing.T) {
	data, want := damageFile(t)
	pageSize := int64(binary.LittleEndian.Uint32(data[pageHeaderSize+8:]))

	for _, n := range []int{0, 1, 4095, 4096, 4097, 8191, 8192, len(data) / 2, len(data) - int(pageSize), len(data) - 1} {
		name := fmt.Sprintf("truncated to %d bytes", n)
		if n == 0 {
			continue // an empty file: TestMirrorCorruptStateFile
		}
		// Past the pages in use (bbolt grows its file ahead), a cut is
		// harmless: openDamaged checks the values then.
		err := openDamaged(t, name, data[:n], want)
		if n <= len(data)/2 && !errors.Is(err, ErrStateCorrupt) {
			t.Errorf("%s: %v, want ErrStateCorrupt", name, err)
		}
	}

	// Bit flips spread over the whole file, header bytes and values alike.
	accepted, refused := 0, 0
	step := max(1, len(data)/1500)
	for off := 0; off < len(data); off += step {
		d := bytes.Clone(data)
		d[off] ^= 1 << (off % 8)
		if openDamaged(t, fmt.Sprintf("bit %d of byte %d flipped", off%8, off), d, want) == nil {
			accepted++
		} else {
			refused++
		}
	}
	t.Logf("bit flips: %d refused, %d accepted with the right values (unused bytes)", refused, accepted)

	// A branch page whose first child is itself: bbolt would loop.
	pages := int64(len(data)) / pageSize
	branches := 0
	for id := int64(2); id < pages; id++ {
		off := id * pageSize
		if binary.LittleEndian.Uint64(data[off:]) != uint64(id) || binary.LittleEndian.Uint16(data[off+8:]) != branchFlag {
			continue
		}
		d := bytes.Clone(data)
		binary.LittleEndian.PutUint64(d[off+pageHeaderSize+8:], uint64(id))
		name := fmt.Sprintf("branch page %d pointing at itself", id)
		if err := openDamaged(t, name, d, want); !errors.Is(err, ErrStateCorrupt) {
			t.Errorf("%s: %v, want ErrStateCorrupt", name, err)
		}
		branches++
	}
	if branches == 0 {
		t.Fatal("the state file has no branch page to damage")
	}

	// A freelist claiming more ids than its page holds.
	m, err := pickMeta(data)
	if err != nil {
		t.Fatal(err)
	}
	free := binary.LittleEndian.Uint64(data[int64(0)+pageHeaderSize+32:])
	if m1, _ := readMeta(data, pageSize); m1.txn == m.txn {
		free = binary.LittleEndian.Uint64(data[pageSize+pageHeaderSize+32:])
	}
	if int64(free) < pages {
		d := bytes.Clone(data)
		binary.LittleEndian.PutUint16(d[int64(free)*pageSize+10:], 0xfffe)
		if err := openDamaged(t, "freelist claiming 65,534 ids", d, want); !errors.Is(err, ErrStateCorrupt) {
			t.Errorf("bad freelist: %v, want ErrStateCorrupt", err)
		}
	}
}
