package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
)

// benchReport is what `pathogan bench` prints (and --json writes).
type benchReport struct {
	Preset    string `json:"preset"`
	Size      int    `json:"size"`
	Base      int    `json:"base"`
	DiscBase  int    `json:"disc_base"`
	Z         int    `json:"z"`
	ResBlocks int    `json:"res_blocks"`
	Batch     int    `json:"batch"`
	Steps     int    `json:"steps"`
	Warmup    int    `json:"warmup"`
	Backend   string `json:"backend"`
	Params    int    `json:"params"`
	// NormGradient is how instance norm and ELU are differentiated: "closed form" or "autodiff".
	NormGradient string `json:"norm_gradient"`
	// TransposeKernelGradient is the form of the transposed convolutions' kernel gradients:
	// "backward-filter" or "input-dilated" (backend.SetTransposeFilterForm).
	TransposeKernelGradient string `json:"transpose_kernel_gradient"`
	// ConvPrecision is the dtype the Go model's convolutions compute in (Config.ConvPrecision;
	// the PyTorch reference's are float32).
	ConvPrecision string `json:"conv_precision"`

	GoStepS        float64 `json:"go_step_s"`
	GoStepMinS     float64 `json:"go_step_min_s"`
	GoImagesPerS   float64 `json:"go_images_per_s"`
	GoFirstStepS   float64 `json:"go_first_step_s"`
	ForwardGFLOP   float64 `json:"forward_gflop_per_step"`
	TrainGFLOPEst  float64 `json:"train_gflop_per_step_est"`
	GoGFLOPSEst    float64 `json:"go_gflops_est"`
	GoPeakRSSMiB   float64 `json:"go_peak_rss_mib"`
	GoHeapPeakNote string  `json:"go_peak_rss_note,omitempty"`

	TorchImpl       string  `json:"torch_impl,omitempty"`
	TorchDevice     string  `json:"torch_device,omitempty"`
	TorchStepS      float64 `json:"torch_step_s,omitempty"`
	TorchStepMinS   float64 `json:"torch_step_min_s,omitempty"`
	TorchGFLOPSEst  float64 `json:"torch_gflops_est,omitempty"`
	TorchFwdGFLOP   float64 `json:"torch_forward_gflop_per_step,omitempty"`
	TorchPeakRSSMiB float64 `json:"torch_peak_rss_mib,omitempty"`
	TorchParams     int     `json:"torch_params,omitempty"`
	// TorchStepS1T and TorchStepS2T are PyTorch's median steps with 1 and 2
	// threads; TorchStepS is the faster of the two (TorchThreads), and Ratio
	// is Go's median step over it.
	TorchStepS1T float64 `json:"torch_step_s_1t,omitempty"`
	TorchStepS2T float64 `json:"torch_step_s_2t,omitempty"`
	TorchThreads int     `json:"torch_threads,omitempty"`
	Ratio        float64 `json:"ratio,omitempty"`
	// GoStepS1Core is Go's median step with GOMAXPROCS=1 (a backend and trainer
	// of the same configuration made after the timed steps with one core, as a
	// one-core process makes them), and RatioPerCore it over PyTorch's 1-thread step.
	GoStepS1Core float64 `json:"go_step_s_1core,omitempty"`
	RatioPerCore float64 `json:"ratio_per_core,omitempty"`

	// GemmImpl is the matrix product the Go backend used; PeakGFLOPS each
	// product's rate on one core on a large square product (backend.MatmulPeak), and
	// PeakFraction the step's rate over the best of them times the cores.
	GemmImpl     string             `json:"gemm_impl,omitempty"`
	PeakGFLOPS   map[string]float64 `json:"peak_gflops_per_core,omitempty"`
	PeakFraction float64            `json:"peak_fraction,omitempty"`
}

