package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/unet"
)

func runTrainBaseline(args []string) error {
	fs := newFlags("train-baseline", "--data DIR --preset NAME --steps N --out RUNDIR [options]")
	dataDir := fs.String("data", "", "prepared slice set (with --size matching the preset)")
	preset := fs.String("preset", "mini", "U-Net preset (same names and sizes as PathoGAN's): paper, small, mini, tiny")
	steps := fs.Int("steps", 0, "training steps")
	out := fs.String("out", "", "run folder (config, losses.csv, checkpoints/)")
	set := fs.String("set", "", `overrides "key=value;key=value" (keys: the JSON names in config.json, e.g. learning_rate, base, dice_weight)`)
	resume := fs.Bool("resume", false, "continue the run in --out from its newest intact checkpoint (with the run's config.json; --preset and --set must agree with it)")
	extend := fs.Bool("extend", false, "with --resume: train to a --steps other than the run's, recomputing the learning-rate schedule for the new total from the resumed step on")
	every := fs.Int("checkpoint-every", 0, "save a checkpoint every N steps (default: steps/10)")
	keep := fs.Int("keep", 3, "checkpoints kept (0: all)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *dataDir == "" || *out == "" || *steps == 0 {
		return usagef(fs, "--data, --out and --steps are required")
	}
	if *steps < 0 || *steps > maxSteps {
		return fmt.Errorf("--steps %d: want 1 to %d", *steps, maxSteps)
	}
	cfg, err := unet.Preset(*preset)
	if err != nil {
		return err
	}
	runConfig := filepath.Join(*out, pathogan.ConfigFile)
	if _, statErr := os.Stat(runConfig); *resume && statErr == nil && !flagGiven(fs, "preset") {
		// Resuming without a preset: start from the run's own config.
		c, found, err := unet.ReadConfig(runConfig)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%s: not a U-Net run (its %s is another model's)", *out, pathogan.ConfigFile)
		}
		cfg = c
	}
	if err := cfg.ApplySettings(*set); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
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
	hint := fmt.Sprintf("resume with: pathogan train-baseline --data %s --out %s --steps %d --resume", *dataDir, *out, *steps)
	stop, release := interrupts(hint)
	defer release()
	opt := pathogan.RunOptions{Steps: *steps, CheckpointEvery: *every, Keep: *keep, Resume: *resume, Extend: *extend, Stop: stop, Note: noteStderr}
	tr, err := trainUNet(b, ds, cfg, *out, opt)
	if err != nil {
		return interrupted(err, hint)
	}
	fmt.Printf("trained %d steps; checkpoints in %s/%s, losses in %s/%s\n", tr.Done, *out, pathogan.CheckpointsDir, *out, pathogan.HistoryFile)
	return nil
}

// trainUNet trains the baseline with a progress bar on stderr.
func trainUNet(b backends.Backend, ds *data.Set, cfg unet.Config, out string, opt pathogan.RunOptions) (*unet.Trainer, error) {
	fmt.Fprintf(os.Stderr, "training the U-Net baseline, %s preset (%dx%d, base %d, depth %d) for %d steps into %s\n",
		cfg.Preset, cfg.Size, cfg.Size, cfg.Base, cfg.Depth, opt.Steps, out)
	var bar *progress.Bar
	tr, err := unet.Train(b, ds, cfg, out, opt, func(p pathogan.Progress) {
		if bar == nil {
			bar = progress.New(os.Stderr, "u-net", p.Total)
		}
		bar.Set(p.Step, fmt.Sprintf("loss %.3f bce %.3f dice %.3f %.2fs/step", p.Smoothed[0], p.Smoothed[1], p.Smoothed[2], p.StepTime.Seconds()))
	})
	if bar != nil {
		bar.Finish()
	}
	return tr, err
}

// trainPathoGAN trains PathoGAN with a progress bar on stderr.
func trainPathoGAN(b backends.Backend, ds *data.Set, cfg pathogan.Config, out string, opt pathogan.RunOptions) (*pathogan.Trainer, error) {
	fmt.Fprintf(os.Stderr, "training PathoGAN, %s preset (%dx%d, base %d, z %d, %d blocks) for %d steps into %s\n",
		cfg.Preset, cfg.Size, cfg.Size, cfg.Base, cfg.Z, cfg.ResBlocks, opt.Steps, out)
	var bar *progress.Bar
	tr, err := pathogan.Train(b, ds, cfg, out, opt, func(p pathogan.Progress) {
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
