// Package ablate trains PathoGAN variants (the objective of section 2.3
// with a term switched off, or any settings changed) over several seeds on
// the same data and schedule, and scores each run on the test patients: the
// per-slice Dice of Table 1, the latent samples of package diagnose, and the
// inpainting error against the healthy ground truth. Summaries give each
// variant's mean ± std over seeds and its difference from the full model,
// paired by seed. Every run lives in its own folder and its score is saved
// beside it, so an interrupted ablation resumes where it stopped.
package ablate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/evaluate"
	"github.com/pathogan-go/pathogan/internal/atomicfile"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/diagnose"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// Full is the name of the variant that changes nothing: the preset with the
// ablation's common settings. Every summary is compared with it.
const Full = "full"

// Known are the named variants, each the settings it applies on top of the
// preset: one term of the objective switched off (or, for "idt", the
// identity loss switched on at the paper's weight, since the scaled presets
// leave it out).
var Known = map[string]string{
	Full:           "",
	"no-cycle":     "lambda_cc=0",        // eq. 8
	"no-kl":        "lambda_kl=0",        // eq. 9, weighted in eq. 17
	"no-vae":       "lambda_vae=0",       // eqs. 10-13
	"no-idt":       "lambda_idt=0",       // eq. 14
	"idt":          "lambda_idt=1",       // eq. 14 at the paper's weight
	"no-relevancy": "lambda_r=0",         // eq. 15
	"no-latent":    "lambda_latent=0",    // Config.LambdaLatent
	"no-diversity": "lambda_diversity=0", // Config.LambdaDiversity
}

// Variant is one configuration of the ablation.
type Variant struct {
	// Name names the variant in folders and tables: a key of Known, or the
	// settings themselves ("lambda_r=2").
	Name string `json:"name"`
	// Settings are applied on top of the preset and the common settings
	// ("key=value;...", as --set).
	Settings string `json:"settings"`
}

// ParseVariants reads a comma-separated list of variants: names of Known,
// or settings such as "lambda_r=2" or "lambda_r=2;lambda_kl=0" (one variant
// each). "full" is added first when it is missing, since every variant is
// compared with it.
func ParseVariants(list string) ([]Variant, error) {
	var out []Variant
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		settings, ok := Known[name]
		if !ok {
			if !strings.Contains(name, "=") {
				return nil, fmt.Errorf("variant %q: not a known variant (%s) and not key=value settings", name, strings.Join(slices.Sorted(maps.Keys(Known)), ", "))
			}
			settings = name
		}
		if seen[name] {
			return nil, fmt.Errorf("variant %q: listed twice", name)
		}
		seen[name] = true
		out = append(out, Variant{Name: name, Settings: settings})
	}
	if !seen[Full] {
		out = append([]Variant{{Name: Full}}, out...)
	}
	return out, nil
}

// Options of an ablation.
type Options struct {
	// Preset names the PathoGAN preset every variant starts from; Settings
	// are applied to all of them before each variant's own.
	Preset, Settings string
	// Variants to train; ParseVariants gives them from a list.
	Variants []Variant
	// Seeds of the runs (Config.Seed), the same for every variant.
	Seeds []uint64
	// Steps is each run's schedule length.
	Steps int
	// Out is the ablation's folder: Out/<variant>/seed<k>/ holds each run
	// and its score.
	Out string
	// Stop, once closed, ends the current run after its step (it resumes
	// from there) and the ablation returns training.ErrInterrupted.
	Stop <-chan struct{}
	// Note receives messages that are not errors (see training.RunOptions).
	Note func(string)
}

// Score is one run's evaluation on the test patients, at its last step.
type Score struct {
	Variant  string `json:"variant"`
	Settings string `json:"settings"`
	Seed     uint64 `json:"seed"`
	Step     int    `json:"step"`
	// Dice is the per-slice Dice of the pathological test slices (the
	// empty-mask policy "skip"), as mean, std and median.
	Dice       float64 `json:"dice"`
	DiceStd    float64 `json:"dice_std"`
	DiceMedian float64 `json:"dice_median"`
	// SliceDice is every scored slice's Dice (slices where prediction and
	// truth are both empty are left out).
	SliceDice []float64 `json:"slice_dice"`
	// Samples is the share of δB samples with a region, SamplesIoU the mean
	// pairwise IoU of one slice's samples, DeltaSensitivity the change of
	// GA's labelmap when δB is redrawn (package diagnose).
	Samples          float64 `json:"samples_nonempty"`
	SamplesIoU       float64 `json:"samples_iou"`
	DeltaSensitivity float64 `json:"delta_sensitivity"`
	// Live is whether the latent space passes diagnose.Live.
	Live bool `json:"live"`
	// InpaintError is mean |p̂B - y*| inside the tumours (in normalised
	// units); nil when the set has no healthy ground truth.
	InpaintError *float64 `json:"inpaint_error,omitempty"`
}