func runBench(args []string) error {
	fs := newFlags("bench", "[--preset NAME] [--set K=V;...] [--compare-torch] [--json] [options]")
	preset := fs.String("preset", "small", "network preset: "+strings.Join(pathogan.PresetNames(), ", "))
	set := fs.String("set", "", `overrides "key=value;key=value" of the preset's config, with the keys of pathogan train, e.g. "size=128;base=16;disc_base=16;batch=1" (--compare-torch needs disc_base equal to base)`)
	steps := fs.Int("steps", 10, "timed steps")
	warmup := fs.Int("warmup", 2, "untimed steps first (the first builds and compiles the graph)")
	compare := fs.Bool("compare-torch", false, "also time the PyTorch reference on the same configuration (first, then the Go run; never both at once)")
	torchScript := fs.String("torch-script", "", "the PyTorch reference step (default: $PATHOGAN_TORCH_BENCH, else the repository's experiments/torchref/pathogan_step.py, searched upwards from the working directory)")
	torchPython := fs.String("torch-python", "", "Python with torch (default: /usr/bin/python3 if present, else python3)")
	torchDevice := fs.String("torch-device", "", "PyTorch device: cpu or cuda (default: cuda when the Go run used a CUDA plugin, else cpu)")
	peak := fs.Int("peak", 1024, "size n of the n×n×n product that measures each matrix product's peak on one core (0: skip)")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the timed Go steps to this file")
	opProfile := fs.Int("op-profile", 0, "print the N slowest op types and shapes of the timed Go steps (Go backend only)")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout (progress goes to stderr)")
	autodiffNorm := fs.Bool("autodiff-norm", false, "differentiate instance norm, ELU and LeakyReLU op by op instead of using their closed-form gradients (for comparisons)")
	dilatedKernelGrad := fs.Bool("dilated-kernel-grad", false, "build transposed convolutions' kernel gradients as convolutions of the input-dilated input instead of in the backward-filter form (for comparisons)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	cfg, err := pathogan.Preset(*preset)
	if err != nil {
		return asUsage(fmt.Errorf("--preset: %w", err))
	}
	// The reference implements section 2.4's networks and objective: time
	// that form of the preset on both sides.
	cfg = cfg.Section24()
	if err := cfg.ApplySettings(*set); err != nil {
		return asUsage(fmt.Errorf("--set: %w", err))
	}
	if err := cfg.Validate(); err != nil {
		return asUsage(err)
	}
	if *steps < 1 || *warmup < 1 {
		return badFlag("--steps %d, --warmup %d: want >= 1 each", *steps, *warmup)
	}
	// The PyTorch reference uses one width for the generators and the
	// discriminators; the comparison needs the same network.
	if *compare && cfg.DiscBase != cfg.Base {
		return badFlag("--compare-torch: disc_base %d differs from base %d; the PyTorch reference uses one width (--set disc_base=%d)", cfg.DiscBase, cfg.Base, cfg.Base)
	}
	scriptPath := ""
	if *compare {
		// Find the reference before spending minutes on the Go run.
		if scriptPath, err = findTorchScript(*torchScript); err != nil {
			return err
		}
	}

	b, info, err := backend.New()
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Fprintf(os.Stderr, "backend: %s\n", info)

	rep := benchReport{Preset: *preset, Size: cfg.Size, Base: cfg.Base, DiscBase: cfg.DiscBase, Z: cfg.Z,
		ResBlocks: cfg.ResBlocks, Batch: cfg.Batch, Steps: *steps, Warmup: *warmup,
		Backend: info.Name + ":" + info.Config, NormGradient: "closed form", TransposeKernelGradient: "backward-filter",
		ConvPrecision: cmp.Or(cfg.ConvPrecision, "float32")}
	if *autodiffNorm {
		defer backend.SetClosedForm(backend.SetClosedForm(false))
		rep.NormGradient = "autodiff"
	}
	if *dilatedKernelGrad {
		defer backend.SetTransposeFilterForm(backend.SetTransposeFilterForm(false))
		rep.TransposeKernelGradient = "input-dilated"
	}
	if *compare {
		// PyTorch runs first, while this process is still small: a child's
		// peak RSS starts from its parent's at the fork.
		dev := *torchDevice
		if dev == "" {
			dev = "cpu"
			if strings.Contains(strings.ToLower(info.Config), "cuda") {
				dev = "cuda"
			}
		}
		if err := torchBoth(&rep, scriptPath, *torchPython, dev); err != nil {
			return err
		}
	}
	tr, err := pathogan.NewTrainer(b, cfg, 1000)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	batchOf := func() []float32 {
		v := make([]float32, cfg.Batch*cfg.Size*cfg.Size*cfg.Channels)
		for i := range v {
			v[i] = float32(2*r.Float64() - 1)
		}
		return v
	}
	xA, xB := batchOf(), batchOf()
	bar := progress.New(os.Stderr, "go steps", *warmup+*steps)
	var times []float64
	if *opProfile > 0 {
		if err := backend.EnableOpProfile(); err != nil {
			return err
		}
	}
	for i := range *warmup + *steps {
		if i == *warmup && *opProfile > 0 {
			backend.OpProfile() // Drop the warm-up steps.
		}
		if i == *warmup && *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("--cpuprofile %s: %w", *cpuProfile, err)
			}
			defer pprof.StopCPUProfile()
		}
		t0 := time.Now()
		if _, err := tr.Step(xA, xB); err != nil {
			return err
		}
		d := time.Since(t0).Seconds()
		if i == 0 {
			rep.GoFirstStepS = d
		}
		if i >= *warmup {
			times = append(times, d)
		}
		bar.Set(i+1, fmt.Sprintf("%.2f s/step", d))
	}
	bar.Finish()
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if *opProfile > 0 {
		printOpProfile(os.Stderr, backend.OpProfile(), *opProfile, *steps)
	}
	rep.Params = pathogan.ParamCount(tr.Ctx)
	if *compare && rep.TorchParams != rep.Params {
		fmt.Fprintf(os.Stderr, "warning: the PyTorch reference has %d parameters, the Go model %d\n", rep.TorchParams, rep.Params)
	}
	rep.GoStepS, rep.GoStepMinS = median(times), slices.Min(times)
	if fwd := float64(tr.ForwardFLOPs()) / 1e9; *compare && math.Abs(rep.TorchFwdGFLOP-fwd) > 1e-9*fwd {
		fmt.Fprintf(os.Stderr, "warning: the PyTorch reference counts %.6f forward GFLOP per step, the Go model %.6f\n", rep.TorchFwdGFLOP, fwd)
	}
	rep.GoImagesPerS = float64(cfg.Batch) / rep.GoStepS
	rep.ForwardGFLOP = float64(tr.ForwardFLOPs()) / 1e9
	rep.TrainGFLOPEst = 3 * rep.ForwardGFLOP
	rep.GoGFLOPSEst = rep.TrainGFLOPEst / rep.GoStepS
	rep.GoPeakRSSMiB = peakRSSMiB()
	onCPU := info.Name == backend.GoBackendName
	if !onCPU {
		rep.GoHeapPeakNote = "host memory only; the model lives in the accelerator's memory"
	}
	if *compare {
		rep.Ratio = rep.GoStepS / rep.TorchStepS
	}
	// The trainer and its backend are done with: the one-core steps and the peak measurement
	// run without them (a one-core process does not hold them, and their heap would sit in the
	// one core's garbage collections).
	tr = nil
	b.Finalize()
	runtime.GC()
	if *compare && onCPU && rep.TorchStepS1T > 0 {
		// One core, as a process with one core runs: a backend made with GOMAXPROCS=1 (which
		// picks the sequential executor unless GOMLX_BACKEND says otherwise) and a trainer of the
		// same configuration on the same batches.
		prev := runtime.GOMAXPROCS(1)
		one, err := oneCoreSteps(cfg, xA, xB, *warmup, *steps)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			return err
		}
		rep.GoStepS1Core = median(one)
		rep.RatioPerCore = rep.GoStepS1Core / rep.TorchStepS1T
	}
	if onCPU && *peak > 0 {
		rep.GemmImpl = backend.MatmulImpl()
		rep.PeakGFLOPS = map[string]float64{}
		best := 0.0
		for _, name := range backend.MatmulImplementations() {
			if name == "purego" {
				continue // minutes at n = 1024, and never the limit
			}
			g, err := backend.MatmulPeak(name, *peak, 3)
			if err != nil {
				return err
			}
			rep.PeakGFLOPS[name] = g
			best = max(best, g)
		}
		if best > 0 {
			rep.PeakFraction = rep.GoGFLOPSEst / (best * float64(runtime.GOMAXPROCS(0)))
		}
	}

	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Printf("config        preset %s: %d px, base %d, disc base %d, z %d, %d residual blocks, batch %d, %d params\n",
		rep.Preset, rep.Size, rep.Base, rep.DiscBase, rep.Z, rep.ResBlocks, rep.Batch, rep.Params)
	fmt.Printf("go            %s: step %.3f s median, %.3f s min (%d steps after %d warm-up; first %.1f s), %.1f images/s\n",
		rep.Backend, rep.GoStepS, rep.GoStepMinS, rep.Steps, rep.Warmup, rep.GoFirstStepS, rep.GoImagesPerS)
	fmt.Printf("              %.2f GFLOP forward, ~%.2f GFLOP per step, ~%.1f GFLOP/s, peak RSS %.0f MiB\n",
		rep.ForwardGFLOP, rep.TrainGFLOPEst, rep.GoGFLOPSEst, rep.GoPeakRSSMiB)
	if *compare {
		fmt.Printf("pytorch       %s on %s: step %.3f s median, %.3f s min, ~%.1f GFLOP/s (its count: %.2f GFLOP forward), peak RSS %.0f MiB\n",
			rep.TorchImpl, rep.TorchDevice, rep.TorchStepS, rep.TorchStepMinS, rep.TorchGFLOPSEst, rep.TorchFwdGFLOP, rep.TorchPeakRSSMiB)
		fmt.Printf("              1 thread %.3f s, 2 threads %.3f s: the faster is %d\n", rep.TorchStepS1T, rep.TorchStepS2T, rep.TorchThreads)
		fmt.Printf("ratio         %.2f (Go median step / PyTorch's faster median step)\n", rep.Ratio)
		if rep.RatioPerCore > 0 {
			fmt.Printf("per core      %.2f (Go with GOMAXPROCS=1, %.3f s, / PyTorch with 1 thread)\n", rep.RatioPerCore, rep.GoStepS1Core)
		}
	}
	if len(rep.PeakGFLOPS) > 0 {
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(rep.PeakGFLOPS)) {
			parts = append(parts, fmt.Sprintf("%s %.1f", name, rep.PeakGFLOPS[name]))
		}
		fmt.Printf("peak          one core, %d³ float32 product, GFLOP/s: %s; the step (matrix product: %s) reaches %.0f %% of the best × %d cores\n",
			*peak, strings.Join(parts, ", "), rep.GemmImpl, 100*rep.PeakFraction, runtime.GOMAXPROCS(0))
	}
	return nil
}

