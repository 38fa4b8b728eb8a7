package progress

import (
	"bytes"
	"strings"
	"testing"
)

// TestBarLines checks the plain (non-terminal) output: one line per 10%, the
// last state once, and the counts in each line.
func TestBarLines(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "job", 20)
	for i := 1; i <= 20; i++ {
		b.Set(i, "x")
	}
	b.Finish()
	b.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10 (one per 10%%):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "2/20") || !strings.Contains(lines[9], "20/20") || !strings.HasPrefix(lines[9], "job [") {
		t.Errorf("lines %q ... %q", lines[0], lines[9])
	}
}
