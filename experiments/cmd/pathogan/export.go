package main

import (
	"fmt"
	"os"
)

func runExport(args []string) error {
	fs := newFlags("export", "--run RUNDIR|CHECKPOINT --out FILE")
	run := fs.String("run", "", "PathoGAN run folder (its newest checkpoint) or a checkpoint file")
	out := fs.String("out", "", "file to write: the generators only, for inference")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *run == "" || *out == "" {
		return usagef(fs, "--run and --out are required")
	}
	m, err := loadPathoGAN(*run)
	if err != nil {
		return err
	}
	if err := m.Export(*out); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s preset, step %d, generators only (%.1f MB)\n", *out, m.Cfg.Preset, m.Step, float64(st.Size())/1e6)
	return nil
}
