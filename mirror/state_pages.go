package mirror

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
)

// The on-disk layout of a bbolt file, as far as walkPages reads it. Every
// page starts with a header (id u64, flags u16, count u16, overflow u32);
// a meta page holds, after it: magic, version, page size, flags (u32
// each), the root bucket (root page u64, sequence u64), the freelist page
// u64, the page high-water mark u64, the transaction id u64 and an FNV-64a
// checksum of what precedes it. Branch elements are (pos u32, key size
// u32, child page u64), leaf elements (flags u32, pos u32, key size u32,
// value size u32), pos counting from the element itself. A bucket's value
// is its header (root page u64, sequence u64), followed, for an inline
// bucket (root 0), by its one page.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	pageHeaderSize  = 16
	elementSize     = 16
	bucketHeaderLen = 16
	metaLen         = 56 // the meta fields before the checksum
	branchFlag      = 0x01
	leafFlag        = 0x02
	freelistFlag    = 0x10
	bucketLeafFlag  = 0x01
	maxTreeDepth    = 64
)

// boltMeta is what walkPages needs of a meta page.
type boltMeta struct {
	pageSize                 int64
	root, freelist, hwm, txn uint64
}

// walkPages checks the bbolt file at path before bbolt maps it: a damaged
// file can make bbolt read past the end of its mapping (a fault that kills
// the process when it happens in bbolt's Check goroutine), or loop for
// ever on a page that points at itself. It reads the file into memory,
// takes the newest meta page whose checksum holds, as bbolt does, and walks
// every page reachable from it, buckets included, with bounds on every
// offset and a set of the pages seen: a page reached twice, or out of the
// file, is damage. What passes is safe for bbolt to read.
func walkPages(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("mirror: state file %q: %w", path, err)
	}
	m, err := pickMeta(data)
	if err != nil {
		return corrupt(path, "%v", err)
	}
	pages := uint64(int64(len(data)) / m.pageSize)
	if m.hwm > pages {
		return corrupt(path, "it claims %d pages, the file holds %d (truncated?)", m.hwm, pages)
	}
	w := pageWalker{data: data, pageSize: m.pageSize, pages: m.hwm, seen: make(map[uint64]bool)}
	if err := w.page(m.root, 0); err != nil {
		return corrupt(path, "%v", err)
	}
	if err := w.freelist(m.freelist); err != nil {
		return corrupt(path, "%v", err)
	}
	return nil
}

// noFreelist is bbolt's page id for "no freelist page".
const noFreelist = ^uint64(0)

// freelist checks the freelist page: in the file, apart from the tree,
// and holding no more ids than it has room for (bbolt reads them all when
// it opens the file).
func (w *pageWalker) freelist(id uint64) error {
	if id == noFreelist {
		return nil
	}
	if id < 2 || id >= w.pages {
		return fmt.Errorf("freelist page %d is out of the file (%d pages)", id, w.pages)
	}
	off := int64(id) * w.pageSize
	le := binary.LittleEndian
	hdr := w.data[off:]
	overflow := uint64(le.Uint32(hdr[12:]))
	if le.Uint64(hdr) != id || le.Uint16(hdr[8:]) != freelistFlag || id+overflow >= w.pages {
		return fmt.Errorf("freelist page %d is damaged", id)
	}
	for p := id; p <= id+overflow; p++ {
		if w.seen[p] {
			return fmt.Errorf("page %d is both in the tree and the freelist", p)
		}
	}
	room := (int64(overflow+1)*w.pageSize - pageHeaderSize) / 8
	count := int64(le.Uint16(hdr[10:]))
	if count == 0xffff { // the real count is in the first id slot
		count = int64(min(le.Uint64(hdr[pageHeaderSize:]), 1<<62)) + 1
	}
	if count > room {
		return fmt.Errorf("freelist page %d claims %d ids, it has room for %d", id, count, room)
	}
	return nil
}

// pickMeta returns the newest valid meta page of a bbolt file.
func pickMeta(data []byte) (boltMeta, error) {
	var best boltMeta
	found := false
	// Meta page 0 is at the start; page 1 one page further, the page size
	// being page 0's if it is valid, else the usual 4 KiB.
	m0, ok0 := readMeta(data, 0)
	offsets := []int64{4096}
	if ok0 {
		best, found = m0, true
		offsets = []int64{m0.pageSize}
	}
	for _, off := range offsets {
		if m1, ok := readMeta(data, off); ok && (!found || m1.txn > best.txn) && (!found || m1.pageSize == best.pageSize) {
			best, found = m1, true
		}
	}
	if !found {
		return boltMeta{}, fmt.Errorf("no valid meta page: not a bbolt database, or truncated (%d bytes)", len(data))
	}
	return best, nil
}

