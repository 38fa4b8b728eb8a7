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
	os.WriteFile(path, []byte("step,lr\n\"unclosed\n"), 0o644)
	if _, err := Open(path, nil, 0); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("malformed log: %v, want an error naming it", err)
	}
}
