package mirror

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// SealRecord returns body as the record of key, with its checksum.
func SealRecord(key, body string) string {
	return string(binary.BigEndian.AppendUint32(nil, recordChecksum([]byte(key), []byte(body)))) + body
}

// SealMeta records n keys in a hand-made meta bucket and its checksum.
func SealMeta(meta *bolt.Bucket, n int) error { return putCount(meta, int64(n)) }
