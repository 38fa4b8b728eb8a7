package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchJSON runs `pathogan bench --json` on the tiny preset with a stand-in
// for the PyTorch reference (a shell script printing a fixed result line, 0.5
// s per step with one thread and 0.3 s with two) and checks the report: the Go
// timing is measured, the FLOP count is the model's, the ratio is Go's median
// over the faster PyTorch run, the per-core ratio Go's one-core step over
// PyTorch's one-thread step, and the peak section is filled in.
func TestBenchJSON(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake_torch.sh")
	args := filepath.Join(dir, "args.txt")
	script := "echo \"$@\" >> " + args + "\n" +
		`case "$*" in *"--threads 1"*) t=0.5;; *) t=0.3;; esac` + "\n" +
		`echo "{\"impl\": \"fake\", \"device\": \"cpu\", \"params\": 34478, \"step_s_median\": $t, \"step_s_min\": 0.2, \"fwd_gflop_per_step\": 0.07, \"achieved_gflops_est\": 0.4}"` + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out := capture(t, func() error {
		return runBench([]string{"--preset", "tiny", "--set", "base=2;disc_base=2", "--steps", "2", "--warmup", "1", "--json", "--peak", "96",
			"--compare-torch", "--torch-python", "/bin/sh", "--torch-script", fake})
	})
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	goStep, _ := r["go_step_s"].(float64)
	torchStep, _ := r["torch_step_s"].(float64)
	ratio, _ := r["ratio"].(float64)
	if goStep <= 0 || torchStep != 0.3 || math.Abs(ratio-goStep/0.3) > 1e-12 || r["torch_threads"] != 2.0 {
		t.Errorf("go_step_s %v, torch_step_s %v (threads %v), ratio %v: want ratio = go/torch with the faster torch, 0.3 s at 2 threads",
			goStep, torchStep, r["torch_threads"], ratio)
	}
	if r["torch_step_s_1t"] != 0.5 || r["torch_step_s_2t"] != 0.3 {
		t.Errorf("torch_step_s_1t %v, torch_step_s_2t %v: want 0.5 and 0.3", r["torch_step_s_1t"], r["torch_step_s_2t"])
	}
	one, _ := r["go_step_s_1core"].(float64)
	if perCore, _ := r["ratio_per_core"].(float64); one <= 0 || math.Abs(perCore-one/0.5) > 1e-12 {
		t.Errorf("go_step_s_1core %v, ratio_per_core %v: want go's one-core step over torch's 0.5", one, r["ratio_per_core"])
	}
	peaks, _ := r["peak_gflops_per_core"].(map[string]any)
	if frac, _ := r["peak_fraction"].(float64); len(peaks) == 0 || !(frac > 0) {
		t.Errorf("peak_gflops_per_core %v, peak_fraction %v: want measured peaks and a fraction", peaks, r["peak_fraction"])
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
	for _, want := range []string{"--size 32", "--base 2", "--z 8", "--res 1", "--batch 4", "--steps 2", "--device cpu", "--threads 1", "--threads 2"} {
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

// TestTorchReferenceMatchesModel runs the repository's PyTorch reference
// (experiments/torchref) against the Go model through `bench --compare-torch`
// at two configurations and checks that both count the same parameters and
// the same forward FLOPs per step: the comparison times the same network.
// It skips where Python has no torch (CI installs Debian's python3-torch).
func TestTorchReferenceMatchesModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("no PyTorch (apt-get install python3-torch)")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "torchref", "pathogan_step.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{{"--preset", "tiny", "--set", "base=2;disc_base=2"}, {"--preset", "small", "--set", "res_blocks=2"}} {
		out := capture(t, func() error {
			return runBench(append(c, "--steps", "1", "--warmup", "1", "--json", "--peak", "0",
				"--compare-torch", "--torch-script", script))
		})
		var r map[string]any
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
		if r["params"] != r["torch_params"] || r["params"] == nil {
			t.Errorf("%v: Go has %v parameters, PyTorch %v", c, r["params"], r["torch_params"])
		}
		g, _ := r["forward_gflop_per_step"].(float64)
		p, _ := r["torch_forward_gflop_per_step"].(float64)
		if !(g > 0) || math.Abs(g-p) > 1e-9*g {
			t.Errorf("%v: Go counts %v forward GFLOP per step, PyTorch %v", c, g, p)
		}
	}
}
