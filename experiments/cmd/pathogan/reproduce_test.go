package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
)

// TestReproduceResumes runs the main job end to end on a tiny configuration
// (6 phantom patients, a few steps of the tiny presets) and checks the report
// folder; then runs it again on the same folder and checks that it resumed:
// no training step is repeated and the report is rewritten. `table` then
// rebuilds Table 1 from the two evaluated runs.
func TestReproduceResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two tiny models")
	}
	out := filepath.Join(t.TempDir(), "rep")
	args := []string{"--out", out, "--preset", "tiny", "--patients", "6", "--steps", "4", "--baseline-steps", "3"}
	first := capture(t, func() error { return runReproduce(args) })
	for _, want := range []string{"| PathoGAN | Tr |", "| PathoGAN | Te |", "| U-Net, supervised | Te |", "*PathoGAN (paper)*", "empty masks: skip"} {
		if !strings.Contains(first, want) {
			t.Errorf("output lacks %q:\n%s", want, first)
		}
	}
	rep := filepath.Join(out, "report")
	md, err := os.ReadFile(filepath.Join(rep, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Table 1", "![figure2.png](figure2.png)", "\"model\": \"unet\"", "| train PathoGAN |", "| total |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, f := range []string{"figure2.png", "samples.png", "curves_pathogan.png", "curves_unet.png", "dice.png"} {
		b, err := os.ReadFile(filepath.Join(rep, f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	ckpts := func(run string) []string {
		l, _ := checkpoint.List(filepath.Join(out, run, checkpoint.Dir))
		return l
	}
	before := append(ckpts("pathogan"), ckpts("unet")...)
	if len(before) != 4 || !strings.HasSuffix(before[1], checkpoint.Name(4)) || !strings.HasSuffix(before[3], checkpoint.Name(3)) {
		t.Fatalf("checkpoints %v, want steps ≤4 of PathoGAN and ≤3 of the U-Net, two kept each", before)
	}
	stat := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime().UnixNano()
	}
	mtime := stat(before[1])
	capture(t, func() error { return runReproduce(args) })
	after := append(ckpts("pathogan"), ckpts("unet")...)
	if strings.Join(after, ",") != strings.Join(before, ",") || stat(after[1]) != mtime {
		t.Errorf("a second run retrained: checkpoints %v -> %v", before, after)
	}
	hist, _ := os.ReadFile(filepath.Join(out, "pathogan", "losses.csv"))
	if n := strings.Count(strings.TrimSpace(string(hist)), "\n"); n != 4 {
		t.Errorf("losses.csv has %d step rows after resuming, want 4", n)
	}
	table := capture(t, func() error {
		return runTable([]string{"--runs", filepath.Join(out, "pathogan") + "," + filepath.Join(out, "unet"), "--csv", filepath.Join(out, "t.csv")})
	})
	if !strings.Contains(table, "| U-Net, supervised | Tr |") {
		t.Errorf("table output:\n%s", table)
	}
	if b, err := os.ReadFile(filepath.Join(out, "t.csv")); err != nil || !strings.HasPrefix(string(b), "method,split,slices,patients,dice_mean") {
		t.Errorf("table CSV: %v %q", err, b)
	}
}