// scoreFile is the file of a run's Score, in the run folder.
const scoreFile = "score.json"

// RunDir is the folder of one run of the ablation.
func RunDir(out, variant string, seed uint64) string {
	return filepath.Join(out, safeName(variant), fmt.Sprintf("seed%d", seed))
}

// safeName makes a variant name usable as a folder name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ';' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, s)
}

// Event reports progress: a run starting (Step 0), a training step, or a
// run scored (Score set).
type Event struct {
	Variant string
	Seed    uint64
	Run     int // 1-based index of the run, of Runs
	Runs    int
	// Step of Total, during training.
	Step, Total int
	// Score is set once the run is scored (or its saved score is read).
	Score *Score
}

// Configs returns each variant's config, checked: every variant must
// change the full model's config, and the settings must be valid.
func Configs(opt Options) ([]pathogan.Config, error) {
	base, err := pathogan.Preset(opt.Preset)
	if err != nil {
		return nil, err
	}
	if err := base.ApplySettings(opt.Settings); err != nil {
		return nil, fmt.Errorf("--set: %w", err)
	}
	cfgs := make([]pathogan.Config, len(opt.Variants))
	for i, v := range opt.Variants {
		c := base
		if err := c.ApplySettings(v.Settings); err != nil {
			return nil, fmt.Errorf("variant %q: %w", v.Name, err)
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("variant %q: %w", v.Name, err)
		}
		if v.Name != Full && reflect.DeepEqual(c, base) {
			return nil, fmt.Errorf("variant %q (%s) changes nothing in preset %q with these settings: drop it", v.Name, v.Settings, opt.Preset)
		}
		cfgs[i] = c
	}
	return cfgs, nil
}

// Run trains and scores every variant with every seed on set, skipping runs
// whose score is saved and resuming runs that stopped. It returns the scores
// in variant, then seed order.
func Run(b backends.Backend, set *data.Set, opt Options, progress func(Event)) ([]Score, error) {
	if opt.Steps < 1 {
		return nil, fmt.Errorf("steps %d: want >= 1", opt.Steps)
	}
	if len(opt.Seeds) == 0 {
		return nil, errors.New("no seeds")
	}
	cfgs, err := Configs(opt)
	if err != nil {
		return nil, err
	}
	runs := len(opt.Variants) * len(opt.Seeds)
	var scores []Score
	for i, v := range opt.Variants {
		for j, seed := range opt.Seeds {
			ev := Event{Variant: v.Name, Seed: seed, Run: i*len(opt.Seeds) + j + 1, Runs: runs, Total: opt.Steps}
			dir := RunDir(opt.Out, v.Name, seed)
			sc, err := readScore(dir, v, seed, opt.Steps)
			if err != nil {
				return nil, err
			}
			if sc == nil {
				if progress != nil {
					progress(ev)
				}
				cfg := cfgs[i]
				cfg.Seed = seed
				ropt := training.RunOptions{Steps: opt.Steps, Keep: 1, Resume: true, Stop: opt.Stop, Note: opt.Note}
				_, err := pathogan.Train(b, set, cfg, dir, ropt, func(p training.Progress) {
					if progress != nil {
						e := ev
						e.Step = p.Step
						progress(e)
					}
				})
				if err != nil {
					return nil, fmt.Errorf("variant %q, seed %d: %w", v.Name, seed, err)
				}
				if sc, err = score(b, set, dir, v, seed); err != nil {
					return nil, fmt.Errorf("variant %q, seed %d: %w", v.Name, seed, err)
				}
			}
			scores = append(scores, *sc)
			if progress != nil {
				ev.Step, ev.Score = opt.Steps, sc
				progress(ev)
			}
		}
	}
	return scores, nil
}

