package mirror

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sdpconfig/sdpconfig/backend"
)

// StateFormat is the version of the state file layout this package writes
// and reads. A file of another version is refused (ErrStateMismatch) or,
// with MirrorOptions.WipeOnMismatch, wiped.
//
// Format 2 added checksums: each record carries a CRC-32C of its key and
// bytes, and the meta bucket a CRC-32C of its entries, which include the
// number of keys.
const StateFormat = 2

// stateKind marks a bbolt file as a mirror state file.
const stateKind = "sdpconfig/watcher.Mirror"

// stateLockTimeout bounds the wait for the lock of a state file that another
// process (or another Mirror) holds.
const stateLockTimeout = 2 * time.Second

var (
	bucketMeta = []byte("meta")
	bucketKeys = []byte("keys")

	metaKind   = []byte("kind")
	metaFormat = []byte("format")
	metaPrefix = []byte("prefix")
	metaCookie = []byte("cookie")
	metaCount  = []byte("count") // the number of records in the keys bucket
	// metaListing marks a refresh under way: "<revision>:<last path>",
	// the revision it lists at and the last path of its last page written.
	metaListing = []byte("listing")
	metaSum     = []byte("sum") // CRC-32C of every other meta entry

	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// Errors of the state file.
var (
	// ErrStateMismatch is returned by NewMirror when the state file was
	// written for another prefix or in another format version, and the
	// options do not ask to wipe it. The error is a *StateMismatchError.
	ErrStateMismatch = errors.New("mirror: mirror state file does not match")
	// ErrStateCorrupt is returned by NewMirror when the state file is not a
	// mirror state file, or is damaged. The file is left untouched.
	ErrStateCorrupt = errors.New("mirror: mirror state file is corrupt or foreign")
	// ErrStateLocked is returned by NewMirror when another process or Mirror
	// holds the state file.
	ErrStateLocked = errors.New("mirror: mirror state file is in use")
)

// StateMismatchError says how a state file differs from what a Mirror
// wants. It matches ErrStateMismatch with errors.Is.
type StateMismatchError struct {
	File         string // the state file
	StoredPrefix string // the prefix the file was written for
	StoredFormat int    // the format version of the file
	WantPrefix   string // the Mirror's prefix
	WantFormat   int    // StateFormat
}

// Error names the file and both prefixes and versions.
func (e *StateMismatchError) Error() string {
	return fmt.Sprintf("mirror: mirror state file %q holds prefix %q in format %d, want prefix %q in format %d (remove the file or set WipeOnMismatch)",
		e.File, e.StoredPrefix, e.StoredFormat, e.WantPrefix, e.WantFormat)
}

// Is reports whether target is ErrStateMismatch.
func (e *StateMismatchError) Is(target error) bool { return target == ErrStateMismatch }

// stateFile is the bbolt file a Mirror persists its keys and cookie in. Its
// invariant: the keys bucket holds what the Mirror's callbacks have been
// told; when a cookie is present, every change up to it has been told and
// recorded, and none after it except, when a callback failed, changes of
// the next revision that came before the failed one. Without a cookie (a
// refresh was under way) the keys are a mix of two revisions, and the next
// start refreshes. Every write is one bbolt transaction.
type stateFile struct {
	path string
	db   *bolt.DB
}

// change is one write to the state: a put of e, or a delete.
type change struct {
	path string
	e    entry
	del  bool
}

// listMark is where a refresh stopped: the revision it lists at and the
// last path of the last page it wrote (rev 0: none).
type listMark struct {
	rev   int64
	after string
}

// Cookie operations of stateFile.commit besides setting a revision.
const (
	keepCookie  int64 = 0
	clearCookie int64 = -1
)

// maxShown bounds the bytes of a stored field an error quotes: a damaged
// page can claim a field of hundreds of megabytes.
const maxShown = 256

// clip returns b as a string for an error message, cut to maxShown bytes.
func clip(b []byte) string {
	if len(b) > maxShown {
		return string(b[:maxShown]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

func corrupt(path, format string, args ...any) error {
	return fmt.Errorf("mirror: state file %q: %w: %s", path, ErrStateCorrupt, fmt.Sprintf(format, args...))
}

// openStateFile opens the state file at path for prefix, creating it if it
// does not exist, and returns it with the keys it holds (their revision is
// the stored cookie, 0 if none). A foreign or damaged file is refused and
// never written; a file for another prefix or format is refused, or wiped if
// wipe is set.
func openStateFile(path, prefix string, wipe bool) (*stateFile, *state, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		f, err := createStateFile(path, prefix)
		return f, newState(), err
	case err != nil:
		return nil, nil, fmt.Errorf("mirror: state file %q: %w", path, err)
	case !fi.Mode().IsRegular():
		return nil, nil, corrupt(path, "not a regular file")
	case fi.Size() == 0:
		return nil, nil, corrupt(path, "empty file")
	}
	st, err := readStateFile(path, prefix)
	var mm *StateMismatchError
	if errors.As(err, &mm) && wipe {
		f, err := wipeStateFile(path, prefix)
		return f, newState(), err
	}
	if err != nil {
		return nil, nil, err
	}
	db, err := openBolt(path, false)
	if err != nil {
		return nil, nil, err
	}
	return &stateFile{path: path, db: db}, st, nil
}

func openBolt(path string, readOnly bool) (*bolt.DB, error) {
	// Read-only opens preload the freelist so that a damaged one shows up
	// here, on the caller's goroutine, not in bbolt's Check goroutine.
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: readOnly, Timeout: stateLockTimeout, PreLoadFreelist: true})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("mirror: state file %q: %w (another Mirror or process holds it)", path, ErrStateLocked)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrVersionMismatch), errors.Is(err, bolt.ErrChecksum):
		return nil, corrupt(path, "not a bbolt database: %v", err)
	case err != nil:
		return nil, fmt.Errorf("mirror: state file %q: %w", path, err)
	}
	return db, nil
}

