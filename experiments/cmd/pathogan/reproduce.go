package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/evaluate"
	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/experiments/quickstart"
	"github.com/pathogan-go/pathogan/internal/atomicfile"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/diagnose"
	"github.com/pathogan-go/pathogan/pathogan/mdgru"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/runlock"
	"github.com/pathogan-go/pathogan/pathogan/training"
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
	preset := fs.String("preset", "small", "preset of both models (paper: 240 px, for a GPU)")
	brats := fs.String("brats", "", "a BraTS copy to use instead of the built-in phantom data")
	patients := fs.Int("patients", 40, "phantom patients (without --brats)")
	seed := fs.Uint64("seed", 1, "seed of the phantom, the patient split and both trainings")
	steps := fs.Int("steps", 4500, "PathoGAN training steps")
	baseSteps := fs.Int("baseline-steps", 1000, "U-Net training steps")
	valFraction := fs.Float64("val-fraction", 0.1, "share of patients (per grade) held out to select PathoGAN's checkpoint")
	set := fs.String("set", "", `PathoGAN overrides "key=value;..."`)
	baseSet := fs.String("baseline-set", "", `U-Net overrides "key=value;..."`)
	baselines := fs.String("baselines", "unet", "fully supervised baselines beside PathoGAN: unet, or unet,mdgru (MDGRU: about 1 s/step at 64 px on 2 cores)")
	mdgruSteps := fs.Int("mdgru-steps", 1000, "MDGRU training steps (with --baselines unet,mdgru)")
	mdgruSet := fs.String("mdgru-set", "", `MDGRU overrides "key=value;..."`)
	empty := fs.String("empty", "skip", "empty-mask policy for HD95/AVD: skip, nan or worst")
	extend := fs.Bool("extend", false, "resuming with other --steps or --baseline-steps: recompute the learning-rate schedules for the new totals")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	policy, err := metrics.ParseEmptyPolicy(*empty)
	if err != nil {
		return asUsage(fmt.Errorf("--empty: %w", err))
	}
	cfg, err := pathogan.Preset(*preset)
	if err != nil {
		return asUsage(fmt.Errorf("--preset: %w", err))
	}
	cfg.Seed = *seed
	if err := cfg.ApplySettings(*set); err != nil {
		return asUsage(fmt.Errorf("--set: %w", err))
	}
	if err := cfg.Validate(); err != nil {
		return asUsage(err)
	}
	ucfg, err := unet.Preset(*preset)
	if err != nil {
		return asUsage(fmt.Errorf("--preset: %w", err))
	}
	ucfg.Seed = *seed
	if err := ucfg.ApplySettings(*baseSet); err != nil {
		return asUsage(fmt.Errorf("--baseline-set: %w", err))
	}
	if err := ucfg.Validate(); err != nil {
		return asUsage(err)
	}
	if *steps < 1 || *baseSteps < 1 || *mdgruSteps < 1 {
		return badFlag("--steps %d, --baseline-steps %d, --mdgru-steps %d: want >= 1", *steps, *baseSteps, *mdgruSteps)
	}
	withMDGRU, err := parseBaselines(*baselines)
	if err != nil {
		return asUsage(err)
	}
	var mcfg *mdgru.Config
	if withMDGRU {
		c, err := mdgru.Preset(*preset)
		if err != nil {
			return asUsage(fmt.Errorf("--preset: %w", err))
		}
		c.Seed = *seed
		if err := c.ApplySettings(*mdgruSet); err != nil {
			return asUsage(fmt.Errorf("--mdgru-set: %w", err))
		}
		if err := c.Validate(); err != nil {
			return asUsage(err)
		}
		mcfg = &c
	}
	// One reproduce per output folder: a second one would interleave its
	// stages with this one's.
	lock, stale, err := runlock.Acquire(*out)
	if err != nil {
		return err
	}
	defer lock.Release()
	if stale != "" {
		noteStderr(stale)
	}
	hint := "run the same command again to resume"
	stop, release := interrupts(hint)
	defer release()
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
		atomicfile.WriteFile(timingPath, append(js, '\n'))
	}
	stage := func(name string, f func() error) error {
		start := time.Now()
		err := f()
		timing.add(name, time.Since(start))
		saveTiming()
		if err == nil {
			select {
			case <-stop: // a signal during a stage that does not train
				err = fmt.Errorf("%w after stage %q", training.ErrInterrupted, name)
			default:
			}
		}
		return interrupted(err, hint)
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
		opt := data.DefaultOptions()
		opt.Size, opt.Seed, opt.ValFraction = cfg.Size, *seed, *valFraction
		ds, sum, err = quickstart.PrepareWith(source, filepath.Join(*out, fmt.Sprintf("slices%d", cfg.Size)), opt, showProgress)
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
	pganDir, unetDir, mdgruDir := filepath.Join(*out, "pathogan"), filepath.Join(*out, "unet"), filepath.Join(*out, "mdgru")
	if err := stage("train PathoGAN", func() error {
		// Every checkpoint is kept: the model behind the table is chosen among them.
		_, err := trainPathoGAN(b, ds, cfg, pganDir, training.RunOptions{Steps: *steps, Keep: 0, Resume: true, Extend: *extend, Stop: stop, Note: noteStderr})
		return err
	}); err != nil {
		return err
	}
	if err := stage("train U-Net", func() error {
		_, err := trainBaseline(b, ds, ucfg, unet.Decode, unetDir, training.RunOptions{Steps: *baseSteps, Keep: 2, Resume: true, Extend: *extend, Stop: stop, Note: noteStderr})
		return err
	}); err != nil {
		return err
	}

	if mcfg != nil {
		if err := stage("train MDGRU", func() error {
			_, err := trainBaseline(b, ds, *mcfg, mdgru.Decode, mdgruDir, training.RunOptions{Steps: *mdgruSteps, Keep: 2, Resume: true, Extend: *extend, Stop: stop, Note: noteStderr})
			return err
		}); err != nil {
			return err
		}
	}

	// 3. Model selection on the validation patients (image-level labels).
	var sel evaluate.Selection
	if err := stage("select", func() error {
		sel, err = selectPathoGAN(b, pganDir, ds, *steps)
		return err
	}); err != nil {
		return err
	}
	chosen := sel.Candidates[sel.Chosen]
	last := sel.Candidates[len(sel.Candidates)-1]

	// 4. Evaluation and the tables.
	var entries []evaluate.Entry
	var lastTest evaluate.Stats
	if err := stage("evaluate", func() error {
		paths := []string{chosen.Path, unetDir}
		if mcfg != nil {
			paths = append(paths, mdgruDir)
		}
		for _, path := range paths {
			_, rows, meta, err := evaluateRun(b, path, ds, "", policy)
			if err != nil {
				return err
			}
			entries = append(entries, evaluate.Entry{Meta: meta, Rows: rows})
		}
		lastTest = evaluate.Summarise(entries[0].Rows, data.Test)
		if last.Path != chosen.Path {
			m, err := pathogan.LoadInference(b, last.Path)
			if err != nil {
				return err
			}
			rows, err := evaluate.Run(m, ds, ds.Select(data.Test, data.Pathological), evaluate.Options{Threshold: m.Cfg.Threshold, Policy: policy}, nil)
			if err != nil {
				return err
			}
			lastTest = evaluate.Summarise(rows, data.Test)
		}
		return nil
	}); err != nil {
		return err
	}
	table, recs := evaluate.Table(entries)
	other := metrics.EmptyWorst
	if policy == metrics.EmptyWorst {
		other = metrics.EmptySkip
	}
	var otherEntries []evaluate.Entry
	for _, e := range entries {
		e.Rows = evaluate.WithEmptyPolicy(e.Rows, other)
		e.Meta.Policy = other.String()
		otherEntries = append(otherEntries, e)
	}
	otherTable, _ := evaluate.Table(otherEntries)
	if err := atomicfile.WriteFile(filepath.Join(reportDir, "table.md"), []byte(table+"\n"+otherTable)); err != nil {
		return err
	}
	if err := writeCSVFile(filepath.Join(reportDir, "table.csv"), recs); err != nil {
		return err
	}

	// 5. What the Dice hides: latent samples, sensitivity, active units.
	var insp diagnose.Report
	if err := stage("inspect", func() error {
		m, err := pathogan.LoadInference(b, chosen.Path)
		if err != nil {
			return err
		}
		if insp, err = diagnose.Inspect(m, ds, diagnose.Options{Split: data.Test, Seed: *seed}); err != nil {
			return err
		}
		// The chosen model's generators, for inference elsewhere.
		return m.Export(filepath.Join(reportDir, "model.ckpt"))
	}); err != nil {
		return err
	}

	// Inpainting against the healthy ground truth (the phantom's healthy
	// counterparts; a BraTS copy has none).
	var inpaint *evaluate.InpaintScore
	if ds.HasHealthy() {
		if err := stage("inpainting", func() error {
			m, err := pathogan.LoadInference(b, chosen.Path)
			if err != nil {
				return err
			}
			sc, err := scoreInpainting(m, ds, ds.Select(data.Test, data.Pathological))
			inpaint = &sc
			return err
		}); err != nil {
			return err
		}
	}

	// 6. Figures, metrics.json and the report.
	var figs []reportFigure
	if err := stage("figures", func() error {
		figs, err = reproduceFigures(b, ds, chosen.Path, unetDir, reportDir, entries, sel)
		return err
	}); err != nil {
		return err
	}
	chosenTest, unetTest := evaluate.Summarise(entries[0].Rows, data.Test), evaluate.Summarise(entries[1].Rows, data.Test)
	res := reproduceMetrics{
		PathoGANTestDice: chosenTest.Dice.Mean(), PathoGANTestDiceLast: lastTest.Dice.Mean(),
		UNetTestDice: unetTest.Dice.Mean(), PathoGANTestDicePP: chosenTest.DicePP.Mean(),
		SamplesNonEmpty: insp.Samples.NonEmpty, SamplesIoU: insp.Samples.MeanPairwiseIoU, SamplesPlaceSpread: insp.Samples.PlaceSpread, DeltaSensitivity: insp.Sensitivity.DeltaL,
		GammaActive: insp.GammaActive, DeltaActive: insp.DeltaActive, ImageSize: float64(cfg.Size),
		CycleCodeLanded: insp.Place.Cycle.Landed, HealthyCodeLanded: insp.Place.Healthy.Landed,
		ChosenStep: chosen.Step, LastStep: last.Step, SelectionRule: sel.Rule, Minutes: timing.total() / 60,
	}
	if insp.Place.Healthy.Landed > 0 {
		r := insp.Place.Healthy.Ratio
		res.HealthyCodePlaceRatio = &r
	}
	if mcfg != nil {
		st := evaluate.Summarise(entries[2].Rows, data.Test)
		d := st.Dice.Mean()
		res.MDGRUTestDice = &d
	}
	if inpaint != nil {
		res.InpaintMAETumour, res.InpaintMAEBaseline = &inpaint.MeanTumour, &inpaint.MeanBaseline
		res.InpaintMAEOutside = &inpaint.MeanOutside
		res.InpaintDetail, res.InpaintDetailTumour = &inpaint.DetailInpainting, &inpaint.DetailTumour
	}
	js, _ := json.MarshalIndent(res, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(reportDir, "metrics.json"), append(js, '\n')); err != nil {
		return err
	}
	report := reproduceReport(reportArgs{args: args, source: source, brats: *brats != "", sum: sum, cfg: cfg, ucfg: ucfg, mcfg: mcfg, mdgruSteps: *mdgruSteps,
		steps: *steps, baseSteps: *baseSteps, backend: info.String(), table: table, otherTable: otherTable, timing: timing, figs: figs,
		sel: sel, chosenTest: chosenTest, lastTest: lastTest, insp: insp, inpaint: inpaint})
	if err := atomicfile.WriteFile(filepath.Join(reportDir, "report.md"), []byte(report)); err != nil {
		return err
	}
	fmt.Print(table)
	fmt.Printf("\nreport: %s (total run time %s)\n", filepath.Join(reportDir, "report.md"), fmtDuration(timing.total()))
	return nil
}

