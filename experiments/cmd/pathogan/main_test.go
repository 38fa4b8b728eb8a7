package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/data"
)

// capture runs f with os.Stdout redirected and returns what it printed.
func capture(t *testing.T, f func() error) string {
	t.Helper()
	out, err := redirect(&os.Stdout, f)
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out)
	}
	return out
}

// redirect runs f with *file (os.Stdout or os.Stderr) replaced by a pipe,
// and returns what f wrote there and f's error.
func redirect(file **os.File, f func() error) (string, error) {
	r, w, _ := os.Pipe()
	old := *file
	*file = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	err := f()
	w.Close()
	*file = old
	return <-done, err
}

// TestPhantomPrepare is the data issue's check as a user runs it: phantom,
// then prepare, twice with the same seed, gives byte-identical slice sets with
// both classes in both splits.
func TestPhantomPrepare(t *testing.T) {
	dir := t.TempDir()
	brats := filepath.Join(dir, "brats")
	png := filepath.Join(dir, "preview.png")
	capture(t, func() error {
		return runPhantom([]string{"--out", brats, "--patients", "5", "--seed", "4", "--shape", "96,96,155", "--preview", png})
	})
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("preview: %v", err)
	}
	var outs [2]string
	for i := range outs {
		set := filepath.Join(dir, "set", string(rune('a'+i)))
		out := capture(t, func() error {
			return runPrepare([]string{"--brats", brats, "--out", set, "--size", "64", "--test-fraction", "0.4", "--workers", "2"})
		})
		outs[i] = set
		if !strings.Contains(out, "5 found, 5 kept, 0 skipped") || !strings.Contains(out, "healthy  pathological") {
			t.Errorf("summary:\n%s", out)
		}
	}
	for _, f := range []string{data.ImagesFile, data.LabelsFile, data.SlicesFile, data.SplitFile, data.SummaryFile} {
		a, _ := os.ReadFile(filepath.Join(outs[0], f))
		b, _ := os.ReadFile(filepath.Join(outs[1], f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	sum, err := data.ReadSummary(outs[0])
	if err != nil {
		t.Fatal(err)
	}
	c := sum.Slices
	if c.TrainHealthy == 0 || c.TrainPathological == 0 || c.TestHealthy == 0 || c.TestPathological == 0 || sum.Height != 64 {
		t.Errorf("counts %+v, size %d", c, sum.Height)
	}
	again := capture(t, func() error {
		return runPrepare([]string{"--brats", brats, "--out", outs[0], "--size", "64", "--test-fraction", "0.4"})
	})
	if !strings.Contains(again, "already holds this slice set") {
		t.Errorf("second prepare did not reuse the cache:\n%s", again)
	}
	// A broken patient is reported and skipped, the others kept.
	victim := filepath.Join(brats, "HGG", "Phantom_HGG_0001", "Phantom_HGG_0001_t2.nii.gz")
	if err := os.WriteFile(victim, []byte("not a nifti file"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := capture(t, func() error {
		return runPrepare([]string{"--brats", brats, "--out", filepath.Join(dir, "set", "c"), "--size", "64"})
	})
	if !strings.Contains(out, "5 found, 4 kept, 1 skipped") || !strings.Contains(out, victim) {
		t.Errorf("broken patient not reported:\n%s", out)
	}
}

// TestInfoJSON checks the info command's JSON keys on a file it writes.
func TestInfoJSON(t *testing.T) {
	dir := t.TempDir()
	brats := filepath.Join(dir, "brats")
	capture(t, func() error {
		return runPhantom([]string{"--out", brats, "--patients", "1", "--shape", "32,32,40"})
	})
	f := filepath.Join(brats, "HGG", "Phantom_HGG_0001", "Phantom_HGG_0001_seg.nii.gz")
	out := capture(t, func() error { return runInfo([]string{f, "--json"}) })
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"shape", "datatype", "min", "max", "mean"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	if r["datatype"] != "uint8" || r["min"].(float64) != 0 || r["max"].(float64) != 4 {
		t.Errorf("seg info: %v", r)
	}
	if err := runInfo([]string{filepath.Join(dir, "missing.nii")}); err == nil {
		t.Error("missing file: no error")
	}
}

// TestTrainResumeEval trains the tiny preset for two steps, resumes to
// three, checks the history and checkpoints, and evaluates.
func TestTrainResumeEval(t *testing.T) {
	dir := t.TempDir()
	brats, set, run := filepath.Join(dir, "brats"), filepath.Join(dir, "set"), filepath.Join(dir, "run")
	capture(t, func() error {
		return runPhantom([]string{"--out", brats, "--patients", "3", "--seed", "2", "--shape", "64,64,155"})
	})
	capture(t, func() error {
		return runPrepare([]string{"--brats", brats, "--out", set, "--size", "32", "--test-fraction", "0.34"})
	})
	capture(t, func() error {
		return runTrain([]string{"--data", set, "--preset", "tiny", "--set", "batch=2", "--steps", "2", "--out", run})
	})
	if err := runTrain([]string{"--data", set, "--preset", "tiny", "--steps", "3", "--out", run}); err == nil ||
		!strings.Contains(err.Error(), "already has checkpoints") {
		t.Errorf("training into a used folder without --resume: %v", err)
	}
	// Resuming checks what it resumes: the preset, the settings and the
	// schedule's length must be the run's.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--preset", "small", "--steps", "2"}, "preset=small asked, but the run"},
		{[]string{"--preset", "tiny", "--steps", "2"}, "batch=4 asked, but the run"},
		{[]string{"--set", "lambda_r=2", "--steps", "2"}, "lambda_r=2 asked"},
		{[]string{"--steps", "3"}, "scheduled for 2 steps, this command asks for 3; pass --extend"},
	} {
		err := runTrain(append([]string{"--data", set, "--out", run, "--resume"}, c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("resume with %v: %v, want %q", c.args, err, c.want)
		}
	}
	// Without --preset, the resumed run keeps its own config, and the banner
	// says so (it printed the command line's default preset before).
	banner := captureStderr(t, func() error {
		return runTrain([]string{"--data", set, "--steps", "3", "--out", run, "--resume", "--extend"})
	})
	if !strings.Contains(banner, "training PathoGAN, tiny preset") {
		t.Errorf("resume banner does not name the run's preset:\n%s", banner)
	}
	hist, err := os.ReadFile(filepath.Join(run, "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(hist), "\n"); rows != 4 { // header + steps 1, 2, 3
		t.Errorf("losses.csv has %d lines, want 4:\n%s", rows, hist)
	}
	if _, err := os.Stat(filepath.Join(run, "checkpoints", "checkpoint-00000003.ckpt")); err != nil {
		t.Error(err)
	}
	out := capture(t, func() error { return runEval([]string{"--run", run, "--data", set}) })
	for _, want := range []string{"PathoGAN, test split", "(checkpoint step 3, threshold 0.50)", "Dice PP", "empty masks: skip"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	csv, err := os.ReadFile(filepath.Join(run, "eval.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "patient,slice,split,tumour_pixels,predicted_pixels,overlap_pixels,dice,hd95,avd,hd95_max,avd_mean\n") {
		t.Errorf("eval.csv: %v\n%.200s", err, csv)
	}
	// A NaN in the data stops training with the last good checkpoint intact.
	ckpt := filepath.Join(run, "checkpoints", "checkpoint-00000003.ckpt")
	good, _ := os.ReadFile(ckpt)
	imgs := filepath.Join(set, "images.npy")
	raw, err := os.ReadFile(imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i := 128; i+4 <= len(raw); i += 4 {
		copy(raw[i:], []byte{0x00, 0x00, 0xc0, 0x7f}) // float32 NaN
	}
	os.WriteFile(imgs, raw, 0o644)
	err = runTrain([]string{"--data", set, "--steps", "5", "--out", run, "--resume", "--extend", "--checkpoint-every", "1"})
	if err == nil || !strings.Contains(err.Error(), "not finite") || !strings.Contains(err.Error(), ckpt) {
		t.Errorf("NaN data: err = %v, want a non-finite loss naming %s", err, ckpt)
	}
	after, _ := os.ReadFile(ckpt)
	if !bytes.Equal(good, after) {
		t.Error("the last good checkpoint changed")
	}
	if _, err := os.Stat(filepath.Join(run, "checkpoints", "checkpoint-00000004.ckpt")); err == nil {
		t.Error("a checkpoint was written after the NaN")
	}
	if err := runTrain([]string{"--data", set, "--preset", "small", "--steps", "1", "--out", filepath.Join(dir, "r2")}); err == nil ||
		!strings.Contains(err.Error(), "prepare it with --size 64") {
		t.Errorf("64-px preset on a 32-px set: %v", err)
	}
}