func createStateFile(path, prefix string) (*stateFile, error) {
	db, err := openBolt(path, false)
	if err != nil {
		return nil, err
	}
	if err := db.Update(func(tx *bolt.Tx) error { return initState(tx, prefix) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("mirror: state file %q: %w", path, err)
	}
	return &stateFile{path: path, db: db}, nil
}

func initState(tx *bolt.Tx, prefix string) error {
	meta, err := tx.CreateBucket(bucketMeta)
	if err != nil {
		return err
	}
	if _, err := tx.CreateBucket(bucketKeys); err != nil {
		return err
	}
	for k, v := range map[string]string{
		string(metaKind):   stateKind,
		string(metaFormat): strconv.Itoa(StateFormat),
		string(metaPrefix): prefix,
	} {
		if err := meta.Put([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	return putCount(meta, 0)
}

// putCount records the number of keys and seals the meta bucket with its
// checksum. Every write of the meta bucket ends with it.
func putCount(meta *bolt.Bucket, n int64) error {
	if err := meta.Put(metaCount, strconv.AppendInt(nil, n, 10)); err != nil {
		return err
	}
	return meta.Put(metaSum, binary.BigEndian.AppendUint32(nil, metaChecksum(meta)))
}

// metaChecksum returns the CRC-32C of the meta bucket's entries but the
// checksum itself, each as its key's and value's lengths and bytes.
func metaChecksum(meta *bolt.Bucket) uint32 {
	h := crc32.New(castagnoli)
	c := meta.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if string(k) == string(metaSum) {
			continue
		}
		h.Write(binary.AppendUvarint(nil, uint64(len(k))))
		h.Write(k)
		h.Write(binary.AppendUvarint(nil, uint64(len(v))))
		h.Write(v)
	}
	return h.Sum32()
}

// wipeStateFile replaces the content of a valid state file of another
// prefix or format by an empty state, in one transaction.
func wipeStateFile(path, prefix string) (*stateFile, error) {
	db, err := openBolt(path, false)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var names [][]byte
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, append([]byte(nil), name...))
			return nil
		}); err != nil {
			return err
		}
		for _, n := range names {
			if err := tx.DeleteBucket(n); err != nil {
				return err
			}
		}
		return initState(tx, prefix)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("mirror: wiping state file %q: %w", path, err)
	}
	return &stateFile{path: path, db: db}, nil
}