// readMeta reads and checks the meta page at off.
func readMeta(data []byte, off int64) (boltMeta, bool) {
	if off < 0 || off+pageHeaderSize+metaLen+8 > int64(len(data)) {
		return boltMeta{}, false
	}
	b := data[off+pageHeaderSize:]
	le := binary.LittleEndian
	if le.Uint32(b) != boltMagic || le.Uint32(b[4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(b[:metaLen])
	if h.Sum64() != le.Uint64(b[metaLen:]) {
		return boltMeta{}, false
	}
	ps := int64(le.Uint32(b[8:]))
	if ps < 1024 || ps > 1<<16 || ps&(ps-1) != 0 {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: ps, root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]), hwm: le.Uint64(b[40:]), txn: le.Uint64(b[48:])}, true
}

// pageWalker walks a B+tree of pages in memory.
type pageWalker struct {
	data     []byte
	pageSize int64
	pages    uint64 // the high-water mark: no page id at or above it
	seen     map[uint64]bool
}

// page checks page id and every page below it.
func (w *pageWalker) page(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("the tree is deeper than %d levels at page %d", maxTreeDepth, id)
	}
	if id < 2 || id >= w.pages {
		return fmt.Errorf("page %d is out of the file (%d pages)", id, w.pages)
	}
	off := int64(id) * w.pageSize
	hdr := w.data[off : off+pageHeaderSize]
	le := binary.LittleEndian
	if le.Uint64(hdr) != id {
		return fmt.Errorf("page %d holds the header of page %d", id, le.Uint64(hdr))
	}
	overflow := uint64(le.Uint32(hdr[12:]))
	if id+overflow >= w.pages {
		return fmt.Errorf("page %d overflows past the end of the file", id)
	}
	for p := id; p <= id+overflow; p++ {
		if w.seen[p] {
			return fmt.Errorf("page %d is reached twice", p)
		}
		w.seen[p] = true
	}
	size := int64(overflow+1) * w.pageSize
	return w.elements(w.data[off:off+size], id, depth)
}

// elements checks the elements of one page p (its bytes, header first),
// following children and buckets.
func (w *pageWalker) elements(p []byte, id uint64, depth int) error {
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int64(le.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > int64(len(p)) {
		return fmt.Errorf("page %d claims %d elements, more than it holds", id, count)
	}
	for i := int64(0); i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at : at+elementSize]
		switch flags {
		case branchFlag:
			pos, ksize := int64(le.Uint32(e)), int64(le.Uint32(e[4:]))
			if at+pos+ksize > int64(len(p)) {
				return fmt.Errorf("page %d: element %d runs past the page", id, i)
			}
			if err := w.page(le.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		case leafFlag:
			eflags, pos := le.Uint32(e), int64(le.Uint32(e[4:]))
			ksize, vsize := int64(le.Uint32(e[8:])), int64(le.Uint32(e[12:]))
			start := at + pos + ksize
			if at+pos < at || start+vsize > int64(len(p)) {
				return fmt.Errorf("page %d: element %d runs past the page", id, i)
			}
			if eflags&bucketLeafFlag == 0 {
				continue
			}
			if err := w.bucket(p[start:start+vsize], id, depth); err != nil {
				return err
			}
		default:
			return fmt.Errorf("page %d has flags %#x where a branch or leaf page should be", id, flags)
		}
	}
	return nil
}

// bucket checks a bucket's value: its root page, or its inline page.
func (w *pageWalker) bucket(v []byte, id uint64, depth int) error {
	if len(v) < bucketHeaderLen {
		return fmt.Errorf("page %d: a bucket of %d bytes", id, len(v))
	}
	root := binary.LittleEndian.Uint64(v)
	if root != 0 {
		return w.page(root, depth+1)
	}
	inline := v[bucketHeaderLen:]
	if len(inline) < pageHeaderSize {
		return fmt.Errorf("page %d: an inline bucket of %d bytes", id, len(inline))
	}
	if depth+1 > maxTreeDepth {
		return fmt.Errorf("buckets nested deeper than %d levels at page %d", maxTreeDepth, id)
	}
	return w.elements(inline, id, depth+1)
}
