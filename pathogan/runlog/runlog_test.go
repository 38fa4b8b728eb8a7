package runlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestResumeDropsLaterRows: reopened for a run resumed at step 2, the log
// keeps steps 1 and 2 and drops 3, which will be trained again.
func TestResumeDropsLaterRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	h, err := Open(path, []string{"a", "b"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 3; s++ {
		if err := h.Add(s, 1e-3, 1500*time.Millisecond, []float64{float64(s), 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h, err = Open(path, []string{"a", "b"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	h.Add(3, 1e-3, time.Second, []float64{9, 9})
	h.Close()
	b, _ := os.ReadFile(path)
	want := "step,lr,seconds,a,b\n1,0.001,1.500,1,0.5\n2,0.001,1.500,2,0.5\n3,0.001,1.000,9,9\n"
	if string(b) != want {
		t.Errorf("log:\n%s\nwant:\n%s", b, want)
	}
	os.WriteFile(path, []byte("step,lr,seconds\n\"unclosed\n1,2,3\n"), 0o644)
	if _, err := Open(path, nil, 1); err == nil || !strings.Contains(err.Error(), path+", line 2") {
		t.Errorf("malformed log: %v, want an error naming it and the line", err)
	}
}

// TestHalfRowAfterCrash: a log whose last row was cut short (a process
// killed mid-write under the old buffered writer, or a power cut) opens for
// a resume and for a fresh run; the half row is dropped. Before rows were
// written whole, both failed with "wrong number of fields".
func TestHalfRowAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	content := "step,lr,seconds,a\n1,0.001,1.000,5\n2,0.001,1.000,6\n3,0.0"
	for _, done := range []int{0, 2} {
		os.WriteFile(path, []byte(content), 0o644)
		h, err := Open(path, []string{"a"}, done)
		if err != nil {
			t.Fatalf("done %d: %v", done, err)
		}
		h.Add(done+1, 1e-3, time.Second, []float64{7})
		h.Close()
		b, _ := os.ReadFile(path)
		want := "step,lr,seconds,a\n1,0.001,1.000,7\n"
		if done == 2 {
			want = "step,lr,seconds,a\n1,0.001,1.000,5\n2,0.001,1.000,6\n3,0.001,1.000,7\n"
		}
		if string(b) != want {
			t.Errorf("done %d: log\n%s\nwant\n%s", done, b, want)
		}
	}
}

// TestRowsReachTheFileWhole: every added row is in the file at once, with
// no buffer left to flush (a kill between a step and a checkpoint loses no
// row and splits none).
func TestRowsReachTheFileWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	h, err := Open(path, []string{"a", "b", "c", "d", "e", "f", "g"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for s := 1; s <= 200; s++ {
		h.Add(s, 2e-4, 280*time.Millisecond, []float64{0.123456, 1.5, 2.25, 3.125, 4.0625, 5.03125, 6.015625})
		b, _ := os.ReadFile(path)
		if n := strings.Count(string(b), "\n"); n != s+1 || !strings.HasSuffix(string(b), "\n") {
			t.Fatalf("after step %d the file holds %d lines, ending %q", s, n, b[max(0, len(b)-10):])
		}
	}
}

// TestReopenNeverShortensTheOldLog: Open replaces the log by rename instead
// of truncating it in place, so a process killed inside Open (after the old
// rows were read, before they were written back) leaves the old log whole.
// A hard link to the old file sees it unchanged; under in-place truncation
// it would see the cut. The crash harness found this: a kill 34 ms into a
// resumed U-Net run had left a log holding only its last three steps.
func TestReopenNeverShortensTheOldLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	old := "step,lr,seconds,a\n1,0.001,1.000,5\n2,0.001,1.000,6\n3,0.001,1.000,7\n"
	os.WriteFile(path, []byte(old), 0o644)
	link := filepath.Join(dir, "old.csv")
	if err := os.Link(path, link); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	h, err := Open(path, []string{"a"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(link); string(b) != old {
		t.Errorf("the old log was changed in place:\n%s", b)
	}
	h.Add(3, 1e-3, time.Second, []float64{8})
	h.Close()
	want := "step,lr,seconds,a\n1,0.001,1.000,5\n2,0.001,1.000,6\n3,0.001,1.000,8\n"
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("log\n%s\nwant\n%s", b, want)
	}
	os.WriteFile(filepath.Join(dir, ".losses-123.tmp"), []byte("x"), 0o644)
	removed, err := RemoveTemps(dir)
	if err != nil || len(removed) != 1 {
		t.Errorf("RemoveTemps: %v, %v; want the one temporary file", removed, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("log mode: %v, %v; want 0644", fi, err)
	}
}
