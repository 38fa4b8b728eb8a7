package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/phantom"
)

// TestSegmentCommand segments a phantom patient with the shipped model, as
// a user runs it: the outputs are there, the Dice against the patient's
// labels is printed and high, and the same scans given one by one (--flair
// ... --t2) give the same volumes (the montage differs: without the
// folder there is no true outline to draw).
func TestSegmentCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a phantom patient")
	}
	dir := t.TempDir()
	cfg := phantom.DefaultConfig()
	cfg.Patients, cfg.Seed, cfg.Shape = 1, 77, [3]int{96, 96, 155}
	if err := phantom.Write(filepath.Join(dir, "ph"), cfg, 1, nil); err != nil {
		t.Fatal(err)
	}
	patients, _, err := data.Discover(filepath.Join(dir, "ph"))
	if err != nil || len(patients) != 1 {
		t.Fatalf("%v %v", patients, err)
	}
	p := patients[0]
	out := capture(t, func() error {
		return runSegment([]string{"--in", p.Dir, "--out", filepath.Join(dir, "a"), "--slices", "60..100"})
	})
	if !strings.Contains(out, "slices 60..100") || !strings.Contains(out, "volumetric Dice against") {
		t.Fatalf("output:\n%s", out)
	}
	var dice float64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "volumetric Dice") {
			f := strings.Fields(line)
			dice = mustFloat(t, f[len(f)-1])
		}
	}
	if dice < 0.6 {
		t.Errorf("volumetric Dice %.4f on a phantom patient, want > 0.6", dice)
	}
	args := []string{"--out", filepath.Join(dir, "b"), "--slices", "60..100", "--id", p.ID}
	for m, f := range p.Images {
		args = append(args, "--"+data.Modality(m).String(), f)
	}
	capture(t, func() error { return runSegment(args) })
	for _, name := range []string{"_pathogan_prob.nii.gz", "_pathogan_seg.nii.gz", "_pathogan_healthy_t2.nii.gz"} {
		a, err1 := os.ReadFile(filepath.Join(dir, "a", p.ID+name))
		b, err2 := os.ReadFile(filepath.Join(dir, "b", p.ID+name))
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("%s: --in and the four scans differ (%v, %v)", name, err1, err2)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "b", p.ID+"_pathogan_montage.png")); err != nil {
		t.Error(err)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}
