package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// TestCreateCommitAbort: a File filled piece by piece, with a header
// written at the end through WriteAt, lands whole with mode 0644 under the
// default temporary name; an aborted File leaves the target unchanged and no
// temporary file; a missing folder is an error naming the target.
func TestCreateCommitAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.bin")
	f, err := Create(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Base(f.Name())[:len(".a.bin-")], ".a.bin-"; got != want {
		t.Errorf("temporary file %s, want the prefix %s", f.Name(), want)
	}
	f.Write([]byte("..body"))
	f.WriteAt([]byte("hd"), 0)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the target exists before Commit: %v", err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "hdbody" {
		t.Errorf("content %q, want hdbody", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != Mode {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), Mode)
	}
	g, err := Create(path, "")
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("partial"))
	g.Abort()
	if b, _ := os.ReadFile(path); string(b) != "hdbody" {
		t.Errorf("an aborted write changed the file to %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".a.bin-*.tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	missing := filepath.Join(dir, "no", "such", "x.txt")
	if err := WriteFile(missing, []byte("x")); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("WriteFile into a missing folder = %v, want an error naming %s", err, missing)
	}
}

// TestWriteFileMode: WriteFile makes a new file 0644 whatever the umask
// allows os.CreateTemp (0600), and replaces an existing 0600 file.
func TestWriteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	for i, content := range []string{"{}\n", "[]\n"} {
		if err := WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("write %d: mode %v, want 0644", i, fi.Mode().Perm())
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("write %d: content %q, want %q", i, b, content)
		}
	}
}