// placeCodeText says in words where the lesions decoded from tumours' codes land.
func placeCodeText(p diagnose.PlaceCode) string {
	one := func(into string, d diagnose.PlaceDistances) string {
		if d.Landed == 0 {
			return fmt.Sprintf("into %s it gives no lesion on any slice", into)
		}
		return fmt.Sprintf("into %s it gives a lesion on %.0f %% of slices, %.1f px from its own tumour against %.1f px from another slice's (ratio %.2f; 1: δB carries no place)",
			into, 100*d.Landed, d.Own, d.Other, d.Ratio)
	}
	return one("the slice's own ŷA with γA = ΓA(ŷA), as the B → A → B cycle does,", p.Cycle) + "; " + one("a healthy slice", p.Healthy)
}

// reproduceMetrics is report/metrics.json: the job's results as numbers
// (Dice and IoU as fractions).
type reproduceMetrics struct {
	PathoGANTestDice     float64 `json:"pathogan_test_dice"`      // mean per-slice Dice, chosen checkpoint
	PathoGANTestDiceLast float64 `json:"pathogan_test_dice_last"` // the same at the last step
	UNetTestDice         float64 `json:"unet_test_dice"`
	// MDGRUTestDice is MDGRU's, with --baselines unet,mdgru.
	MDGRUTestDice      *float64 `json:"mdgru_test_dice,omitempty"`
	PathoGANTestDicePP float64  `json:"pathogan_test_dice_pp"` // per-patient Dice, chosen checkpoint
	SamplesNonEmpty    float64  `json:"samples_nonempty_fraction"`
	SamplesIoU         float64  `json:"samples_mean_pairwise_iou"`
	SamplesPlaceSpread float64  `json:"samples_place_spread_px"`    // RMS distance of one slice's sample centroids from their mean
	DeltaSensitivity   float64  `json:"delta_sensitivity_labelmap"` // mean |Δl| per pixel between two δB draws
	GammaActive        int      `json:"gamma_active_units"`
	DeltaActive        int      `json:"delta_active_units"`
	// CycleCodeLanded is the share of test tumours whose code δB = ∆B(l̂B ⊙ xB),
	// decoded by EA into ŷA as the B → A → B cycle does, gives a lesion;
	// HealthyCodeLanded the same decoded into healthy slices, and
	// HealthyCodePlaceRatio (absent when none lands) how far those lesions
	// land from their own tumour over how far from another's (1: δB carries
	// no place; diagnose.PlaceCode).
	CycleCodeLanded       float64  `json:"cycle_code_landed"`
	HealthyCodeLanded     float64  `json:"healthy_code_landed"`
	HealthyCodePlaceRatio *float64 `json:"healthy_code_place_ratio,omitempty"`
	// Inpainting against the healthy ground truth, mean over channels (absent
	// without one): ŷA inside the tumour, the trivial baseline there, and
	// how much ŷA changes the brain outside it.
	InpaintMAETumour   *float64 `json:"inpaint_mae_tumour,omitempty"`
	InpaintMAEBaseline *float64 `json:"inpaint_mae_baseline,omitempty"`
	InpaintMAEOutside  *float64 `json:"inpaint_mae_outside,omitempty"`
	// Fine structure against the healthy truth's (1: as much as tissue; a blur below 1):
	// p̂B over the brain, ŷA inside the tumour (evaluate.InpaintScore).
	InpaintDetail       *float64 `json:"inpaint_detail,omitempty"`
	InpaintDetailTumour *float64 `json:"inpaint_detail_tumour,omitempty"`
	ImageSize           float64  `json:"image_size"`
	ChosenStep          int      `json:"chosen_step"`
	LastStep            int      `json:"last_step"`
	SelectionRule       string   `json:"selection_rule"`
	Minutes             float64  `json:"minutes"` // the job's wall time, summed over resumed runs
}