// readStateFile checks the file read-only and returns its keys. A damaged
// bbolt file can make bbolt panic, fault on its mapped memory or loop on a
// page that points at itself, so the file's pages are walked in memory
// first (walkPages), before bbolt maps it; a panic or fault that gets past
// that becomes ErrStateCorrupt too. Then every record and the meta bucket
// are checked against their checksums, and bbolt's own Check, which runs
// on a goroutine of its own, reads only pages already proven readable.
func readStateFile(path, prefix string) (st *state, err error) {
	if err := walkPages(path); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			st, err = nil, corrupt(path, "damaged database: %v", r)
		}
	}()
	db, err := openBolt(path, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("mirror: state file %q: %w", path, cerr)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error {
		var err error
		if st, err = loadState(tx, path, prefix); err != nil {
			return err
		}
		if err := checkPageBounds(tx, path); err != nil {
			return err
		}
		for cerr := range tx.Check() {
			if err == nil {
				err = corrupt(path, "damaged database: %v", cerr)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// checkPageBounds refuses a file whose buckets claim more pages than the
// file holds: a damaged page header can claim billions of overflow pages,
// which bbolt's Check would then enumerate one by one, for minutes and
// gigabytes. Bucket.Stats only adds the counts up. (The root bucket's
// own page is counted too: Stats of the root covers it.)
func checkPageBounds(tx *bolt.Tx, path string) error {
	s := tx.Cursor().Bucket().Stats() // the root bucket, and every bucket in it
	if s.BranchAlloc < 0 || s.LeafAlloc < 0 || int64(s.BranchAlloc)+int64(s.LeafAlloc) > tx.Size() {
		return corrupt(path, "its buckets claim pages beyond the end of the file")
	}
	return checkFreelist(tx, path)
}

// checkFreelist refuses a file whose freelist page claims more pages, or
// more free page ids, than the file holds: neither is checksummed, and
// bbolt's Check enumerates them. It reads the page from the file itself,
// in bbolt's on-disk layout (a page header: id u64, flags u16, count u16,
// overflow u32; a meta page after it: magic, version, page size, flags
// u32 each, the root bucket (root u64, sequence u64), then the freelist
// page id u64, the page count u64 and the transaction id u64).
func checkFreelist(tx *bolt.Tx, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mirror: state file %q: %w", path, err)
	}
	defer f.Close()
	pageSize := int64(tx.DB().Info().PageSize)
	pages := tx.Size() / pageSize
	var freelist int64 = -1
	for m := int64(0); m < 2; m++ {
		var meta [16 + 56]byte
		if _, err := f.ReadAt(meta[:], m*pageSize); err != nil {
			return corrupt(path, "meta page %d: %v", m, err)
		}
		if int64(binary.LittleEndian.Uint64(meta[64:])) == int64(tx.ID()) {
			freelist = int64(binary.LittleEndian.Uint64(meta[48:]))
		}
	}
	const noFreelist = -1 // bbolt's PgidNoFreelist, 0xffff...
	if freelist == noFreelist {
		return nil
	}
	if freelist < 2 || freelist >= pages {
		return corrupt(path, "freelist page %d out of the file", freelist)
	}
	var hdr [24]byte
	if _, err := f.ReadAt(hdr[:], freelist*pageSize); err != nil {
		return corrupt(path, "freelist page %d: %v", freelist, err)
	}
	overflow := int64(binary.LittleEndian.Uint32(hdr[12:]))
	count := int64(binary.LittleEndian.Uint16(hdr[10:]))
	if count == 0xffff { // the real count is the first id slot
		count = int64(binary.LittleEndian.Uint64(hdr[16:])) + 1
	}
	if freelist+overflow >= pages || count < 0 || count > (overflow+1)*pageSize/8 {
		return corrupt(path, "the freelist claims pages beyond the end of the file")
	}
	return nil
}

func loadState(tx *bolt.Tx, path, prefix string) (*state, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil, corrupt(path, "no %q bucket: not a mirror state file", bucketMeta)
	}
	// Lengths are compared first: a damaged page can claim a value that
	// runs past the mapped file, and no byte of it beyond maxShown may be
	// read.
	if kind := meta.Get(metaKind); len(kind) != len(stateKind) || string(kind) != stateKind {
		return nil, corrupt(path, "kind %q, want %q: not a mirror state file", clip(kind), stateKind)
	}
	rawFormat := meta.Get(metaFormat)
	if len(rawFormat) > 20 {
		return nil, corrupt(path, "bad format version %q", clip(rawFormat))
	}
	format, err := strconv.Atoi(string(rawFormat))
	if err != nil {
		return nil, corrupt(path, "bad format version %q", rawFormat)
	}
	if format == StateFormat {
		if sum := meta.Get(metaSum); len(sum) != 4 || binary.BigEndian.Uint32(sum) != metaChecksum(meta) {
			return nil, corrupt(path, "the checksum of its meta bucket does not match")
		}
	}
	storedPrefix := meta.Get(metaPrefix)
	if storedPrefix == nil {
		return nil, corrupt(path, "no prefix")
	}
	if format != StateFormat || len(storedPrefix) != len(prefix) || string(storedPrefix) != prefix {
		return nil, &StateMismatchError{File: path, StoredPrefix: clip(storedPrefix), StoredFormat: format, WantPrefix: prefix, WantFormat: StateFormat}
	}
	var cookie int64
	if c := meta.Get(metaCookie); c != nil {
		if len(c) > 20 {
			return nil, corrupt(path, "bad cookie %q", clip(c))
		}
		cookie, err = strconv.ParseInt(string(c), 10, 64)
		if err != nil || cookie <= 0 {
			return nil, corrupt(path, "bad cookie %q", c)
		}
	}
	rawCount := meta.Get(metaCount)
	count, err := strconv.ParseInt(string(rawCount[:min(len(rawCount), 20)]), 10, 64)
	if err != nil || count < 0 || len(rawCount) > 20 {
		return nil, corrupt(path, "bad key count %q", clip(rawCount))
	}
	st := newState()
	keys := tx.Bucket(bucketKeys)
	if keys == nil {
		return nil, corrupt(path, "no %q bucket", bucketKeys)
	}
	var n int64
	err = keys.ForEach(func(k, v []byte) error {
		if len(k) > bolt.MaxKeySize {
			return corrupt(path, "key %q is too long", clip(k))
		}
		p := string(k)
		if backend.ValidatePath(p) != nil || !strings.HasPrefix(p, prefix) || backend.Depth(p) >= backend.Depth(prefix)+backend.MaxDepth {
			return corrupt(path, "key %q is not a path under prefix %q", clip(k), prefix)
		}
		if v == nil {
			return corrupt(path, "key %q is a bucket", clip(k))
		}
		if int64(len(v)) > tx.Size() {
			return corrupt(path, "key %q claims a value longer than the file", clip(k))
		}
		n++
		e, err := decodeEntry(k, v)
		if err != nil {
			return corrupt(path, "key %q: %v", p, err)
		}
		// Keys may be one revision ahead of the cookie: the changes of a
		// revision whose callbacks stopped half-way.
		if cookie != 0 && e.mod > cookie+1 {
			return corrupt(path, "key %q has mod revision %d after the cookie %d", p, e.mod, cookie)
		}
		st.put(p, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n != count {
		return nil, corrupt(path, "%d keys, but its meta bucket says %d", n, count)
	}
	if l := meta.Get(metaListing); l != nil && cookie == 0 {
		rev, after, ok := strings.Cut(string(l[:min(len(l), bolt.MaxKeySize+21)]), ":")
		r, err := strconv.ParseInt(rev, 10, 64)
		if !ok || err != nil || r <= 0 || !strings.HasPrefix(after, prefix) {
			return nil, corrupt(path, "bad listing mark %q", clip(l))
		}
		st.resume = listMark{rev: r, after: after}
	}
	st.rev = cookie
	return st, nil
}

// encodeEntry returns the record of e at path: a CRC-32C (big-endian) of
// path and of what follows, then uvarint mod, create, version, varint
// lease, then the value's bytes.
func encodeEntry(path string, e entry) []byte {
	b := make([]byte, 4, 4+4*binary.MaxVarintLen64+len(e.value))
	b = binary.AppendUvarint(b, uint64(e.mod))
	b = binary.AppendUvarint(b, uint64(e.create))
	b = binary.AppendUvarint(b, uint64(e.version))
	b = binary.AppendVarint(b, int64(e.lease))
	b = append(b, e.value...)
	binary.BigEndian.PutUint32(b, recordChecksum([]byte(path), b[4:]))
	return b
}

// recordChecksum is the CRC-32C of a record's key and body.
func recordChecksum(key, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, body)
}

// decodeEntry checks and decodes the record of key.
func decodeEntry(key, b []byte) (entry, error) {
	if len(b) < 4 || binary.BigEndian.Uint32(b) != recordChecksum(key, b[4:]) {
		return entry{}, errors.New("the record's checksum does not match")
	}
	b = b[4:]
	var nums [3]int64
	for i := range nums {
		u, n := binary.Uvarint(b)
		if n <= 0 || u > 1<<62 {
			return entry{}, errors.New("bad record header")
		}
		nums[i], b = int64(u), b[n:]
	}
	lease, n := binary.Varint(b)
	if n <= 0 {
		return entry{}, errors.New("bad record lease")
	}
	b = b[n:]
	e := entry{mod: nums[0], create: nums[1], version: nums[2], lease: backend.LeaseID(lease)}
	if e.create <= 0 || e.mod < e.create || e.version <= 0 {
		return entry{}, fmt.Errorf("bad revisions (create %d, mod %d, version %d)", e.create, e.mod, e.version)
	}
	e.value = string(b)
	return e, nil
}

// commit writes changes and, as cookie says (a revision, keepCookie or
// clearCookie), the cookie, in one transaction. A mark (rev > 0) records
// the refresh's progress; a cookie set ends it.
func (f *stateFile) commit(changes []change, cookie int64, mark listMark) error {
	if len(changes) == 0 && cookie == keepCookie && mark.rev == 0 {
		return nil
	}
	err := f.db.Update(func(tx *bolt.Tx) error {
		keys, meta := tx.Bucket(bucketKeys), tx.Bucket(bucketMeta)
		count, err := strconv.ParseInt(string(meta.Get(metaCount)), 10, 64)
		if err != nil {
			return fmt.Errorf("key count: %w", err)
		}
		for _, c := range changes {
			k := []byte(c.path)
			had := keys.Get(k) != nil
			if c.del {
				err = keys.Delete(k)
				if had {
					count--
				}
			} else {
				err = keys.Put(k, encodeEntry(c.path, c.e))
				if !had {
					count++
				}
			}
			if err != nil {
				return fmt.Errorf("%q: %w", c.path, err)
			}
		}
		switch {
		case cookie == clearCookie:
			err = meta.Delete(metaCookie)
		case cookie > 0:
			if err = meta.Put(metaCookie, strconv.AppendInt(nil, cookie, 10)); err == nil {
				err = meta.Delete(metaListing)
			}
		}
		if err == nil && mark.rev > 0 {
			err = meta.Put(metaListing, []byte(strconv.FormatInt(mark.rev, 10)+":"+mark.after))
		}
		if err != nil {
			return err
		}
		return putCount(meta, count)
	})
	if err != nil {
		return fmt.Errorf("mirror: writing state file %q: %w", f.path, err)
	}
	return nil
}

func (f *stateFile) close() error {
	if err := f.db.Close(); err != nil {
		return fmt.Errorf("mirror: closing state file %q: %w", f.path, err)
	}
	return nil
}
