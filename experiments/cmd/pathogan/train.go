package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

func runTrain(args []string) error {
	fs := newFlags("train", "--data DIR --steps N --out RUNDIR [--preset NAME] [--set K=V;...] [options]")
	dataDir := fs.String("data", "", "prepared slice set (from pathogan prepare, with --size matching the preset)")
	preset := fs.String("preset", "small", "network preset: "+strings.Join(pathogan.PresetNames(), ", ")+" (the slice set's --size must be the preset's)")
	steps := fs.Int("steps", 0, "training steps (batches of healthy and pathological slices)")
	epochs := fs.Float64("epochs", 0, "or: training length in epochs (one epoch shows every pathological training slice once)")
	out := fs.String("out", "", "run folder (config, losses.csv, checkpoints/)")
	set := fs.String("set", "", `overrides "key=value;key=value" (keys: `+strings.Join(pathogan.Keys(), ", ")+`)`)
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
	if flagGiven(fs, "epochs") && !(*epochs > 0 && *epochs <= maxSteps) { // also true for NaN
		return badFlag("--epochs %g: want a number above 0 and at most %d", *epochs, maxSteps)
	}
	if *dataDir == "" || *out == "" || (*steps == 0 && *epochs == 0) {
		return usagef(fs, "--data, --out and --steps (or --epochs) are required")
	}
	cfg, err := pathogan.Preset(*preset)
	if err != nil {
		return asUsage(fmt.Errorf("--preset: %w", err))
	}
	runConfig := filepath.Join(*out, training.ConfigFile)
	if _, statErr := os.Stat(runConfig); *resume && statErr == nil && !flagGiven(fs, "preset") {
		// Resuming without a preset: start from the run's own config.
		if cfg, err = pathogan.ReadConfig(runConfig); err != nil {
			return err
		}
	}
	if err := cfg.ApplySettings(*set); err != nil {
		return asUsage(fmt.Errorf("--set: %w", err))
	}
	if err := cfg.Validate(); err != nil {
		return asUsage(err)
	}
	ds, err := data.Open(*dataDir)
	if err != nil {
		return err
	}
	defer ds.Close()
	if *steps <= 0 {
		n := len(ds.Select(data.Train, data.Pathological))
		e := *epochs * float64(n) / float64(cfg.Batch)
		if e > maxSteps {
			return fmt.Errorf("--epochs %g: %.3g steps of %d pathological training slices, more than %d", *epochs, e, n, maxSteps)
		}
		*steps = max(1, int(e+0.5))
	}
	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)
	hint := fmt.Sprintf("resume with: pathogan train --data %s --out %s --steps %d --resume", *dataDir, *out, *steps)
	stop, release := interrupts(hint)
	defer release()
	opt := training.RunOptions{Steps: *steps, CheckpointEvery: *every, Keep: *keep, Resume: *resume, Extend: *extend, Stop: stop, Note: noteStderr}
	tr, err := trainPathoGAN(b, ds, cfg, *out, opt)
	if err != nil {
		return interrupted(err, hint)
	}
	fmt.Printf("trained %d steps; checkpoints in %s/%s, losses in %s/%s\n", tr.Done, *out, pathogan.CheckpointsDir, *out, training.HistoryFile)
	return nil
}