// selectPathoGAN scores the checkpoints of a PathoGAN run of steps steps
// that lie on its schedule (every steps/10 steps and the last; one saved
// when a signal interrupted the run is left out, so that an interrupted job
// selects as an uninterrupted one) on the validation split, and writes
// selection.csv (step, criterion, validation Dice) and selection.json (the
// rule and the chosen step) into the run.
func selectPathoGAN(b backends.Backend, runDir string, ds *data.Set, steps int) (evaluate.Selection, error) {
	all, err := checkpoint.List(filepath.Join(runDir, checkpoint.Dir))
	if err != nil {
		return evaluate.Selection{}, err
	}
	every := max(1, steps/10) // RunOptions' default interval, which reproduce uses
	var paths []string
	for _, p := range all {
		h, err := checkpoint.ReadHeader(p)
		if err != nil {
			return evaluate.Selection{}, err
		}
		if h.Step%every == 0 || h.Step == steps {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return evaluate.Selection{}, fmt.Errorf("%s: no checkpoints to select from", runDir)
	}
	cfg, _, err := pathogan.ReadCheckpointConfig(paths[0])
	if err != nil {
		return evaluate.Selection{}, err
	}
	if len(ds.Select(data.Val, data.Healthy)) == 0 || len(ds.Select(data.Val, data.Pathological)) == 0 {
		// Too few patients for a validation split with both classes: the
		// last checkpoint, and the report says so.
		sel := evaluate.Selection{Rule: "the last checkpoint (the validation split has no healthy or no pathological slice)"}
		for _, p := range paths {
			_, step, err := pathogan.ReadCheckpointConfig(p)
			if err != nil {
				return sel, err
			}
			sel.Candidates = append(sel.Candidates, evaluate.Candidate{Step: step, Path: p, AUC: math.NaN(), ValDice: math.NaN()})
		}
		sel.Chosen = len(paths) - 1
		return sel, nil
	}
	bar := progress.New(os.Stderr, "select", len(paths))
	live := func(seg evaluate.Segmenter) (bool, error) {
		r, err := diagnose.Liveness(seg.(*pathogan.Inference), ds, diagnose.Options{Split: data.Val})
		if err != nil {
			return false, err
		}
		return r.Collapsed(diagnose.Live) == nil, nil
	}
	sel, err := evaluate.SelectCheckpoint(func(path string) (evaluate.Segmenter, int, error) {
		m, err := pathogan.LoadInference(b, path)
		if err != nil {
			return nil, 0, err
		}
		return m, m.Step, nil
	}, live, paths, ds, cfg.Threshold, func(done, _ int) { bar.Set(done, "checkpoints") })
	bar.Finish()
	if err != nil {
		return sel, err
	}
	recs := [][]string{{"step", "val_auc", "val_dice", "live", "checkpoint"}}
	for _, c := range sel.Candidates {
		recs = append(recs, []string{strconv.Itoa(c.Step), fmt.Sprintf("%.6f", c.AUC), fmt.Sprintf("%.6f", c.ValDice), strconv.FormatBool(c.Live), filepath.Base(c.Path)})
	}
	if err := writeCSVFile(filepath.Join(runDir, "selection.csv"), recs); err != nil {
		return sel, err
	}
	js, _ := json.MarshalIndent(map[string]any{"rule": sel.Rule, "chosen_step": sel.Candidates[sel.Chosen].Step,
		"chosen_checkpoint": filepath.Base(sel.Candidates[sel.Chosen].Path)}, "", "  ")
	return sel, atomicfile.WriteFile(filepath.Join(runDir, "selection.json"), append(js, '\n'))
}

// fmtChannels writes per-channel values and their mean: "0.12 / 0.08 / 0.09 / 0.11 (0.10)".
func fmtChannels(v []float64, mean float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%s (%.3f)", strings.Join(parts, " / "), mean)
}

func fmtDuration(s float64) string {
	return (time.Duration(s) * time.Second).Round(time.Second).String()
}

// reportFigure is one figure file of the report, with its caption.
type reportFigure struct{ file, caption string }

// reproduceFigures writes the report's figures: the Figure 2 analogue on
// test slices, sampled pathologies, the training curves and the Dice
// distributions.
func reproduceFigures(b backends.Backend, ds *data.Set, pganPath, unetDir, reportDir string, entries []evaluate.Entry, sel evaluate.Selection) ([]reportFigure, error) {
	pg, err := pathogan.LoadInference(b, pganPath)
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
		grid, err := sampleGrid(pg, x, 8, 7, 4, scale)
		if err != nil {
			return nil, err
		}
		if err := viz.WritePNG(filepath.Join(reportDir, "samples.png"), grid); err != nil {
			return nil, err
		}
		figs = append(figs, reportFigure{"samples.png", "Pathologies sampled into one healthy test slice (FLAIR): GA(xA, δB) for eight draws δB ~ N(0, I), each with its labelmap."})
	}

	// Model selection: the criterion and the validation Dice per checkpoint.
	var sb strings.Builder
	sb.WriteString("step,seconds,val_auc (selection criterion),val_dice (pixel labels; reported only),live latent space (1 = yes)\n")
	for _, c := range sel.Candidates {
		l := 0
		if c.Live {
			l = 1
		}
		fmt.Fprintf(&sb, "%d,0,%g,%g,%d\n", c.Step, c.AUC, c.ValDice, l)
	}
	png, err := viz.TrainingCurvesWith(strings.NewReader(sb.String()), viz.CurveOptions{Smooth: 1}, 900, 320)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(reportDir, "selection.png"), png); err != nil {
		return nil, err
	}
	figs = append(figs, reportFigure{"selection.png", fmt.Sprintf("Model selection on the validation patients, per saved checkpoint: the AUC, the validation Dice (shown only) and whether the latent space is live (rule: %s). Chosen: step %d.",
		sel.Rule, sel.Candidates[sel.Chosen].Step)})

	// Training curves.
	pganDir := filepath.Dir(filepath.Dir(pganPath))
	for _, r := range []struct{ dir, file, name string }{{pganDir, "curves_pathogan.png", "PathoGAN"}, {unetDir, "curves_unet.png", "U-Net"}} {
		png, err := viz.TrainingCurvesFile(filepath.Join(r.dir, training.HistoryFile), 900, 600)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(reportDir, r.file), png); err != nil {
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
	png, err = viz.MetricBoxes("Per-slice Dice, test patients", "Dice", groups, 600, 400)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(reportDir, "dice.png"), png); err != nil {
		return nil, err
	}
	figs = append(figs, reportFigure{"dice.png", "Distribution of the per-slice Dice on the test patients' pathological slices."})
	return figs, nil
}