// readScore returns a run's saved score, or nil when there is none yet. A
// saved score of other settings or another schedule is an error: the folder
// belongs to another ablation.
func readScore(dir string, v Variant, seed uint64, steps int) (*Score, error) {
	path := filepath.Join(dir, scoreFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sc Score
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sc.Settings != v.Settings || sc.Seed != seed || sc.Step != steps {
		return nil, fmt.Errorf("%s: scored with settings %q, seed %d, step %d; this ablation asks for %q, seed %d, %d steps: use another --out",
			path, sc.Settings, sc.Seed, sc.Step, v.Settings, seed, steps)
	}
	return &sc, nil
}

// score evaluates the newest checkpoint in dir and saves the score there.
func score(b backends.Backend, set *data.Set, dir string, v Variant, seed uint64) (*Score, error) {
	m, err := pathogan.LoadInference(b, dir)
	if err != nil {
		return nil, err
	}
	rows, err := evaluate.Run(m, set, set.Select(data.Test, data.Pathological),
		evaluate.Options{Threshold: m.Cfg.Threshold, Policy: metrics.EmptySkip}, nil)
	if err != nil {
		return nil, err
	}
	st := evaluate.Summarise(rows, data.Test)
	r, err := diagnose.Inspect(m, set, diagnose.Options{})
	if err != nil {
		return nil, err
	}
	sc := &Score{Variant: v.Name, Settings: v.Settings, Seed: seed, Step: m.Step,
		Dice: st.Dice.Mean(), DiceStd: st.Dice.Std(), DiceMedian: st.Dice.Median(),
		Samples: r.Samples.NonEmpty, SamplesIoU: r.Samples.MeanPairwiseIoU, DeltaSensitivity: r.Sensitivity.DeltaL,
		Live: r.Collapsed(diagnose.Live) == nil}
	for _, row := range rows {
		if !math.IsNaN(row.Dice) {
			sc.SliceDice = append(sc.SliceDice, row.Dice)
		}
	}
	if set.HasHealthy() {
		in, err := evaluate.ScoreInpainting(func(x []float32) ([]float32, []float32, error) {
			tr, err := m.ToHealthy(x)
			return tr.Inpainting, tr.Output, err
		}, set, set.Select(data.Test, data.Pathological), m.Cfg.Threshold)
		if err != nil {
			return nil, err
		}
		sc.InpaintError = &in.MeanTumourInpainting
	}
	js, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, scoreFile), append(js, '\n')); err != nil {
		return nil, err
	}
	return sc, nil
}

// MeanStd is a mean ± sample standard deviation over seeds (Std is 0 for
// one value; both NaN for none, written as null in JSON).
type MeanStd struct {
	Mean, Std float64
	N         int
}

// MarshalJSON writes {"mean", "std", "n"}, with null for NaN.
func (m MeanStd) MarshalJSON() ([]byte, error) {
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	return json.Marshal(map[string]any{"mean": num(m.Mean), "std": num(m.Std), "n": m.N})
}

