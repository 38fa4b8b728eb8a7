// Package atomicfile writes files that are either whole or absent. It is the
// toolkit's one atomic write: data's slice cache and NIfTI writer, viz's
// pictures, the evaluation tables, checkpoints and the loss log all go
// through it.
//
// The content goes to a temporary file in the target's folder, which is
// synced, made readable by everyone (0644, as a run's other outputs) and
// renamed over the target; then the folder is synced so that the rename
// survives a power cut. On any error the temporary file is removed and the
// target is unchanged. A process killed midway leaves only a temporary file,
// whose name pattern the caller may choose so that RemoveTemps can clear it
// later.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Mode is the permission every file written here gets.
const Mode os.FileMode = 0o644

// File is a file being written atomically: writes go to a temporary file
// that Commit renames over the target and Abort removes. Use it when the
// content arrives piece by piece or needs WriteAt (a header filled in at the
// end); Write and WriteFile are simpler otherwise.
type File struct {
	*os.File // the temporary file
	path     string
}

// Create starts an atomic write of path. pattern names the temporary file
// (os.CreateTemp's pattern, for example ".checkpoint-*.tmp"); "" gives
// "."+base(path)+"-*.tmp". The caller must call Commit or Abort.
func Create(path, pattern string) (*File, error) {
	if pattern == "" {
		pattern = "." + filepath.Base(path) + "-*.tmp"
	}
	f, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &File{File: f, path: path}, nil
}

// Path returns the target's path.
func (f *File) Path() string { return f.path }

// Commit syncs the temporary file, sets its mode to Mode, renames it over
// the target and syncs the folder. On error the temporary file is removed;
// the error names the target.
func (f *File) Commit() error {
	tmp := f.Name()
	err := f.Chmod(Mode)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort closes and removes the temporary file, leaving the target as it was.
// It may be called after a failed Commit.
func (f *File) Abort() {
	f.Close()
	os.Remove(f.Name())
}

// Write writes path atomically through fill, which gets a buffered writer.
// pattern is as for Create. On any error, including fill's (which the
// returned error wraps), the temporary file is removed and path is
// unchanged.
func Write(path, pattern string, fill func(w io.Writer) error) error {
	f, err := Create(path, pattern)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// WriteFile writes b to path atomically, with the temporary file named
// "."+base(path)+"-*.tmp".
func WriteFile(path string, b []byte) error {
	return Write(path, "", func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
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
