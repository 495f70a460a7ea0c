// Command genbreach builds the breached-password asset embedded by package
// strength (internal/strength/breached.bin.gz) from a plain password list.
//
// Usage (from the repository root; see internal/strength/README.md for how to
// obtain the list):
//
//	go run ./internal/strength/internal/genbreach \
//	    -in /tmp/pb/package/data/passwords.txt.gz \
//	    -out internal/strength/breached.bin.gz
//
// The input is one password per line, optionally gzip-compressed (detected by
// its magic bytes). A trailing "\r" (a CRLF line ending left over in the source
// lists) is removed and empty lines are skipped; every other byte is kept, so
// entries stay exact and case-sensitive.
//
// Each password is reduced to the first 8 bytes of its SHA-256, read as a
// big-endian uint64. The hashes are sorted and de-duplicated, then written as
// a gzip stream holding:
//
//	magic  "latchbr1" (8 bytes)
//	count  uint32, big-endian
//	planes 8 byte-planes of count bytes each: plane b holds byte b (most
//	       significant first) of delta[i] = hash[i] - hash[i-1] (hash[-1] = 0)
//
// Delta-encoding the sorted hashes and splitting them into byte-planes lets
// gzip squeeze out the mostly-zero high bytes of the deltas: about 5.9 bytes
// per entry instead of 7.7 for gzip over the plain sorted array, which is
// close to the information-theoretic minimum for a set of random 64-bit keys.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
)

// Magic starts the decompressed asset; package strength checks it.
const Magic = "latchbr1"

func main() {
	in := flag.String("in", "", "password list: one per line, plain text or gzip")
	out := flag.String("out", "internal/strength/breached.bin.gz", "asset to write")
	flag.Parse()
	if *in == "" {
		flag.Usage()
		os.Exit(2)
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	lines, hashes, err := hashList(raw)
	if err != nil {
		log.Fatal(err)
	}
	asset, err := encode(hashes)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, asset, 0o644); err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	fmt.Printf("input %s (sha256 %x): %d non-empty lines, %d distinct entries\n", *in, sum, lines, len(hashes))
	fmt.Printf("wrote %s: %d bytes (%d bytes decompressed)\n", *out, len(asset), len(Magic)+4+8*len(hashes))
}

// hashList returns the number of non-empty lines and the sorted, distinct
// truncated hashes of the list in raw.
func hashList(raw []byte) (int, []uint64, error) {
	var r io.Reader = bytes.NewReader(raw)
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return 0, nil, err
		}
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var hashes []uint64
	lines := 0
	for sc.Scan() {
		// bufio.ScanLines has already dropped a "\r" before the "\n".
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		lines++
		sum := sha256.Sum256(line)
		hashes = append(hashes, binary.BigEndian.Uint64(sum[:8]))
	}
	if err := sc.Err(); err != nil {
		return 0, nil, err
	}
	slices.Sort(hashes)
	return lines, slices.Compact(hashes), nil
}

func encode(hashes []uint64) ([]byte, error) {
	n := len(hashes)
	body := make([]byte, 0, len(Magic)+4+8*n)
	body = append(body, Magic...)
	body = binary.BigEndian.AppendUint32(body, uint32(n))
	planes := make([]byte, 8*n)
	var prev uint64
	for i, h := range hashes {
		d := h - prev
		prev = h
		for b := range 8 {
			planes[b*n+i] = byte(d >> (56 - 8*b))
		}
	}
	body = append(body, planes...)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// A fixed header (no name, zero mtime) keeps the output reproducible.
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
