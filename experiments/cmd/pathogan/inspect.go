package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/evaluate"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/diagnose"
	"github.com/pathogan-go/pathogan/viz"
)

func runInspect(args []string) error {
	fs := newFlags("inspect", "--run RUNDIR --data DIR [--split train|val|test] [--json]")
	run := fs.String("run", "", "PathoGAN run folder (its newest checkpoint) or a checkpoint file")
	dataDir := fs.String("data", "", "prepared slice set the model was trained on")
	split := fs.String("split", "test", `split whose slices are used: "train", "val" or "test"`)
	healthy := fs.Int("healthy", 20, "healthy slices to sample pathologies into")
	patho := fs.Int("pathological", 64, "pathological slices for active units and segmented areas")
	perSlice := fs.Int("per-slice", 8, "δB draws per healthy slice")
	seed := fs.Uint64("seed", 1, "seed of the δB draws")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	figures := fs.String("figures", "", "also write figure2.png (GB on three test slices) and samples.png (δB draws into three healthy slices) into this folder")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *run == "" || *dataDir == "" {
		return usagef(fs, "--run and --data are required")
	}
	if err := data.CheckSplit(*split); err != nil {
		return badFlag("--split: %w", err)
	}
	if *healthy < 2 || *patho < 2 || *perSlice < 2 {
		return badFlag("--healthy %d, --pathological %d, --per-slice %d: want at least 2 each", *healthy, *patho, *perSlice)
	}
	m, err := loadPathoGAN(*run)
	if err != nil {
		return err
	}
	ds, err := data.Open(*dataDir)
	if err != nil {
		return err
	}
	defer ds.Close()
	r, err := diagnose.Inspect(m, ds, diagnose.Options{Split: *split, Healthy: *healthy, Pathological: *patho, PerSlice: *perSlice, Seed: *seed})
	if err != nil {
		return err
	}
	// The inpainting against the healthy ground truth, where the set has it.
	var inp *evaluate.InpaintScore
	if idx := ds.Select(*split, data.Pathological); ds.HasHealthy() && len(idx) > 0 {
		sc, err := scoreInpainting(m, ds, idx)
		if err != nil {
			return err
		}
		inp = &sc
	}
	if *figures != "" {
		if err := inspectionFigures(m, ds, *split, *seed, *figures); err != nil {
			return err
		}
	}
	if *asJSON {
		js, _ := json.MarshalIndent(struct {
			diagnose.Report
			Inpainting *evaluate.InpaintScore `json:"inpainting,omitempty"`
		}{r, inp}, "", "  ")
		fmt.Println(string(js))
		return nil
	}
	printInspection(os.Stdout, r)
	if inp != nil {
		printInpainting(os.Stdout, *inp)
	}
	return nil
}

// scoreInpainting scores GB's inpainting p̂B and translation ŷA on the given pathological
// slices against the set's healthy counterparts (evaluate.ScoreInpainting).
func scoreInpainting(m *pathogan.Inference, ds *data.Set, idx []int) (evaluate.InpaintScore, error) {
	return evaluate.ScoreInpainting(func(x []float32) ([]float32, []float32, error) {
		tr, err := m.ToHealthy(x)
		return tr.Inpainting, tr.Output, err
	}, ds, idx, m.Cfg.Threshold)
}

// printInpainting writes an inpainting score as text.
func printInpainting(w io.Writer, sc evaluate.InpaintScore) {
	fmt.Fprintf(w, "inpainting against the healthy truth (%d tumour pixels of %d slices; mean over channels):\n", sc.TumourPixels, sc.Slices)
	fmt.Fprintf(w, "  MAE inside the tumour   ŷA %.3f, p̂B %.3f, baseline %.3f (the slice's mean healthy tissue)\n", sc.MeanTumour, sc.MeanTumourInpainting, sc.MeanBaseline)
	fmt.Fprintf(w, "  ŷA's change outside     %.4f\n", sc.MeanOutside)
	fmt.Fprintf(w, "  p̂B's error outside      %.3f; relevancy pull %.4f   (share of healthy pixels where |x - p̂B| exceeds the tumour's: eq. 15 rewards labelling them)\n", sc.MeanOutsideInpainting, sc.RelevancyPull)
	fmt.Fprintf(w, "  detail                  p̂B over the brain %.2f, ŷA inside the tumour %.2f   (1: as much fine structure as the truth; a blur < 1)\n", sc.DetailInpainting, sc.DetailTumour)
}