// UnmarshalJSON reads what MarshalJSON writes, null as NaN.
func (m *MeanStd) UnmarshalJSON(b []byte) error {
	var v struct {
		Mean, Std *float64
		N         int
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = MeanStd{Mean: math.NaN(), Std: math.NaN(), N: v.N}
	if v.Mean != nil {
		m.Mean = *v.Mean
	}
	if v.Std != nil {
		m.Std = *v.Std
	}
	return nil
}

func meanStd(v []float64) MeanStd {
	var sum metrics.Summary // leaves NaNs out
	for _, x := range v {
		sum.Add(x)
	}
	ms := MeanStd{Mean: sum.Mean(), Std: sum.Std(), N: sum.N()}
	if ms.N == 1 {
		ms.Std = 0
	}
	return ms
}

// Summary is one variant over its seeds.
type Summary struct {
	Variant  string `json:"variant"`
	Settings string `json:"settings"`
	Seeds    int    `json:"seeds"`
	// Dice is the mean over seeds of each run's mean test Dice.
	Dice MeanStd `json:"dice"`
	// DiceDiff is the variant's Dice minus the full model's, seed by seed
	// (the same seed draws the same initial weights and batches), over the
	// seeds both have; NaN for the full model itself.
	DiceDiff     MeanStd `json:"dice_diff"`
	Samples      MeanStd `json:"samples_nonempty"`
	SamplesIoU   MeanStd `json:"samples_iou"`
	InpaintError MeanStd `json:"inpaint_error"`
	LiveRuns     int     `json:"live_runs"`
	// DiceValues and SamplesValues are the runs' values, in seed order.
	DiceValues    []float64 `json:"dice_values"`
	SamplesValues []float64 `json:"samples_values"`
}

// Summarise groups scores by variant, in the order of first appearance.
func Summarise(scores []Score) []Summary {
	var order []string
	by := map[string][]Score{}
	for _, s := range scores {
		if _, ok := by[s.Variant]; !ok {
			order = append(order, s.Variant)
		}
		by[s.Variant] = append(by[s.Variant], s)
	}
	fullDice := map[uint64]float64{}
	for _, s := range by[Full] {
		fullDice[s.Seed] = s.Dice
	}
	out := make([]Summary, 0, len(order))
	for _, name := range order {
		runs := by[name]
		sum := Summary{Variant: name, Settings: runs[0].Settings, Seeds: len(runs)}
		var dice, diff, samples, iou, inpaint []float64
		for _, r := range runs {
			dice = append(dice, r.Dice)
			samples = append(samples, r.Samples)
			iou = append(iou, r.SamplesIoU)
			if r.InpaintError != nil {
				inpaint = append(inpaint, *r.InpaintError)
			}
			if f, ok := fullDice[r.Seed]; ok && name != Full {
				diff = append(diff, r.Dice-f)
			}
			if r.Live {
				sum.LiveRuns++
			}
		}
		sum.Dice, sum.DiceDiff = meanStd(dice), meanStd(diff)
		sum.Samples, sum.SamplesIoU, sum.InpaintError = meanStd(samples), meanStd(iou), meanStd(inpaint)
		sum.DiceValues, sum.SamplesValues = dice, samples
		out = append(out, sum)
	}
	return out
}

// Differs reports whether a variant's Dice differs from the full model's by
// more than the seed spread: the paired difference's mean is more than two
// standard errors from 0 (with at least 3 seeds; fewer can tell nothing).
func (s Summary) Differs() bool {
	d := s.DiceDiff
	if d.N < 3 || math.IsNaN(d.Mean) {
		return false
	}
	return math.Abs(d.Mean) > 2*d.Std/math.Sqrt(float64(d.N))
}

// Table formats summaries as a Markdown table: Dice in percent (mean ± std
// over seeds), the paired difference from the full model with its verdict,
// the samples and the inpainting error.
func Table(sums []Summary) string {
	var b strings.Builder
	b.WriteString("| variant | settings | seeds | test Dice (%) | Δ Dice vs full (points) | beyond seed spread | samples with a region | samples' IoU | live runs | p̂B error in tumours |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	pct := func(m MeanStd) string {
		if math.IsNaN(m.Mean) {
			return "–"
		}
		return fmt.Sprintf("%.1f ± %.1f", 100*m.Mean, 100*m.Std)
	}
	plain := func(m MeanStd, format string) string {
		if math.IsNaN(m.Mean) {
			return "–"
		}
		return fmt.Sprintf(format+" ± "+format, m.Mean, m.Std)
	}
	for _, s := range sums {
		diff, verdict := "–", "–"
		if s.Variant != Full && !math.IsNaN(s.DiceDiff.Mean) {
			diff = fmt.Sprintf("%+.1f ± %.1f", 100*s.DiceDiff.Mean, 100*s.DiceDiff.Std)
			verdict = "no"
			switch {
			case s.DiceDiff.N < 3:
				verdict = "too few seeds"
			case s.Differs():
				verdict = "yes"
			}
		}
		settings := "–"
		if s.Settings != "" {
			settings = "`" + s.Settings + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %d of %d | %s |\n",
			s.Variant, settings, s.Seeds, pct(s.Dice), diff, verdict,
			plain(s.Samples, "%.2f"), plain(s.SamplesIoU, "%.2f"), s.LiveRuns, s.Seeds, plain(s.InpaintError, "%.3f"))
	}
	return b.String()
}
