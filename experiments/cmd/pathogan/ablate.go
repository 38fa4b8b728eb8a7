package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/ablate"
	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/pathogan/backend"
)

func runAblate(args []string) error {
	fs := newFlags("ablate", "--data DIR --out DIR [--variants LIST] [--seeds LIST] [--steps N] [options]")
	dataDir := fs.String("data", "", "prepared slice set at the preset's size (the main job's is work/reproduce/slices64)")
	out := fs.String("out", "", "ablation folder: one run per variant and seed, the table and figures (run again to resume)")
	preset := fs.String("preset", "small", "PathoGAN preset every variant starts from: paper, small, mini, tiny")
	set := fs.String("set", "", `overrides "key=value;..." applied to every variant before its own`)
	variants := fs.String("variants", "full,no-vae,no-relevancy,idt,no-kl,lambda_r=2",
		"comma-separated variants: "+strings.Join(slices.Sorted(maps.Keys(ablate.Known)), ", ")+", or settings such as lambda_r=2 (one variant each; full is always included)")
	seeds := fs.String("seeds", "1,2,3", "comma-separated seeds, the same for every variant")
	steps := fs.Int("steps", 4500, "training steps of every run (the main job's)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *dataDir == "" || *out == "" {
		return usagef(fs, "--data and --out are required")
	}
	if *steps < 1 || *steps > maxSteps {
		return badFlag("--steps %d: want 1 to %d", *steps, maxSteps)
	}
	vs, err := ablate.ParseVariants(*variants)
	if err != nil {
		return badFlag("--variants: %v", err)
	}
	var seedList []uint64
	for _, s := range strings.Split(*seeds, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return badFlag("--seeds %q: %q is not a non-negative integer", *seeds, s)
		}
		if slices.Contains(seedList, n) {
			return badFlag("--seeds %q: seed %d listed twice", *seeds, n)
		}
		seedList = append(seedList, n)
	}
	opt := ablate.Options{Preset: *preset, Settings: *set, Variants: vs, Seeds: seedList, Steps: *steps, Out: *out, Note: noteStderr}
	cfgs, err := ablate.Configs(opt)
	if err != nil {
		return asUsage(err)
	}
	ds, err := data.Open(*dataDir)
	if err != nil {
		return err
	}
	defer ds.Close()
	if ds.Height != cfgs[0].Size || ds.Channels != cfgs[0].Channels {
		return fmt.Errorf("slice set %s holds %dx%dx%d slices, preset %q needs %dx%dx%d", *dataDir,
			ds.Height, ds.Width, ds.Channels, *preset, cfgs[0].Size, cfgs[0].Size, cfgs[0].Channels)
	}
	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)
	hint := fmt.Sprintf("resume with the same command: pathogan %s", strings.Join(os.Args[1:], " "))
	stop, release := interrupts(hint)
	defer release()
	opt.Stop = stop
	var bar *progress.Bar
	scores, err := ablate.Run(b, ds, opt, func(e ablate.Event) {
		label := fmt.Sprintf("%d/%d %s seed %d", e.Run, e.Runs, e.Variant, e.Seed)
		switch {
		case e.Score != nil:
			if bar != nil {
				bar.Finish()
				bar = nil
			}
			fmt.Fprintf(os.Stderr, "%s: test Dice %.1f %%, samples %.2f (IoU %.2f)\n", label, 100*e.Score.Dice, e.Score.Samples, e.Score.SamplesIoU)
		case e.Step == 0:
			bar = progress.New(os.Stderr, label, e.Total)
		case bar != nil:
			bar.Set(e.Step, "steps")
		}
	})
	if err != nil {
		return interrupted(err, hint)
	}
	if err := ablate.Write(b, ds, opt, scores); err != nil {
		return err
	}
	fmt.Print(ablate.Table(ablate.Summarise(scores)))
	fmt.Printf("\nwrote %s, %s, %s and %s in %s\n", ablate.TableFile, ablate.JSONFile, ablate.BoxesFile, ablate.SlicesFile, filepath.Clean(*out))
	return nil
}
