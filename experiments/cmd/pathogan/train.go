package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
)

func runTrain(args []string) error {
	fs := newFlags("train", "--data DIR --preset NAME --steps N --out RUNDIR [options]")
	dataDir := fs.String("data", "", "prepared slice set (from `pathogan prepare`, with --size matching the preset)")
	preset := fs.String("preset", "mini", "network preset: paper, small, mini, tiny")
	steps := fs.Int("steps", 0, "training steps (batches of healthy and pathological slices)")
	epochs := fs.Float64("epochs", 0, "or: training length in epochs (one epoch shows every pathological training slice once)")
	out := fs.String("out", "", "run folder (config, losses.csv, checkpoints/)")
	set := fs.String("set", "", `overrides "key=value;key=value" (keys: `+strings.Join(pathogan.Keys(), ", ")+`)`)
	resume := fs.Bool("resume", false, "continue the run in --out from its newest checkpoint (its saved config is used; --preset and --set are then ignored)")
	every := fs.Int("checkpoint-every", 0, "save a checkpoint every N steps (default: steps/10)")
	keep := fs.Int("keep", 3, "checkpoints kept (0: all)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *dataDir == "" || *out == "" || (*steps <= 0 && *epochs <= 0) {
		fs.Usage()
		return fmt.Errorf("--data, --out and --steps (or --epochs) are required")
	}
	cfg, err := pathogan.Preset(*preset)
	if err != nil {
		return err
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
	if *steps <= 0 {
		n := len(ds.Select(data.Train, data.Pathological))
		*steps = max(1, int(*epochs*float64(n)/float64(cfg.Batch)+0.5))
	}
	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)
	tr, err := trainPathoGAN(b, ds, cfg, *out, pathogan.RunOptions{Steps: *steps, CheckpointEvery: *every, Keep: *keep, Resume: *resume})
	if err != nil {
		return err
	}
	fmt.Printf("trained %d steps; checkpoints in %s/%s, losses in %s/%s\n", tr.Done, *out, pathogan.CheckpointsDir, *out, pathogan.HistoryFile)
	return nil
}
