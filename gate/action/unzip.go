package action

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Artifact zips come from other workflow runs, and in the fork-safe path from
// a run of untrusted code: they are read with hard limits and nothing in them
// is trusted, least of all its paths.

// unzipLimits bound what an artifact zip may expand to.
type unzipLimits struct {
	Files int   // most entries
	Entry int64 // most bytes one entry may expand to
	Total int64 // most bytes all entries may expand to
}

// defaultUnzipLimits fit summaries and reports with a wide margin: a summary
// of a 400,000-kernel export is a few MiB.
func defaultUnzipLimits() unzipLimits {
	return unzipLimits{Files: 64, Entry: 64 << 20, Total: 256 << 20}
}

// zipFile is one regular file of an artifact, its name cleaned and relative.
type zipFile struct {
	Name string
	Data []byte
}

// ErrUnsafeZip marks an archive refused for its shape (paths, links, sizes),
// as opposed to one that could not be read. GitHub.DownloadArtifact wraps it
// for a zip over its limit.
var ErrUnsafeZip = errors.New("unsafe zip")

// unzip reads every regular file of the zip in data into memory, sorted by
// name. It refuses the whole archive, with ErrUnsafeZip, when an entry's path
// is absolute or climbs out with "..", when an entry is a symlink or other
// special file, or when a limit is exceeded; sizes are counted as bytes
// are actually inflated, never taken from the headers alone.
func unzip(data []byte, lim unzipLimits) ([]zipFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("reading zip: %w", err)
	}
	if len(zr.File) > lim.Files {
		return nil, fmt.Errorf("%w: %d entries, at most %d allowed", ErrUnsafeZip, len(zr.File), lim.Files)
	}
	var files []zipFile
	var total int64
	seen := map[string]bool{}
	for _, f := range zr.File {
		name, err := safeZipName(f.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrUnsafeZip, f.Name, err)
		}
		mode := f.Mode()
		if mode.IsDir() {
			continue
		}
		if !mode.IsRegular() {
			return nil, fmt.Errorf("%w: %q: not a regular file (%v)", ErrUnsafeZip, f.Name, mode.Type())
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %q: duplicate entry", ErrUnsafeZip, f.Name)
		}
		seen[name] = true
		if f.UncompressedSize64 > uint64(lim.Entry) {
			return nil, fmt.Errorf("%w: %q: %d bytes, at most %d allowed per file", ErrUnsafeZip, f.Name, f.UncompressedSize64, lim.Entry)
		}
		b, err := readZipEntry(f, lim.Entry)
		if err != nil {
			return nil, err
		}
		total += int64(len(b))
		if total > lim.Total {
			return nil, fmt.Errorf("%w: more than %d bytes in all", ErrUnsafeZip, lim.Total)
		}
		files = append(files, zipFile{Name: name, Data: b})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// readZipEntry inflates f, refusing it once it passes limit bytes whatever
// its header claimed.
func readZipEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%q: %w", f.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %q: more than %d bytes", ErrUnsafeZip, f.Name, limit)
	}
	return b, nil
}

// safeZipName returns name as a clean relative slash path, or an error when
// it is absolute, empty, or leaves the extraction root.
func safeZipName(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.ContainsRune(name, 0) {
		return "", errors.New("NUL in name")
	}
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || (len(n) >= 2 && n[1] == ':') {
		return "", errors.New("absolute path")
	}
	for _, seg := range strings.Split(n, "/") {
		if seg == ".." {
			return "", errors.New("path leaves the archive")
		}
	}
	clean := path.Clean(n)
	if clean == "." {
		return "", errors.New("empty name")
	}
	return clean, nil
}

// findZipFile returns the entry called name, or the only entry with that base
// name in a subdirectory (upload-artifact keeps the paths given to it).
func findZipFile(files []zipFile, name string) (zipFile, bool) {
	var found []zipFile
	for _, f := range files {
		if f.Name == name {
			return f, true
		}
		if path.Base(f.Name) == name {
			found = append(found, f)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return zipFile{}, false
}
