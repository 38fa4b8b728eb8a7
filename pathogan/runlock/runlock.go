// Package runlock makes one process the owner of a run folder. The owner
// holds an exclusive advisory lock (flock) on the folder's file "lock", which
// names it: process ID, host and start time. The kernel drops the lock when
// the process dies however it dies, so a lock file left by a dead process is
// taken over, and the caller is told whose it was. A second process that
// asks for a held folder gets an error that names the holder.
package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileName is the lock file's name inside a run folder.
const FileName = "lock"

// Lock is the ownership of one run folder.
type Lock struct {
	f    *os.File
	path string
}

// ErrHeld is wrapped by Acquire's error when another live process owns the
// folder.
var ErrHeld = errors.New("in use by another process")

// Acquire takes ownership of dir (created if missing). It returns, besides
// the lock, a note when it took over the lock file of a process that is no
// longer running (empty otherwise). When another process holds dir, the
// error wraps ErrHeld and names that process.
func Acquire(dir string) (*Lock, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, FileName)
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, "", err
		}
		if err := tryLock(f); err != nil {
			holder := readHolder(f)
			f.Close()
			if errors.Is(err, errWouldBlock) {
				return nil, "", fmt.Errorf("run folder %s is %w (%s); wait for it to finish or stop it, then run again", dir, ErrHeld, holder)
			}
			return nil, "", fmt.Errorf("locking %s: %w", path, err)
		}
		// The holder may have removed the file between our open and our
		// lock; then a third process can own a new file of the same name.
		if same, err := samePath(f, path); err != nil || !same {
			f.Close()
			continue
		}
		note := ""
		if old := readHolder(f); old != "" {
			note = fmt.Sprintf("took over the lock of %s in %s: that process is no longer running", old, dir)
		}
		host, _ := os.Hostname()
		me := fmt.Sprintf("pid %d on %s since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, "", err
		}
		if _, err := f.WriteAt([]byte(me), 0); err != nil {
			f.Close()
			return nil, "", err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, "", err
		}
		return &Lock{f: f, path: path}, note, nil
	}
	return nil, "", fmt.Errorf("locking %s: the lock file keeps changing under us", path)
}

// readHolder returns the lock file's content on one line ("" when empty).
func readHolder(f *os.File) string {
	b := make([]byte, 256)
	n, _ := f.ReadAt(b, 0)
	return strings.TrimSpace(string(b[:n]))
}

// samePath reports whether path still names the open file f.
func samePath(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// Release removes the lock file and gives up the lock. It is safe to call
// more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
