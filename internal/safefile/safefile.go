// Package safefile writes files so that a failed write never leaves a
// truncated file over a good one, and never writes through a symbolic
// link: the output directory of the action lies in the pull request's
// checkout, where a PR can plant `gate-report/summary.json -> ~/.bashrc`.
package safefile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write puts data in path: into a temporary file in the same folder, synced,
// then renamed over path, so that path holds either its old content or all
// of data (ENOSPC halfway leaves the old file). A path that is a symbolic
// link is refused. A device (-o /dev/null) is written in place: it cannot be
// replaced.
func Write(path string, data []byte) error {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s: is a symbolic link; refusing to write through it", path)
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s: is a directory", path)
	case err == nil && fi.Mode()&fs.ModeDevice != 0:
		return os.WriteFile(path, data, 0o644)
	case err != nil && !os.IsNotExist(err):
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Dir makes the output folder dir (and its parents) and refuses one that
// is a symbolic link, whose files would land elsewhere.
func Dir(dir string) error {
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s: is a symbolic link; refusing to write through it", dir)
	}
	return os.MkdirAll(dir, 0o755)
}
