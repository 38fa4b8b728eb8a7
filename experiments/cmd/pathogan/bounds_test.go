package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/nifti"
)

// wantErr checks that err names every one of wants.
func wantErr(t *testing.T, what string, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q lacks %q", what, err, w)
		}
	}
}

// TestPhantomFlagBounds checks that phantom refuses counts and sizes out of
// bounds, naming the flag and the limit, before writing anything (the issue:
// --workers 0 was accepted).
func TestPhantomFlagBounds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ph")
	cases := []struct {
		args  []string
		wants []string
	}{
		{[]string{"--workers", "0"}, []string{"--workers 0", "want 1 to 256"}},
		{[]string{"--workers", "-3"}, []string{"--workers -3"}},
		{[]string{"--workers", "100000"}, []string{"--workers 100000"}},
		{[]string{"--patients", "0"}, []string{"--patients 0", "want 1 to 9999"}},
		{[]string{"--patients", "2000000000"}, []string{"--patients 2000000000", "9999"}},
		{[]string{"--shape", "1024,1024,1024"}, []string{"--shape 1024,1024,1024", "at most 33554432"}},
		{[]string{"--shape", "8,240,155"}, []string{"--shape 8,240,155", "16 to 1024"}},
	}
	for _, c := range cases {
		start := time.Now()
		err := runPhantom(append([]string{"--out", out}, c.args...))
		wantErr(t, strings.Join(c.args, " "), err, c.wants...)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%v: refusing took %v", c.args, d)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused phantom wrote %s", out)
	}
}

// TestPrepareFlagBounds checks prepare's bounds on sizes, crops, workers and
// fractions: refused at once, naming the flag and the limit (the issue:
// --size 100000 tried to allocate 160 GB).
func TestPrepareFlagBounds(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "set")
	cases := []struct {
		args  []string
		wants []string
	}{
		{[]string{"--size", "100000"}, []string{"--size 100000", "want 0 (native size) to 1024"}},
		{[]string{"--size", "-1"}, []string{"--size -1"}},
		{[]string{"--crop", "5000"}, []string{"--crop 5000", "to 1024"}},
		{[]string{"--workers", "0"}, []string{"--workers 0", "want 1 to 256"}},
		{[]string{"--test-fraction", "NaN"}, []string{"--test-fraction NaN"}},
		{[]string{"--val-fraction", "0.9"}, []string{"--val-fraction 0.9"}},
		{[]string{"--slice-min", "50", "--slice-max", "10"}, []string{"--slice-min 50, --slice-max 10"}},
	}
	for _, c := range cases {
		start := time.Now()
		err := runPrepare(append([]string{"--brats", dir, "--out", out}, c.args...))
		wantErr(t, strings.Join(c.args, " "), err, c.wants...)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%v: refusing took %v", c.args, d)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused prepare wrote %s", out)
	}
}

// TestInfoBounded runs info on a 4 GB file (sparse) whose header describes a
// 4x4x2 image, and on a small file whose header describes 5 GB: the first
// prints the image, the second is refused naming the limit, both at once.
func TestInfoBounded(t *testing.T) {
	dir := t.TempDir()
	im, err := nifti.FromFloat32([]int{4, 4, 2}, nifti.Int16, make([]float32, 32))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := im.Encode()
	long := filepath.Join(dir, "long.nii")
	os.WriteFile(long, b, 0o644)
	if err := os.Truncate(long, 4<<30); err != nil {
		t.Skipf("cannot make a sparse file: %v", err)
	}
	start := time.Now()
	out := capture(t, func() error { return runInfo([]string{long}) })
	if !strings.Contains(out, "dims        [4 4 2]") || time.Since(start) > 2*time.Second {
		t.Errorf("info on a 4 GB file took %v:\n%s", time.Since(start), out)
	}
	im.Header.Version = 2
	b, _ = im.Encode()
	for i, d := range []int64{3, 50000, 50000, 1} { // NIfTI-2 dims: 2.5e9 int16 voxels
		binary.LittleEndian.PutUint64(b[16+8*i:], uint64(d))
	}
	huge := filepath.Join(dir, "huge.nii")
	os.WriteFile(huge, b, 0o644)
	wantErr(t, "huge header", runInfo([]string{huge}), huge, "limit of 2147483648 bytes (2 GiB)")
}

// TestSplitNames checks that eval and inspect refuse an unknown --split,
// listing the valid names, instead of reporting no slices in it.
func TestSplitNames(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--run", filepath.Join(dir, "run"), "--data", filepath.Join(dir, "set"), "--split", "foo"}
	wantErr(t, "eval --split foo", runEval(args), `--split: unknown split "foo": want "train", "val" or "test"`)
	wantErr(t, "inspect --split foo", runInspect(args), `--split: unknown split "foo": want "train", "val" or "test"`)
	wantErr(t, "inspect --split ''", runInspect(append(args, "--split", "")), `unknown split ""`)
}

// TestEmptyTestSplit prepares two phantom patients: the default test
// fraction gives no test patient and is refused; --test-fraction 0 prepares
// a set without a test split, which eval refuses to table (naming the empty
// split) unless one split is asked for.
func TestEmptyTestSplit(t *testing.T) {
	dir := t.TempDir()
	brats, set := filepath.Join(dir, "brats"), filepath.Join(dir, "set")
	capture(t, func() error {
		return runPhantom([]string{"--out", brats, "--patients", "2", "--shape", "32,32,110", "--workers", "1"})
	})
	wantErr(t, "prepare 2 patients", runPrepare([]string{"--brats", brats, "--out", set, "--size", "16"}),
		"the test split is empty", "test fraction 0.2 of 2 patients")
	out := capture(t, func() error {
		return runPrepare([]string{"--brats", brats, "--out", set, "--size", "16", "--test-fraction", "0"})
	})
	if !strings.Contains(out, "no test split") {
		t.Errorf("prepare --test-fraction 0 does not say there is no test split:\n%s", out)
	}
	wantErr(t, "eval on a set without test slices", runEval([]string{"--run", filepath.Join(dir, "run"), "--data", set}),
		set, "the test split has no pathological slices", "--split")
}

// TestPrepareDamagedCache truncates images.npy of a prepared set: prepare
// must not say "already holds this slice set" but prepare it again, saying
// why.
func TestPrepareDamagedCache(t *testing.T) {
	dir := t.TempDir()
	brats, set := filepath.Join(dir, "brats"), filepath.Join(dir, "set")
	capture(t, func() error {
		return runPhantom([]string{"--out", brats, "--patients", "3", "--shape", "32,32,110", "--workers", "1"})
	})
	args := []string{"--brats", brats, "--out", set, "--size", "16", "--test-fraction", "0.4"}
	capture(t, func() error { return runPrepare(args) })
	imgs := filepath.Join(set, data.ImagesFile)
	want, _ := os.ReadFile(imgs)
	os.Truncate(imgs, int64(len(want))/2)
	out := capture(t, func() error { return runPrepare(args) })
	if strings.Contains(out, "already holds") || !strings.Contains(out, "damaged") || !strings.Contains(out, imgs) {
		t.Errorf("prepare after truncating images.npy:\n%s", out)
	}
	if got, _ := os.ReadFile(imgs); string(got) != string(want) {
		t.Error("images.npy differs after preparing again")
	}
	if out := capture(t, func() error { return runPrepare(args) }); !strings.Contains(out, "already holds") {
		t.Errorf("prepare of an intact set:\n%s", out)
	}
}
