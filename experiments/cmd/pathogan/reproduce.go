package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/evaluate"
	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/experiments/quickstart"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/unet"
	"github.com/pathogan-go/pathogan/viz"
)

// reproduceTiming is the wall time spent per stage, summed over the runs
// that built a report folder (a resumed run adds to it).
type reproduceTiming struct {
	Seconds map[string]float64 `json:"seconds"`
	Order   []string           `json:"order"`
}

func (t *reproduceTiming) add(stage string, d time.Duration) {
	if t.Seconds == nil {
		t.Seconds = map[string]float64{}
	}
	if _, ok := t.Seconds[stage]; !ok {
		t.Order = append(t.Order, stage)
	}
	t.Seconds[stage] += d.Seconds()
}

func (t *reproduceTiming) total() float64 {
	s := 0.0
	for _, v := range t.Seconds {
		s += v
	}
	return s
}

func runReproduce(args []string) error {
	fs := newFlags("reproduce", "[--out DIR] [--preset NAME] [--brats DIR] [options]")
	out := fs.String("out", "work/reproduce", "output folder: data, both runs and report/ (run again to resume)")
	preset := fs.String("preset", "mini", "preset of both models (paper: 240 px, for a GPU)")
	brats := fs.String("brats", "", "a BraTS copy to use instead of the built-in phantom data")
	patients := fs.Int("patients", 24, "phantom patients (without --brats)")
	seed := fs.Uint64("seed", 1, "seed of the phantom, the patient split and both trainings")
	steps := fs.Int("steps", 1000, "PathoGAN training steps")
	baseSteps := fs.Int("baseline-steps", 600, "U-Net training steps")
	set := fs.String("set", "learning_rate=5e-4", `PathoGAN overrides "key=value;..." (the default is the learning rate the mini preset learns best with on the phantom)`)
	baseSet := fs.String("baseline-set", "", `U-Net overrides "key=value;..."`)
	empty := fs.String("empty", "skip", "empty-mask policy for HD95/AVD: skip, nan or worst")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	policy, err := metrics.ParseEmptyPolicy(*empty)
	if err != nil {
		return err
	}
	cfg, err := pathogan.Preset(*preset)
	if err != nil {
		return err
	}
	cfg.Seed = *seed
	if err := cfg.ApplySettings(*set); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ucfg, err := unet.Preset(*preset)
	if err != nil {
		return err
	}
	ucfg.Seed = *seed
	if err := ucfg.ApplySettings(*baseSet); err != nil {
		return err
	}
	if err := ucfg.Validate(); err != nil {
		return err
	}
	if *steps < 1 || *baseSteps < 1 {
		return fmt.Errorf("--steps %d, --baseline-steps %d: want >= 1", *steps, *baseSteps)
	}
	reportDir := filepath.Join(*out, "report")
	if err := os.MkdirAll(reportDir, 0o755); err != nil {
		return err
	}
	var timing reproduceTiming
	timingPath := filepath.Join(*out, "timing.json")
	if b, err := os.ReadFile(timingPath); err == nil {
		json.Unmarshal(b, &timing)
	}
	saveTiming := func() {
		js, _ := json.MarshalIndent(timing, "", "  ")
		viz.WriteFileAtomic(timingPath, append(js, '\n'))
	}
	stage := func(name string, f func() error) error {
		start := time.Now()
		err := f()
		timing.add(name, time.Since(start))
		saveTiming()
		return err
	}

	// 1. Data.
	var bars = map[string]*progress.Bar{}
	showProgress := func(stage string, done, total int) {
		if bars[stage] == nil {
			bars[stage] = progress.New(os.Stderr, stage, total)
		}
		bars[stage].Set(done, "patients")
		if done == total {
			bars[stage].Finish()
		}
	}
	source := *brats
	if source == "" {
		if err := stage("phantom", func() error {
			source, err = quickstart.Phantom(filepath.Join(*out, "phantom"), *patients, *seed, showProgress)
			return err
		}); err != nil {
			return err
		}
	}
	var ds *data.Set
	var sum *data.Summary
	if err := stage("prepare", func() error {
		ds, sum, err = quickstart.Prepare(source, filepath.Join(*out, fmt.Sprintf("slices%d", cfg.Size)), cfg.Size, *seed, showProgress)
		return err
	}); err != nil {
		return err
	}
	defer ds.Close()

	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)

	// 2. Training, resumed where a previous run stopped.
	pganDir, unetDir := filepath.Join(*out, "pathogan"), filepath.Join(*out, "unet")
	if err := stage("train PathoGAN", func() error {
		_, err := trainPathoGAN(b, ds, cfg, pganDir, pathogan.RunOptions{Steps: *steps, Keep: 2, Resume: true})
		return err
	}); err != nil {
		return err
	}
	if err := stage("train U-Net", func() error {
		_, err := trainUNet(b, ds, ucfg, unetDir, pathogan.RunOptions{Steps: *baseSteps, Keep: 2, Resume: true})
		return err
	}); err != nil {
		return err
	}

	// 3. Evaluation and the table.
	var entries []evaluate.Entry
	if err := stage("evaluate", func() error {
		for _, dir := range []string{pganDir, unetDir} {
			_, rows, meta, err := evaluateRun(b, dir, ds, "", policy)
			if err != nil {
				return err
			}
			entries = append(entries, evaluate.Entry{Meta: meta, Rows: rows})
		}
		return nil
	}); err != nil {
		return err
	}
	table, recs := evaluate.Table(entries)
	if err := viz.WriteFileAtomic(filepath.Join(reportDir, "table.md"), []byte(table)); err != nil {
		return err
	}
	if err := writeCSVFile(filepath.Join(reportDir, "table.csv"), recs); err != nil {
		return err
	}

	// 4. Figures and the report.
	var figs []reportFigure
	if err := stage("figures", func() error {
		figs, err = reproduceFigures(b, ds, pganDir, unetDir, reportDir, entries)
		return err
	}); err != nil {
		return err
	}
	report := reproduceReport(reportArgs{args: args, source: source, brats: *brats != "", sum: sum, cfg: cfg, ucfg: ucfg,
		steps: *steps, baseSteps: *baseSteps, backend: info.String(), table: table, timing: timing, figs: figs})
	if err := viz.WriteFileAtomic(filepath.Join(reportDir, "report.md"), []byte(report)); err != nil {
		return err
	}
	fmt.Print(table)
	fmt.Printf("\nreport: %s (total run time %s)\n", filepath.Join(reportDir, "report.md"), fmtDuration(timing.total()))
	return nil
}

