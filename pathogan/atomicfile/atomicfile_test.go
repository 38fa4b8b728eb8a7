package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWholeOrUnchanged: a write replaces the file with mode 0644 and leaves
// no temporary file; a write whose fill fails leaves the old content and no
// temporary file; RemoveTemps clears the remnants of a killed write only.
func TestWholeOrUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	os.WriteFile(path, []byte("old"), 0o600)
	if err := Write(path, ".out-*.tmp", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("content %q, want new", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	boom := errors.New("boom")
	err := Write(path, ".out-*.tmp", func(w io.Writer) error { io.WriteString(w, "half"); return boom })
	if !errors.Is(err, boom) {
		t.Errorf("Write = %v, want the fill's error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("a failed write changed the file to %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".out-*.tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	os.WriteFile(filepath.Join(dir, ".out-1.tmp"), []byte("x"), 0o644)
	removed, err := RemoveTemps(dir, ".out-*.tmp")
	if err != nil || len(removed) != 1 {
		t.Errorf("RemoveTemps = %v, %v", removed, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("RemoveTemps removed the target: %v", err)
	}
}
