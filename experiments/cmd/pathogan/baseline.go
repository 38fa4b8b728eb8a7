package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/mdgru"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
	"github.com/pathogan-go/pathogan/pathogan/training"
	"github.com/pathogan-go/pathogan/pathogan/unet"
)

func runTrainBaseline(args []string) error {
	fs := newFlags("train-baseline", "--data DIR --steps N --out RUNDIR [--model unet|mdgru] [--preset NAME] [--set K=V;...] [options]")
	dataDir := fs.String("data", "", "prepared slice set (with --size matching the preset)")
	model := fs.String("model", unet.ModelName, "fully supervised baseline: unet or mdgru")
	preset := fs.String("preset", "small", "preset, with the same names and sizes as PathoGAN's: "+strings.Join(pathogan.PresetNames(), ", ")+" (the slice set's --size must be the preset's)")
	steps := fs.Int("steps", 0, "training steps")
	out := fs.String("out", "", "run folder (config, losses.csv, checkpoints/)")
	set := fs.String("set", "", `overrides "key=value;key=value" (keys: the JSON names in config.json, e.g. learning_rate, dice_weight)`)
	resume := fs.Bool("resume", false, "continue the run in --out from its newest intact checkpoint (with the run's config.json; --preset and --set must agree with it)")
	extend := fs.Bool("extend", false, "with --resume: train to a --steps other than the run's, recomputing the learning-rate schedule for the new total from the resumed step on")
	every := fs.Int("checkpoint-every", 0, "save a checkpoint every N steps (default: steps/10)")
	keep := fs.Int("keep", 3, "checkpoints kept (0: all)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *steps < 0 || *steps > maxSteps {
		return badFlag("--steps %d: want 1 to %d", *steps, maxSteps)
	}
	if *dataDir == "" || *out == "" || *steps == 0 {
		return usagef(fs, "--data, --out and --steps are required")
	}
	runConfig := filepath.Join(*out, training.ConfigFile)
	_, statErr := os.Stat(runConfig)
	fromRun := *resume && statErr == nil && !flagGiven(fs, "preset")
	m, decode, err := baselineConfig(*model, *preset, *set, runConfig, fromRun)
	if err != nil {
		return err
	}
	ds, err := data.Open(*dataDir)
	if err != nil {
		return err
	}
	defer ds.Close()
	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)
	hint := fmt.Sprintf("resume with: pathogan train-baseline --model %s --data %s --out %s --steps %d --resume", *model, *dataDir, *out, *steps)
	stop, release := interrupts(hint)
	defer release()
	opt := training.RunOptions{Steps: *steps, CheckpointEvery: *every, Keep: *keep, Resume: *resume, Extend: *extend, Stop: stop, Note: noteStderr}
	tr, err := trainBaseline(b, ds, m, decode, *out, opt)
	if err != nil {
		return interrupted(err, hint)
	}
	fmt.Printf("trained %d steps; checkpoints in %s/%s, losses in %s/%s\n", tr.Done, *out, pathogan.CheckpointsDir, *out, training.HistoryFile)
	return nil
}

// baselineConfig returns the named baseline's preset, or the run's own
// config when fromRun, with the --set overrides applied and validated.
func baselineConfig(model, preset, set, runConfig string, fromRun bool) (supervised.Model, supervised.Decoder, error) {
	switch model {
	case unet.ModelName:
		m, err := configOf(unet.Preset, unet.ReadConfig, "a U-Net", preset, set, runConfig, fromRun)
		return m, unet.Decode, err
	case mdgru.ModelName:
		m, err := configOf(mdgru.Preset, mdgru.ReadConfig, "an MDGRU", preset, set, runConfig, fromRun)
		return m, mdgru.Decode, err
	}
	return nil, nil, badFlag("--model %q: want unet or mdgru", model)
}

// settable is a baseline config whose pointer takes --set overrides.
type settable[M supervised.Model] interface {
	*M
	ApplySettings(string) error
}

// configOf is baselineConfig for one config type M; title names the model
// in errors ("a U-Net").
func configOf[M supervised.Model, P settable[M]](presetOf func(string) (M, error), read func(string) (M, bool, error),
	title, preset, set, runConfig string, fromRun bool) (supervised.Model, error) {
	cfg, err := presetOf(preset)
	if err != nil {
		return nil, asUsage(fmt.Errorf("--preset: %w", err))
	}
	if fromRun {
		c, found, err := read(runConfig)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%s: not %s run (its %s is another model's)", filepath.Dir(runConfig), title, training.ConfigFile)
		}
		cfg = c
	}
	if err := P(&cfg).ApplySettings(set); err != nil {
		return nil, asUsage(fmt.Errorf("--set: %w", err))
	}
	return cfg, asUsage(cfg.Validate())
}

// trainBaseline trains a supervised baseline with a progress bar on stderr.
func trainBaseline(b backends.Backend, ds *data.Set, m supervised.Model, decode supervised.Decoder, out string, opt training.RunOptions) (*supervised.Trainer, error) {
	s := m.Settings()
	fmt.Fprintf(os.Stderr, "training the %s baseline, %s preset (%dx%d) for %d steps into %s\n",
		methodName(s.Model), s.Preset, s.Size, s.Size, opt.Steps, out)
	names := m.LossNames()
	var bar *progress.Bar
	tr, err := supervised.Train(b, ds, m, decode, out, opt, func(p training.Progress) {
		if bar == nil {
			bar = progress.New(os.Stderr, s.Model, p.Total)
		}
		var msg strings.Builder
		for i, n := range names {
			fmt.Fprintf(&msg, "%s %.3f ", n, p.Smoothed[i])
		}
		fmt.Fprintf(&msg, "%.2fs/step", p.StepTime.Seconds())
		bar.Set(p.Step, msg.String())
	})
	if bar != nil {
		bar.Finish()
	}
	return tr, err
}

// trainPathoGAN trains PathoGAN with a progress bar on stderr.
func trainPathoGAN(b backends.Backend, ds *data.Set, cfg pathogan.Config, out string, opt training.RunOptions) (*pathogan.Trainer, error) {
	fmt.Fprintf(os.Stderr, "training PathoGAN, %s preset (%dx%d, base %d, z %d, %d blocks) for %d steps into %s\n",
		cfg.Preset, cfg.Size, cfg.Size, cfg.Base, cfg.Z, cfg.ResBlocks, opt.Steps, out)
	var bar *progress.Bar
	tr, err := pathogan.Train(b, ds, cfg, out, opt, func(p training.Progress) {
		if bar == nil {
			bar = progress.New(os.Stderr, "pathogan", p.Total)
		}
		v := func(name string) float64 { return p.Smoothed[slices.Index(pathogan.LossNames, name)] }
		bar.Set(p.Step, fmt.Sprintf("G %.3f D %.3f/%.3f cyc %.3f rel %.3f %.2fs/step",
			v("generator"), v("disc_a"), v("disc_b"), v("cycle"), v("relevancy"), p.StepTime.Seconds()))
	})
	if bar != nil {
		bar.Finish()
	}
	return tr, err
}
