package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneOwner: a second Acquire of a held folder fails naming the holder;
// after Release the lock file is gone and the folder can be taken again; a
// lock file nobody holds (its process died) is taken over with a note that
// names the dead holder.
func TestOneOwner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	l, note, err := Acquire(dir)
	if err != nil || note != "" {
		t.Fatalf("Acquire: %v %q", err, note)
	}
	_, _, err = Acquire(dir)
	if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d on ", os.Getpid())) || !strings.Contains(err.Error(), dir) {
		t.Errorf("second Acquire: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Errorf("lock file after Release: %v", err)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte("pid 4242 on gone since 2026-01-01T00:00:00Z\n"), 0o644)
	l, note, err = Acquire(dir)
	if err != nil || !strings.Contains(note, "took over the lock of pid 4242 on gone") {
		t.Fatalf("stale lock: %v %q", err, note)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !strings.HasPrefix(string(b), fmt.Sprintf("pid %d on ", os.Getpid())) {
		t.Errorf("lock file says %q", b)
	}
	l.Release()
	l.Release() // twice is harmless
}
