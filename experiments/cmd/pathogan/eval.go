package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/experiments/evaluate"
	"github.com/pathogan-go/pathogan/experiments/progress"
	"github.com/pathogan-go/pathogan/experiments/segment"
	"github.com/pathogan-go/pathogan/internal/atomicfile"
	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/mdgru"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/unet"
)

// Method names printed in tables.
const (
	methodPathoGAN = "PathoGAN"
	methodUNet     = "U-Net, supervised"
	methodMDGRU    = "MDGRU, supervised"
)

func runEval(args []string) error {
	fs := newFlags("eval", "--run RUNDIR --data DIR [--split train|val|test] [--empty skip|nan|worst]")
	run := fs.String("run", "", "run folder of PathoGAN or of a supervised baseline (U-Net or MDGRU), or a checkpoint file")
	dataDir := fs.String("data", "", "prepared slice set")
	split := fs.String("split", "", `split to evaluate: "train", "val", "test", or "" for all (Table 1 needs train and test, and "" requires both to have pathological slices)`)
	empty := fs.String("empty", "skip", "empty-mask policy for HD95/AVD: skip, nan or worst (373.13 px, as BraTS)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *run == "" || *dataDir == "" {
		return usagef(fs, "--run and --data are required")
	}
	if *split != "" {
		if err := data.CheckSplit(*split); err != nil {
			return badFlag("--split: %w, or \"\" for all", err)
		}
	}
	policy, err := metrics.ParseEmptyPolicy(*empty)
	if err != nil {
		return asUsage(fmt.Errorf("--empty: %w", err))
	}
	ds, err := data.Open(*dataDir)
	if err != nil {
		return err
	}
	defer ds.Close()
	if *split == "" {
		// All splits: Table 1 needs train and test, so an empty one is an
		// error rather than a table with one row missing.
		for _, sp := range []string{data.Train, data.Test} {
			if len(ds.Select(sp, data.Pathological)) == 0 {
				return fmt.Errorf("%s: the %s split has no pathological slices (%d slices in all), so the table would lack it: evaluate one split with --split, or prepare the set again with patients in both splits",
					ds.Dir, sp, len(ds.Select(sp, "")))
			}
		}
	}
	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)
	dir, rows, meta, err := evaluateRun(b, *run, ds, *split, policy)
	if err != nil {
		return err
	}
	for _, sp := range data.Splits {
		s := evaluate.Summarise(rows, sp)
		if s.Slices == 0 {
			continue
		}
		fmt.Printf("%s, %s split, %d pathological slices of %d patients (checkpoint step %d, threshold %.2f):\n",
			meta.Method, sp, s.Slices, s.Patients, meta.Step, meta.Threshold)
		fmt.Printf("  Dice %s %%   HD95 %s px   AVD %s px   Dice PP %s %%\n",
			evaluate.Cell(s.Dice, 100), evaluate.Cell(s.HD95, 1), evaluate.Cell(s.AVD, 1), evaluate.Cell(s.DicePP, 100))
	}
	fmt.Printf("mean ± std (median); HD95/AVD in pixels (MedPy's pooled convention); %s\n", meta.Policy)
	fmt.Printf("per-slice scores: %s\n", filepath.Join(dir, evaluate.CSVFile))
	return nil
}

// evaluateRun loads the model of a run (PathoGAN or U-Net, told apart by its
// checkpoint), scores the pathological slices of split ("" for both) and
// writes eval.csv and eval.json into the run folder. It returns that folder.
func evaluateRun(b backends.Backend, run string, ds *data.Set, split string, policy metrics.EmptyPolicy) (string, []evaluate.Row, evaluate.Meta, error) {
	var meta evaluate.Meta
	m, skipped, err := segment.Load(b, run)
	if err != nil {
		return "", nil, meta, err
	}
	for _, e := range skipped {
		fmt.Fprintf(os.Stderr, "warning: passing over a damaged checkpoint: %v\n", e)
	}
	path := m.Path
	dir := filepath.Dir(path)
	if filepath.Base(dir) == checkpoint.Dir {
		dir = filepath.Dir(dir)
	}
	method := methodName(m.Name)
	seg := m.Segmenter
	meta = evaluate.Meta{Method: method, Model: m.Name, Preset: m.Preset, Step: m.Step, Size: m.Size, Threshold: m.Threshold}
	if ds.Height != meta.Size || ds.Width != meta.Size {
		return "", nil, meta, fmt.Errorf("slice set %s is %dx%d, the model in %s %dx%d", ds.Dir, ds.Height, ds.Width, path, meta.Size, meta.Size)
	}
	meta.Policy, meta.Data = policy.String(), ds.Dir
	idx := ds.Select(split, data.Pathological)
	if len(idx) == 0 {
		return "", nil, meta, fmt.Errorf("%s: no pathological slices in split %q", ds.Dir, split)
	}
	bar := progress.New(os.Stderr, "eval "+strings.ToLower(meta.Model), len(idx))
	rows, err := evaluate.Run(seg, ds, idx, evaluate.Options{Threshold: meta.Threshold, Policy: policy}, func(done, _ int) { bar.Set(done, "slices") })
	bar.Finish()
	if err != nil {
		return "", nil, meta, err
	}
	return dir, rows, meta, evaluate.Write(dir, rows, meta)
}

func runTable(args []string) error {
	fs := newFlags("table", "--runs RUNDIR[,RUNDIR...] [--md FILE] [--csv FILE]")
	runs := fs.String("runs", "", "comma-separated run folders evaluated with pathogan eval")
	md := fs.String("md", "", "also write the Markdown table to this file")
	csvPath := fs.String("csv", "", "also write the numbers as CSV to this file")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *runs == "" {
		return usagef(fs, "--runs is required")
	}
	var entries []evaluate.Entry
	for _, r := range strings.Split(*runs, ",") {
		rows, meta, err := evaluate.Read(strings.TrimSpace(r))
		if err != nil {
			return err
		}
		entries = append(entries, evaluate.Entry{Meta: meta, Rows: rows})
	}
	text, recs := evaluate.Table(entries)
	fmt.Print(text)
	if *md != "" {
		if err := os.WriteFile(*md, []byte(text), 0o644); err != nil {
			return err
		}
	}
	if *csvPath != "" {
		if err := writeCSVFile(*csvPath, recs); err != nil {
			return err
		}
	}
	return nil
}

// writeCSVFile writes records to path atomically.
func writeCSVFile(path string, recs [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(recs)
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// methodName is the name Table 1 gives a model: "PathoGAN", "U-Net,
// supervised" or "MDGRU, supervised".
func methodName(model string) string {
	switch model {
	case unet.ModelName:
		return methodUNet
	case mdgru.ModelName:
		return methodMDGRU
	}
	return methodPathoGAN
}