func fmtDuration(s float64) string {
	return (time.Duration(s) * time.Second).Round(time.Second).String()
}

// reportFigure is one figure file of the report, with its caption.
type reportFigure struct{ file, caption string }

// reproduceFigures writes the report's figures: the Figure 2 analogue on
// test slices, sampled pathologies, the training curves and the Dice
// distributions.
func reproduceFigures(b backends.Backend, ds *data.Set, pganDir, unetDir, reportDir string, entries []evaluate.Entry) ([]reportFigure, error) {
	pg, err := pathogan.LoadInference(b, pganDir)
	if err != nil {
		return nil, err
	}
	un, err := unet.LoadInference(b, unetDir)
	if err != nil {
		return nil, err
	}
	h, w, c := ds.Height, ds.Width, ds.Channels
	scale := max(1, 128/w)
	var figs []reportFigure

	// Figure 2: three test slices, the ones with the largest, median and a
	// small tumour, so the figure is not only the easy case.
	patho := ds.Select(data.Test, data.Pathological)
	if len(patho) == 0 {
		patho = ds.Select("", data.Pathological)
	}
	slices.SortStableFunc(patho, func(a, b int) int { return ds.Info[b].TumourPixels - ds.Info[a].TumourPixels })
	var pick []int
	for _, q := range []float64{0, 0.5, 0.85} {
		if i := patho[int(q*float64(len(patho)-1))]; !slices.Contains(pick, i) {
			pick = append(pick, i)
		}
	}
	per := h * w * c
	var samples []viz.Figure2Sample
	for _, idx := range pick {
		x, err := ds.Image(idx, nil)
		if err != nil {
			return nil, err
		}
		lab, err := ds.Label(idx, nil)
		if err != nil {
			return nil, err
		}
		tr, err := pg.ToHealthy(x)
		if err != nil {
			return nil, err
		}
		ul, err := un.Segment(x)
		if err != nil {
			return nil, err
		}
		truth := make([]float32, h*w)
		for i, v := range lab {
			if v != 0 {
				truth[i] = 1
			}
		}
		in := ds.Info[idx]
		samples = append(samples, viz.Figure2Sample{Input: viz.MustImage(h, w, c, x), Inpainting: viz.MustImage(h, w, c, tr.Inpainting[:per]),
			Translated: viz.MustImage(h, w, c, tr.Output[:per]), Truth: truth, Labelmap: tr.Labelmap, Baseline: ul, BaselineName: "U-Net",
			Name: fmt.Sprintf("%s, slice %d (%s split, %d tumour px at full size)", in.Patient, in.Slice, in.Split, in.TumourPixels)})
	}
	if err := viz.WritePNG(filepath.Join(reportDir, "figure2.png"), viz.Figure2(samples, scale)); err != nil {
		return nil, err
	}
	figs = append(figs, reportFigure{"figure2.png", "Figure 2 analogue on test slices (largest, median and a small tumour): " +
		"left, the four channels of the input x_B, PathoGAN's inpaintings p_B and the translated healthy images y_A; " +
		"right, the ground truth l_GS, PathoGAN's labelmap l_B (weakly supervised) and the U-Net's (fully supervised)."})

	// Sampled pathologies: one healthy test slice, eight draws of δB.
	healthy := ds.Select(data.Test, data.Healthy)
	if len(healthy) == 0 {
		healthy = ds.Select("", data.Healthy)
	}
	if len(healthy) > 0 {
		x, err := ds.Image(healthy[len(healthy)/2], nil)
		if err != nil {
			return nil, err
		}
		const n = 8
		tr, err := pg.SamplePathologies(x, n, 7)
		if err != nil {
			return nil, err
		}
		var imgs, lms []viz.Image
		for k := range n {
			imgs = append(imgs, viz.MustImage(h, w, c, tr.Output[k*per:(k+1)*per]))
			lms = append(lms, viz.MustImage(h, w, 1, tr.Labelmap[k*h*w:(k+1)*h*w]))
		}
		if err := viz.WritePNG(filepath.Join(reportDir, "samples.png"), viz.SampleGrid(viz.MustImage(h, w, c, x), imgs, lms, 0, 4, scale)); err != nil {
			return nil, err
		}
		figs = append(figs, reportFigure{"samples.png", "Pathologies sampled into one healthy test slice (FLAIR): GA(xA, δB) for eight draws δB ~ N(0, I), each with its labelmap."})
	}

	// Training curves.
	for _, r := range []struct{ dir, file, name string }{{pganDir, "curves_pathogan.png", "PathoGAN"}, {unetDir, "curves_unet.png", "U-Net"}} {
		png, err := viz.TrainingCurvesFile(filepath.Join(r.dir, pathogan.HistoryFile), 900, 600)
		if err != nil {
			return nil, err
		}
		if err := viz.WriteFileAtomic(filepath.Join(reportDir, r.file), png); err != nil {
			return nil, err
		}
		figs = append(figs, reportFigure{r.file, r.name + "'s loss terms per training step (red: moving average)."})
	}

	// Per-slice Dice on the test split, per method.
	var groups []viz.Group
	for _, e := range entries {
		var v []float64
		for _, r := range e.Rows {
			if r.Split == data.Test {
				v = append(v, r.Dice)
			}
		}
		groups = append(groups, viz.Group{Name: e.Meta.Method, Values: v})
	}
	png, err := viz.MetricBoxes("Per-slice Dice, test patients", "Dice", groups, 600, 400)
	if err != nil {
		return nil, err
	}
	if err := viz.WriteFileAtomic(filepath.Join(reportDir, "dice.png"), png); err != nil {
		return nil, err
	}
	figs = append(figs, reportFigure{"dice.png", "Distribution of the per-slice Dice on the test patients' pathological slices."})
	return figs, nil
}

