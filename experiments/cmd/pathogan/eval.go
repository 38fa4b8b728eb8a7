package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/backend"
)

func runEval(args []string) error {
	fs := newFlags("eval", "--run RUNDIR --data DIR [--split test]")
	run := fs.String("run", "", "run folder (or a checkpoint file)")
	dataDir := fs.String("data", "", "prepared slice set")
	split := fs.String("split", data.Test, `split to evaluate: "train", "test" or "" for both`)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *run == "" || *dataDir == "" {
		fs.Usage()
		return fmt.Errorf("--run and --data are required")
	}
	b, info, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, info)
	m, err := pathogan.LoadInference(b, *run)
	if err != nil {
		return err
	}
	ds, err := data.Open(*dataDir)
	if err != nil {
		return err
	}
	defer ds.Close()
	idx := ds.Select(*split, data.Pathological)
	if len(idx) == 0 {
		return fmt.Errorf("%s: no pathological slices in split %q", *dataDir, *split)
	}
	score, err := pathogan.EvaluateDice(m, ds, idx, 8)
	if err != nil {
		return err
	}
	dir := *run
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	path := filepath.Join(dir, "eval.csv")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"patient", "slice", "split", "tumour_pixels", "dice"})
	for k, i := range idx {
		in := ds.Info[i]
		w.Write([]string{in.Patient, strconv.Itoa(in.Slice), in.Split, strconv.Itoa(in.TumourPixels), strconv.FormatFloat(score.Dice[k], 'f', 4, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("checkpoint step %d: Dice of the labelmap (threshold %.2f) vs the whole tumour on %d pathological %s slices: mean ± std (median) %s",
		m.Step, m.Cfg.Threshold, len(idx), *split, score.Summary.String())
	if score.Summary.NaNs > 0 {
		fmt.Printf(" over %d slices (%d with no tumour left at %dx%d and none predicted are left out)", score.Summary.N(), score.Summary.NaNs, m.Cfg.Size, m.Cfg.Size)
	}
	fmt.Println()
	fmt.Printf("per-slice scores: %s\n", path)
	return nil
}