// printInspection writes a diagnose.Report as text.
func printInspection(w io.Writer, r diagnose.Report) {
	s, v := r.Samples, r.Sensitivity
	fmt.Fprintf(w, "checkpoint step %d, %s split, masks at labelmap > %.2f\n", r.Step, r.Split, r.Threshold)
	fmt.Fprintf(w, "samples: %d δB draws into each of %d healthy slices\n", s.PerSlice, s.Slices)
	fmt.Fprintf(w, "  with a region > 20 px   %.2f\n", s.NonEmpty)
	fmt.Fprintf(w, "  mean pairwise IoU       %.2f   (1: every draw the same)\n", s.MeanPairwiseIoU)
	fmt.Fprintf(w, "  place spread            %.1f px (0: every lesion at one place; true tumours over slices: %.1f px)\n", s.PlaceSpread, r.TumourPlaceSpread)
	fmt.Fprintf(w, "  area q10/median/q90     %.0f / %.0f / %.0f px\n", s.Area.Q10, s.Area.Median, s.Area.Q90)
	fmt.Fprintf(w, "  labelmap mean / max     %.4f / %.4f\n", s.MeanLabelmap, s.MaxLabelmap)
	fmt.Fprintf(w, "  difference below %.2f   %.2f   (share of the samples' pairwise labelmap difference where no mask shows)\n", r.Threshold, r.Samples.BelowThreshold)
	fmt.Fprintf(w, "sensitivity of GA (mean |change| per pixel, labelmap / image):\n")
	fmt.Fprintf(w, "  δB redrawn              %.4f / %.4f\n", v.DeltaL, v.DeltaImage)
	fmt.Fprintf(w, "  γA of another slice     %.4f / %.4f\n", v.GammaL, v.GammaImage)
	fmt.Fprintf(w, "  another slice           %.4f / %.4f\n", v.InputL, v.InputImage)
	fmt.Fprintf(w, "  δB relative to input    %.3f / %.3f   (0: δB ignored)\n", v.RelativeL, v.RelativeImage)
	fmt.Fprintf(w, "  ∆B's code of a tumour, δB = ∆B(l̂B ⊙ xB), decoded by EA: %s\n", placeCodeText(r.Place))
	fmt.Fprintf(w, "active units (variance of the mean > 0.01): ΓA %d / %d, ∆B %d / %d\n", r.GammaActive, r.Z, r.DeltaActive, r.Z)
	fmt.Fprintf(w, "area q10/median/q90: GB masks %.0f / %.0f / %.0f px, tumours %.0f / %.0f / %.0f px; masks outside the tumour %.1f px per slice\n",
		r.SegmentedArea.Q10, r.SegmentedArea.Median, r.SegmentedArea.Q90, r.TumourArea.Q10, r.TumourArea.Median, r.TumourArea.Q90, r.OutsideTumour)
}

