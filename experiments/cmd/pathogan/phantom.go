package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/phantom"
	"github.com/pathogan-go/pathogan/experiments/progress"
)

func runPhantom(args []string) error {
	fs := newFlags("phantom", "--out DIR [--patients N] [--seed S] [options]")
	def := phantom.DefaultConfig()
	cfg := def
	out := fs.String("out", "", "output folder (patients go to DIR/HGG/<id>/ and DIR/LGG/<id>/)")
	fs.IntVar(&cfg.Patients, "patients", def.Patients, "number of patients")
	fs.Uint64Var(&cfg.Seed, "seed", def.Seed, "seed: the same seed gives byte-identical files")
	shape := fs.String("shape", fmt.Sprintf("%d,%d,%d", def.Shape[0], def.Shape[1], def.Shape[2]), "volume shape x,y,z (always spanning BraTS's 240x240x155 mm field of view)")
	fs.StringVar(&cfg.Anatomy, "anatomy", "", `anatomy: "" for the built-in Colin27 slab, "procedural", or a skull-stripped T1 template (.nii/.nii.gz)`)
	fs.Float64Var(&cfg.LGGFraction, "lgg-fraction", def.LGGFraction, "fraction of low-grade (non-enhancing) patients")
	fs.Float64Var(&cfg.NoiseStd, "noise", def.NoiseStd, "Rician noise level, as a fraction of the brightest healthy tissue")
	fs.BoolVar(&cfg.Healthy, "healthy", true, "also write each patient's healthy counterpart (<id>_healthy_{flair,t1,t1ce,t2}.nii.gz: no tumour, no mass effect, the same noise), the ground truth for inpainting")
	workers := fs.Int("workers", data.DefaultWorkers(), "patients generated at once (one per core, at most 2, unless set); each takes about 0.6 GB at 240x240x155")
	preview := fs.String("preview", "", "also write a PNG of the first patient (four channels and the label overlay) to this file")
	previewSlice := fs.Int("preview-slice", -1, "axial slice of the preview, or -1 for the slice in 60..100 with the most tumour")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef(fs, "--out is required")
	}
	var err error
	if cfg.Shape, err = parseShape(*shape); err != nil {
		return asUsage(err)
	}
	if err := checkPhantomFlags(cfg, *workers); err != nil {
		return asUsage(err)
	}
	if n := data.WorkerMemoryNote(*workers); n != "" {
		fmt.Fprintln(os.Stderr, n)
	}
	start := time.Now()
	bar := progress.New(os.Stderr, "phantom", cfg.Patients)
	err = phantom.Write(*out, cfg, *workers, func(done, total int) { bar.Set(done, "patients") })
	bar.Finish()
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d synthetic patients to %s in %.1f s\n", cfg.Patients, *out, time.Since(start).Seconds())
	if *preview != "" {
		p, err := phantom.Generate(cfg, 0)
		if err != nil {
			return err
		}
		z := *previewSlice
		if z < 0 {
			z = mostTumourSlice(p, 60, 100)
		}
		var buf bytes.Buffer
		if err := phantom.RenderPNG(p, z, &buf); err != nil {
			return err
		}
		if err := os.WriteFile(*preview, buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Printf("preview of %s, slice %d: %s\n", p.ID, z, *preview)
	}
	return nil
}

// maxWorkers bounds the --workers flags of phantom and prepare.
const maxWorkers = data.MaxWorkers

// checkPhantomFlags checks phantom's size and count flags, naming the flag
// and its bounds.
func checkPhantomFlags(cfg phantom.Config, workers int) error {
	if cfg.Patients < 1 || cfg.Patients > phantom.MaxPatients {
		return fmt.Errorf("--patients %d: want 1 to %d", cfg.Patients, phantom.MaxPatients)
	}
	if workers < 1 || workers > maxWorkers {
		return fmt.Errorf("--workers %d: want 1 to %d", workers, maxWorkers)
	}
	sh := cfg.Shape
	for _, n := range sh {
		if n < 16 || n > 1024 {
			return fmt.Errorf("--shape %d,%d,%d: each size must be 16 to 1024", sh[0], sh[1], sh[2])
		}
	}
	if v := sh[0] * sh[1] * sh[2]; v > phantom.MaxVoxels {
		return fmt.Errorf("--shape %d,%d,%d: %d voxels, at most %d (%d x %d x %d is BraTS's %d; a patient takes about 65 bytes a voxel to generate)",
			sh[0], sh[1], sh[2], v, phantom.MaxVoxels, phantom.BraTSShape[0], phantom.BraTSShape[1], phantom.BraTSShape[2],
			phantom.BraTSShape[0]*phantom.BraTSShape[1]*phantom.BraTSShape[2])
	}
	return nil
}

// parseShape reads "x,y,z".
func parseShape(s string) ([3]int, error) {
	var sh [3]int
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return sh, fmt.Errorf("--shape %q: want three sizes x,y,z", s)
	}
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return sh, fmt.Errorf("--shape %q: %q is not a number", s, p)
		}
		sh[i] = v
	}
	return sh, nil
}

// mostTumourSlice returns the axial slice in lo..hi (clamped to the volume)
// with the most tumour voxels.
func mostTumourSlice(p *phantom.Patient, lo, hi int) int {
	nx, ny, nz := p.Shape[0], p.Shape[1], p.Shape[2]
	hi = min(hi, nz-1)
	best, bestN := min(lo, hi), -1
	for z := min(lo, hi); z <= hi; z++ {
		n := 0
		for _, l := range p.Seg[z*nx*ny : (z+1)*nx*ny] {
			if l > 0 {
				n++
			}
		}
		if n > bestN {
			best, bestN = z, n
		}
	}
	return best
}
