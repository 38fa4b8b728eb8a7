package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/progress"
)

func runPrepare(args []string) error {
	fs := newFlags("prepare", "--brats DIR --out DIR [options]")
	def := data.DefaultOptions()
	brats := fs.String("brats", "", "BraTS folder (2017 layout HGG/<id>/..., LGG/<id>/..., or <id>/<id>_<mod>.nii.gz)")
	out := fs.String("out", "", "output folder for the slice set")
	o := def
	fs.IntVar(&o.SliceMin, "slice-min", def.SliceMin, "first axial slice taken")
	fs.IntVar(&o.SliceMax, "slice-max", def.SliceMax, "last axial slice taken (inclusive)")
	fs.IntVar(&o.HealthyMax, "healthy-max", def.HealthyMax, "a slice with at most this many tumour pixels is healthy")
	fs.IntVar(&o.PathologicalAbove, "pathological-above", def.PathologicalAbove, "a slice with more than this many tumour pixels is pathological")
	fs.Float64Var(&o.TestFraction, "test-fraction", def.TestFraction, "share of patients (per grade) in the test split")
	fs.Float64Var(&o.ValFraction, "val-fraction", def.ValFraction, "share of patients (per grade) in the validation split, for model selection")
	fs.Uint64Var(&o.Seed, "seed", def.Seed, "seed of the patient split")
	fs.StringVar(&o.SplitFile, "split", "", "split CSV (patient,split) to reuse instead of drawing one")
	fs.IntVar(&o.Crop, "crop", 0, "cut the central CROPxCROP window of each slice first (0: none)")
	fs.IntVar(&o.Size, "size", 0, "resample slices to SIZExSIZE (0: native size)")
	fs.IntVar(&o.Workers, "workers", data.DefaultWorkers(), "patients loaded at once (one per core, at most 2, unless set); each takes about 0.6 GB at 240x240x155")
	force := fs.Bool("force", false, "prepare again even if --out already holds this set")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *brats == "" || *out == "" {
		return usagef(fs, "--brats and --out are required")
	}
	if err := checkPrepareFlags(o); err != nil {
		return asUsage(err)
	}
	if n := data.WorkerMemoryNote(o.Workers); n != "" {
		fmt.Fprintln(os.Stderr, n)
	}
	if *force {
		os.Remove(*out + "/" + data.SummaryFile)
	}
	start := time.Now()
	var bar *progress.Bar
	sum, err := data.Prepare(*brats, *out, o, func(done, total int) {
		if bar == nil {
			bar = progress.New(os.Stderr, "prepare", total)
		}
		bar.Set(done, "patients")
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if sum.Cached {
		fmt.Printf("%s already holds this slice set (same source and options); --force prepares it again\n", *out)
	}
	if sum.Damaged != "" {
		fmt.Printf("%s held this slice set damaged (%s); prepared it again\n", *out, sum.Damaged)
	}
	printSummary(sum)
	if !sum.Cached {
		fmt.Printf("time %.1f s, peak resident memory %d MB\n", time.Since(start).Seconds(), peakRSSMB())
	}
	return nil
}

// checkPrepareFlags checks prepare's size, count and fraction flags before
// anything is read or allocated, naming the flag and its bounds.
func checkPrepareFlags(o data.Options) error {
	switch {
	case o.Size < 0 || o.Size > data.MaxSliceSize:
		return fmt.Errorf("--size %d: want 0 (native size) to %d", o.Size, data.MaxSliceSize)
	case o.Crop < 0 || o.Crop > data.MaxSliceSize:
		return fmt.Errorf("--crop %d: want 0 (none) to %d", o.Crop, data.MaxSliceSize)
	case o.Workers < 1 || o.Workers > maxWorkers:
		return fmt.Errorf("--workers %d: want 1 to %d", o.Workers, maxWorkers)
	case o.SliceMin < 0 || o.SliceMax < o.SliceMin:
		return fmt.Errorf("--slice-min %d, --slice-max %d: want 0 <= slice-min <= slice-max", o.SliceMin, o.SliceMax)
	case o.HealthyMax < 0 || o.PathologicalAbove < o.HealthyMax:
		return fmt.Errorf("--healthy-max %d, --pathological-above %d: want 0 <= healthy-max <= pathological-above", o.HealthyMax, o.PathologicalAbove)
	case !(o.TestFraction >= 0 && o.TestFraction <= 1):
		return fmt.Errorf("--test-fraction %v: want a number in [0, 1]", o.TestFraction)
	case !(o.ValFraction >= 0 && o.TestFraction+o.ValFraction <= 1):
		return fmt.Errorf("--val-fraction %v: want a number in [0, 1 - test fraction]", o.ValFraction)
	}
	return nil
}

// printSummary prints what was kept and skipped and the slice counts.
func printSummary(s *data.Summary) {
	c := s.Slices
	fmt.Printf("patients: %d found, %d kept, %d skipped\n", s.Found, s.Kept, len(s.Skipped))
	for _, sk := range s.Skipped {
		fmt.Printf("  skipped %s: %s\n", sk.Patient, sk.Reason)
	}
	fmt.Printf("slices %d..%d, %dx%dx%d each:\n", s.Options.SliceMin, s.Options.SliceMax, s.Height, s.Width, s.Channels)
	fmt.Printf("  %-6s %8s %13s\n", "split", "healthy", "pathological")
	fmt.Printf("  %-6s %8d %13d\n", "train", c.TrainHealthy, c.TrainPathological)
	if c.ValHealthy+c.ValPathological > 0 {
		fmt.Printf("  %-6s %8d %13d\n", "val", c.ValHealthy, c.ValPathological)
	}
	if s.Options.TestFraction == 0 && c.TestHealthy+c.TestPathological == 0 {
		fmt.Printf("  %-6s %8s %13s   (--test-fraction 0: no test split)\n", "test", "-", "-")
	} else {
		fmt.Printf("  %-6s %8d %13d\n", "test", c.TestHealthy, c.TestPathological)
	}
	fmt.Printf("  discarded (1..%d tumour pixels): %d\n", s.Options.PathologicalAbove, c.Discarded)
}

// peakRSSMB reads the peak resident set size (VmHWM) from /proc; 0 when it
// cannot.
func peakRSSMB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb / 1024
		}
	}
	return 0
}