// median of a non-empty slice.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// peakRSSMiB is this process's peak resident memory (VmHWM), in MiB; 0 where
// /proc is missing.
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

// torchBoth runs the PyTorch reference with 1 and then 2 threads (on a GPU,
// once) and keeps the faster run's figures: PyTorch is not always fastest
// with every core (on this project's 2-core VM one thread is).
func torchBoth(rep *benchReport, script, python, device string) error {
	threads := []int{1, 2}
	if device != "cpu" {
		threads = []int{1}
	}
	var best benchReport
	for _, n := range threads {
		r := *rep
		if err := runTorchBench(&r, script, python, device, n); err != nil {
			return err
		}
		if n == 1 {
			rep.TorchStepS1T = r.TorchStepS
		} else {
			rep.TorchStepS2T = r.TorchStepS
		}
		if best.TorchStepS == 0 || r.TorchStepS < best.TorchStepS {
			best, best.TorchThreads = r, n
		}
	}
	rep.TorchImpl, rep.TorchDevice, rep.TorchThreads = best.TorchImpl, best.TorchDevice, best.TorchThreads
	rep.TorchStepS, rep.TorchStepMinS = best.TorchStepS, best.TorchStepMinS
	rep.TorchFwdGFLOP, rep.TorchGFLOPSEst = best.TorchFwdGFLOP, best.TorchGFLOPSEst
	rep.TorchParams, rep.TorchPeakRSSMiB = best.TorchParams, best.TorchPeakRSSMiB
	return nil
}

