package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchJSON runs `pathogan bench --json` on the tiny preset with a stand-in
// for the PyTorch reference (a shell script printing a fixed result line) and
// checks the report: the Go timing is measured, the FLOP count is the model's,
// and the ratio is Go's median over the reference's.
func TestBenchJSON(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake_torch.sh")
	args := filepath.Join(dir, "args.txt")
	script := "echo \"$@\" > " + args + "\n" +
		`echo '{"impl": "fake", "device": "cpu", "params": 34478, "step_s_median": 0.5, "step_s_min": 0.4, "fwd_gflop_per_step": 0.07, "achieved_gflops_est": 0.4}'` + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out := capture(t, func() error {
		return runBench([]string{"--preset", "tiny", "--base", "2", "--steps", "2", "--warmup", "1", "--json",
			"--compare-torch", "--torch-python", "/bin/sh", "--torch-script", fake})
	})
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	goStep, _ := r["go_step_s"].(float64)
	torchStep, _ := r["torch_step_s"].(float64)
	ratio, _ := r["ratio"].(float64)
	if goStep <= 0 || torchStep != 0.5 || math.Abs(ratio-goStep/0.5) > 1e-12 {
		t.Errorf("go_step_s %v, torch_step_s %v, ratio %v: want ratio = go/torch with torch 0.5", goStep, torchStep, ratio)
	}
	if fl, _ := r["forward_gflop_per_step"].(float64); fl <= 0 {
		t.Errorf("forward_gflop_per_step = %v, want > 0", fl)
	}
	if p, _ := r["params"].(float64); p != 34478 {
		t.Errorf("params = %v, want 34478 (tiny at base 2, disc base 2; the PyTorch reference counts the same)", p)
	}
	got, err := os.ReadFile(args)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--size 32", "--base 2", "--z 8", "--res 1", "--batch 4", "--steps 2", "--device cpu"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("reference called with %q, missing %q", got, want)
		}
	}
}

// TestBenchRejectsMismatchedWidths: the reference has one width for G and D.
func TestBenchRejectsMismatchedWidths(t *testing.T) {
	err := runBench([]string{"--preset", "tiny", "--compare-torch", "--torch-script", "/nonexistent"})
	if err == nil || !strings.Contains(err.Error(), "disc_base") {
		t.Errorf("err = %v, want a disc_base/base mismatch error", err)
	}
}