type reportArgs struct {
	args             []string
	source           string
	brats            bool
	sum              *data.Summary
	cfg              pathogan.Config
	ucfg             unet.Config
	steps, baseSteps int
	backend          string
	table            string
	timing           reproduceTiming
	figs             []reportFigure
}

// reproduceReport writes report.md.
func reproduceReport(a reportArgs) string {
	var s strings.Builder
	fmt.Fprintf(&s, "# PathoGAN-Go: Table 1 reproduction\n\n")
	fmt.Fprintf(&s, "Made by `pathogan reproduce %s` on %s.\n\n", strings.Join(a.args, " "), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	data := "the built-in phantom (synthetic BraTS-like patients on the Colin27 anatomy)"
	if a.brats {
		data = "a BraTS copy"
	}
	c := a.sum.Slices
	fmt.Fprintf(&s, "Data: %s at `%s`; %d patients kept of %d found, slices %d..%d resized to %d px; "+
		"training split %d healthy + %d pathological slices, test split %d + %d.\n\n",
		data, a.source, a.sum.Kept, a.sum.Found, a.sum.Options.SliceMin, a.sum.Options.SliceMax, a.cfg.Size,
		c.TrainHealthy, c.TrainPathological, c.TestHealthy, c.TestPathological)
	fmt.Fprintf(&s, "Backend: %s.\n\n## Table 1\n\n%s\n", a.backend, a.table)
	s.WriteString("## Figures\n\n")
	for _, f := range a.figs {
		fmt.Fprintf(&s, "![%s](%s)\n\n%s\n\n", f.file, f.file, f.caption)
	}
	s.WriteString("## Settings\n\n")
	fmt.Fprintf(&s, "PathoGAN, %d steps (weakly supervised: trained with the healthy/pathological slice labels only):\n\n```json\n", a.steps)
	js, _ := json.MarshalIndent(a.cfg, "", "  ")
	s.Write(js)
	fmt.Fprintf(&s, "\n```\n\nU-Net baseline, %d steps (fully supervised: trained with the whole-tumour pixel labels of the same training slices; it stands in for the paper's MDGRU):\n\n```json\n", a.baseSteps)
	js, _ = json.MarshalIndent(a.ucfg, "", "  ")
	s.Write(js)
	s.WriteString("\n```\n\n## Metric conventions\n\n")
	s.WriteString("- Dice per slice on the pathological slices of each split; a labelmap is thresholded at the config's threshold; truth is the whole tumour (label > 0).\n")
	s.WriteString("- Dice PP: each patient's evaluated slices stacked into one volume: 2·Σ|P∩T| / (Σ|P| + Σ|T|).\n")
	s.WriteString("- HD95 and AVD: boundaries by a one-pixel erosion, exact Euclidean distance transform; HD95 is the 95th percentile and AVD the mean of both directed boundary distances pooled (MedPy's convention); eval.csv also holds the max-of-directed HD95 (BraTS, MONAI) and the mean-of-directed AVD. Units: pixels of the evaluated slices.\n")
	s.WriteString("- Summaries: mean ± sample std (median).\n\n## Run time\n\n| stage | time |\n| --- | ---: |\n")
	for _, k := range a.timing.Order {
		fmt.Fprintf(&s, "| %s | %s |\n", k, fmtDuration(a.timing.Seconds[k]))
	}
	fmt.Fprintf(&s, "| total | %s |\n\n(summed over every run that built this folder; a resumed run adds its time.)\n", fmtDuration(a.timing.total()))
	return s.String()
}