// torchRefPath is the PyTorch reference's place in the repository.
var torchRefPath = filepath.Join("experiments", "torchref", "pathogan_step.py")

// findTorchScript resolves the PyTorch reference: the flag, then
// $PATHOGAN_TORCH_BENCH, then the repository's experiments/torchref/pathogan_step.py
// in the working directory or any folder above it.
func findTorchScript(flagValue string) (string, error) {
	for _, p := range []string{flagValue, os.Getenv("PATHOGAN_TORCH_BENCH")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("PyTorch reference %s: %w", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, torchRefPath)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("PyTorch reference " + torchRefPath + " not found above the working directory: run from the repository, pass --torch-script or set PATHOGAN_TORCH_BENCH")
		}
		dir = parent
	}
}

// torchResult is the JSON line the PyTorch reference prints.
type torchResult struct {
	Impl      string  `json:"impl"`
	Device    string  `json:"device"`
	Median    float64 `json:"step_s_median"`
	Min       float64 `json:"step_s_min"`
	FwdGFLOP  float64 `json:"fwd_gflop_per_step"`
	GFLOPSEst float64 `json:"achieved_gflops_est"`
	Params    int     `json:"params"`
}

// runTorchBench runs the PyTorch reference on rep's configuration (before the
// Go run starts: never at the same time) and fills in its fields.
func runTorchBench(rep *benchReport, script, python, device string, threads int) error {
	if python == "" {
		python = "python3"
		if _, err := os.Stat("/usr/bin/python3"); err == nil {
			python = "/usr/bin/python3"
		}
	}
	args := []string{script, "--size", strconv.Itoa(rep.Size), "--base", strconv.Itoa(rep.Base),
		"--z", strconv.Itoa(rep.Z), "--res", strconv.Itoa(rep.ResBlocks), "--batch", strconv.Itoa(rep.Batch),
		"--steps", strconv.Itoa(rep.Steps), "--threads", strconv.Itoa(threads), "--device", device}
	fmt.Fprintf(os.Stderr, "pytorch: %s %s\n", python, strings.Join(args, " "))
	cmd := exec.Command(python, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("PyTorch reference (%s %s): %w", python, script, err)
	}
	var tr torchResult
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &tr); err != nil || tr.Median <= 0 {
		return fmt.Errorf("PyTorch reference printed no result line: %q", out.String())
	}
	rep.TorchImpl, rep.TorchDevice = tr.Impl, tr.Device
	rep.TorchStepS, rep.TorchStepMinS = tr.Median, tr.Min
	rep.TorchFwdGFLOP, rep.TorchGFLOPSEst = tr.FwdGFLOP, tr.GFLOPSEst
	rep.TorchParams = tr.Params
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rep.TorchPeakRSSMiB = float64(ru.Maxrss) / 1024
	}
	return nil
}