type reportArgs struct {
	args              []string
	source            string
	brats             bool
	sum               *data.Summary
	cfg               pathogan.Config
	ucfg              unet.Config
	mcfg              *mdgru.Config
	mdgruSteps        int
	steps, baseSteps  int
	backend           string
	table, otherTable string
	timing            reproduceTiming
	figs              []reportFigure
	sel               evaluate.Selection
	chosenTest        evaluate.Stats
	lastTest          evaluate.Stats
	insp              diagnose.Report
	inpaint           *evaluate.InpaintScore
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
	fmt.Fprintf(&s, "The same rows with the other empty-mask policy for HD95 and AVD:\n\n%s\n", a.otherTable)
	ch := a.sel.Candidates[a.sel.Chosen]
	fmt.Fprintf(&s, "## Model selection\n\nPathoGAN's row is the checkpoint of step %d of %d, chosen by this rule: %s. "+
		"The rule uses no pixel label. Test Dice at the chosen step: %s %%; at the last step (%d): %s %%.\n\n",
		ch.Step, a.steps, a.sel.Rule, evaluate.Cell(a.chosenTest.Dice, 100), a.sel.Candidates[len(a.sel.Candidates)-1].Step, evaluate.Cell(a.lastTest.Dice, 100))
	in := a.insp
	fmt.Fprintf(&s, "## Latent samples and diagnostics (chosen checkpoint, test split)\n\n"+
		"- %d δB ~ N(0, I) drawn into each of %d healthy test slices: %.0f %% have a labelmap region > 20 px; "+
		"mean pairwise IoU of one slice's samples %.2f (1: all the same); their centroids %.1f px (RMS) from their mean (0: one place; the true tumours' centroids over the test slices: %.1f px); sample areas q10/median/q90 %.0f / %.0f / %.0f px "+
		"(true tumours on the test pathological slices: %.0f / %.0f / %.0f px).\n"+
		"- GA's labelmap changes by %.4f per pixel between two δB draws, %.4f when γA comes from another slice, %.4f between two slices.\n"+
		"- Active units (variance of the encoder mean over test slices > 0.01): ΓA %d of %d, ∆B %d of %d.\n"+
		"- ∆B's code of a test tumour, δB = ∆B(l̂B ⊙ xB), decoded by EA: %s.\n\n",
		in.Samples.PerSlice, in.Samples.Slices, 100*in.Samples.NonEmpty, in.Samples.MeanPairwiseIoU, in.Samples.PlaceSpread, in.TumourPlaceSpread,
		in.Samples.Area.Q10, in.Samples.Area.Median, in.Samples.Area.Q90, in.TumourArea.Q10, in.TumourArea.Median, in.TumourArea.Q90,
		in.Sensitivity.DeltaL, in.Sensitivity.GammaL, in.Sensitivity.InputL, in.GammaActive, in.Z, in.DeltaActive, in.Z,
		placeCodeText(in.Place))
	if sc := a.inpaint; sc != nil {
		fmt.Fprintf(&s, "## Inpainting against the healthy ground truth (chosen checkpoint, test split)\n\n"+
			"The phantom writes each patient's healthy counterpart (same anatomy, warp, bias field and noise; no tumour, no mass effect). "+
			"Mean absolute error in normalised units ([-1, 1]) over the %d whole-tumour pixels of %d test slices, per channel FLAIR / T1 / T1CE / T2 (mean):\n\n"+
			"| image | MAE inside the tumour |\n| --- | --- |\n"+
			"| ŷA (GB's healthy translation) | %s |\n| p̂B (GB's inpainting) | %s |\n"+
			"| trivial baseline: the slice's mean of healthy brain tissue | %s |\n\n"+
			"ŷA changes the brain outside the tumour by %s.\n\n"+
			"Fine structure, as the sum of |differences between adjacent pixels| relative to the healthy truth's (1: as much as tissue; a blur scores below 1, the baseline's constant fill 0): "+
			"p̂B over the brain %.2f, ŷA inside the tumour %.2f.\n\n",
			sc.TumourPixels, sc.Slices, fmtChannels(sc.MAETumour, sc.MeanTumour), fmtChannels(sc.MAETumourInpainting, sc.MeanTumourInpainting),
			fmtChannels(sc.MAEBaseline, sc.MeanBaseline), fmtChannels(sc.MAEOutside, sc.MeanOutside), sc.DetailInpainting, sc.DetailTumour)
	}
	s.WriteString("## Figures\n\n")
	for _, f := range a.figs {
		fmt.Fprintf(&s, "![%s](%s)\n\n%s\n\n", f.file, f.file, f.caption)
	}
	s.WriteString("## Settings\n\n")
	fmt.Fprintf(&s, "PathoGAN, %d steps (weakly supervised: trained with the healthy/pathological slice labels only):\n\n```json\n", a.steps)
	js, _ := json.MarshalIndent(a.cfg, "", "  ")
	s.Write(js)
	fmt.Fprintf(&s, "\n```\n\nU-Net baseline, %d steps (fully supervised: trained with the whole-tumour pixel labels of the same training slices):\n\n```json\n", a.baseSteps)
	js, _ = json.MarshalIndent(a.ucfg, "", "  ")
	s.Write(js)
	if a.mcfg != nil {
		fmt.Fprintf(&s, "\n```\n\nMDGRU baseline, %d steps (fully supervised, as the U-Net; the paper's comparator):\n\n```json\n", a.mdgruSteps)
		js, _ = json.MarshalIndent(a.mcfg, "", "  ")
		s.Write(js)
	}
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

// parseBaselines reads --baselines: the U-Net always (Figure 2 and
// metrics.json compare with it), MDGRU when listed.
func parseBaselines(list string) (withMDGRU bool, err error) {
	withUNet := false
	for _, name := range strings.Split(list, ",") {
		switch strings.TrimSpace(name) {
		case unet.ModelName:
			withUNet = true
		case mdgru.ModelName:
			withMDGRU = true
		default:
			return false, fmt.Errorf("--baselines %q: unknown baseline %q (known: unet, mdgru)", list, name)
		}
	}
	if !withUNet {
		return false, fmt.Errorf("--baselines %q: the list must include unet (Figure 2 and metrics.json compare with it)", list)
	}
	return withMDGRU, nil
}
