// Package ziptest builds zip archives for tests of code that reads
// untrusted artifacts: ordinary entries, and hostile ones (symlinks,
// climbing paths, headers that lie about their size).
package ziptest

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"io/fs"
	"testing"
)

// Entry describes one entry of a test archive. Raw entries are written
// stored, with Claimed as the size their header states.
type Entry struct {
	Name    string
	Data    string
	Mode    fs.FileMode
	Raw     bool
	Claimed uint64
}

// Make returns a zip of entries, in order.
func Make(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Mode != 0 {
			h.SetMode(e.Mode)
		}
		if e.Raw {
			h.Method = zip.Store
			h.CRC32 = crc32.ChecksumIEEE([]byte(e.Data))
			h.CompressedSize64 = uint64(len(e.Data))
			h.UncompressedSize64 = e.Claimed
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.Data))
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.Data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