// printOpProfile prints the n slowest op types and shapes, per step.
func printOpProfile(w io.Writer, prof []backend.OpProfileEntry, n, steps int) {
	total := 0.0
	for _, e := range prof {
		total += e.Seconds
	}
	fmt.Fprintf(w, "ops: %.3f s per step in %d op kinds; the %d slowest, per step:\n", total/float64(steps), len(prof), min(n, len(prof)))
	for _, e := range prof[:min(n, len(prof))] {
		fmt.Fprintf(w, "  %8.2f ms %5.1f%% %5d calls  %s\n", 1e3*e.Seconds/float64(steps), 100*e.Seconds/total, e.Calls/steps, e.Op)
	}
}

// oneCoreSteps times steps training steps, after warmup untimed ones, of a new trainer of cfg on
// a new backend (made with whatever GOMAXPROCS the caller set).
func oneCoreSteps(cfg pathogan.Config, xA, xB []float32, warmup, steps int) ([]float64, error) {
	b, _, err := backend.New()
	if err != nil {
		return nil, err
	}
	defer b.Finalize()
	tr, err := pathogan.NewTrainer(b, cfg, 1000)
	if err != nil {
		return nil, err
	}
	var times []float64
	for i := range warmup + steps {
		t0 := time.Now()
		if _, err := tr.Step(xA, xB); err != nil {
			return nil, err
		}
		if i >= warmup {
			times = append(times, time.Since(t0).Seconds())
		}
	}
	return times, nil
}
