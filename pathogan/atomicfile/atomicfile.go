// Package atomicfile writes files that are either whole or absent: the
// content goes to a temporary file in the target's folder, which is synced,
// made readable by everyone (0644, as a run's other outputs) and renamed
// over the target, and the folder is synced so that the rename survives a
// power cut. A process killed midway leaves only a temporary file, whose
// name pattern the caller chooses so that RemoveTemps can clear it later.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes path through fill, atomically. pattern names the temporary
// file (os.CreateTemp's pattern, for example ".checkpoint-*.tmp"). On any
// error the temporary file is removed and path is unchanged.
func Write(path, pattern string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes a rename in dir durable. File systems that cannot sync a
// folder are not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// RemoveTemps deletes the files in dir that match pattern (remnants of
// writes that were killed) and returns their paths. Call it only while no
// other process writes into dir.
func RemoveTemps(dir, pattern string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	return paths, nil
}