// inspectionFigures writes figure2.png (GB on the largest, median and a small
// tumour of the split) and samples.png (eight δB draws into three healthy
// slices, one grid each, stacked) into dir.
func inspectionFigures(m *pathogan.Inference, ds *data.Set, split string, seed uint64, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h, w, c := ds.Height, ds.Width, ds.Channels
	scale := max(1, 192/h)
	patho := ds.Select(split, data.Pathological)
	healthy := ds.Select(split, data.Healthy)
	if len(patho) == 0 || len(healthy) == 0 {
		return fmt.Errorf("%s: split %q needs healthy and pathological slices for figures", ds.Dir, split)
	}
	slices.SortFunc(patho, func(a, b int) int { return ds.Info[b].TumourPixels - ds.Info[a].TumourPixels })
	var rows []viz.Figure2Sample
	for _, i := range []int{patho[0], patho[len(patho)/2], patho[len(patho)*9/10]} {
		x, err := ds.Image(i, nil)
		if err != nil {
			return err
		}
		lab, err := ds.Label(i, nil)
		if err != nil {
			return err
		}
		truth := make([]float32, len(lab))
		for k, v := range lab {
			if v > 0 {
				truth[k] = 1
			}
		}
		tr, err := m.ToHealthy(x)
		if err != nil {
			return err
		}
		in := ds.Info[i]
		rows = append(rows, viz.Figure2Sample{Input: viz.MustImage(h, w, c, x), Inpainting: viz.MustImage(h, w, c, tr.Inpainting),
			Translated: viz.MustImage(h, w, c, tr.Output), Truth: truth, Labelmap: tr.Labelmap,
			Name: fmt.Sprintf("%s, slice %d", in.Patient, in.Slice)})
	}
	if err := viz.WritePNG(filepath.Join(dir, "figure2.png"), viz.Figure2(rows, scale)); err != nil {
		return err
	}
	var grids []image.Image
	for k, i := range []int{healthy[0], healthy[len(healthy)/2], healthy[len(healthy)-1]} {
		x, err := ds.Image(i, nil)
		if err != nil {
			return err
		}
		g, err := sampleGrid(m, x, 8, seed+uint64(k), 9, scale)
		if err != nil {
			return err
		}
		grids = append(grids, g)
	}
	return viz.WritePNG(filepath.Join(dir, "samples.png"), stackImages(grids))
}

// sampleGrid draws n codes δB (from seed) into the healthy image x and lays
// out x, the n samples (FLAIR) and their labelmaps in rows of cols cells.
func sampleGrid(m *pathogan.Inference, x []float32, n int, seed uint64, cols, scale int) (image.Image, error) {
	tr, err := m.SamplePathologies(x, n, seed)
	if err != nil {
		return nil, err
	}
	s, c := m.Cfg.Size, m.Cfg.Channels
	per, px := s*s*c, s*s
	var imgs, lms []viz.Image
	for k := range n {
		imgs = append(imgs, viz.MustImage(s, s, c, tr.Output[k*per:(k+1)*per]))
		lms = append(lms, viz.MustImage(s, s, 1, tr.Labelmap[k*px:(k+1)*px]))
	}
	return viz.SampleGrid(viz.MustImage(s, s, c, x), imgs, lms, 0, cols, scale), nil
}

// loadPathoGAN picks the backend (saying which on stderr) and loads a
// PathoGAN run's newest checkpoint or a checkpoint file for inference.
func loadPathoGAN(run string) (*pathogan.Inference, error) {
	b, info, err := backend.New()
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, info)
	m, err := pathogan.LoadInference(b, run)
	if err != nil {
		return nil, err
	}
	for _, e := range m.Skipped {
		fmt.Fprintf(os.Stderr, "warning: passing over a damaged checkpoint: %v\n", e)
	}
	return m, nil
}

// stackImages places images one under the other on a white background.
func stackImages(imgs []image.Image) image.Image {
	wd, ht := 0, 0
	for _, im := range imgs {
		wd, ht = max(wd, im.Bounds().Dx()), ht+im.Bounds().Dy()
	}
	dst := image.NewRGBA(image.Rect(0, 0, wd, ht))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	y := 0
	for _, im := range imgs {
		draw.Draw(dst, image.Rect(0, y, im.Bounds().Dx(), y+im.Bounds().Dy()), im, im.Bounds().Min, draw.Src)
		y += im.Bounds().Dy()
	}
	return dst
}
