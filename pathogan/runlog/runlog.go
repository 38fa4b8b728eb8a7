// Package runlog writes a training run's per-step log, losses.csv: a header
// "step,lr,seconds,<term>..." and one row per step. Opened for a resumed
// run, it keeps the rows up to the checkpoint's step and drops the later
// ones, which will be trained again, so the file always describes one
// uninterrupted run. PathoGAN and the U-Net baseline both use it.
package runlog

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"time"
)

// FileName is the log's name in a run folder.
const FileName = "losses.csv"

// History appends rows to a run's log.
type History struct {
	f *os.File
	w *csv.Writer
}

// Open opens (or creates) the log at path with one column per term, keeping
// existing rows of steps <= done.
func Open(path string, terms []string, done int) (*History, error) {
	var keep [][]string
	if b, err := os.ReadFile(path); err == nil {
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for i, r := range rows {
			if i == 0 {
				continue
			}
			if s, err := strconv.Atoi(r[0]); err == nil && s <= done {
				keep = append(keep, r)
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	h := &History{f: f, w: csv.NewWriter(f)}
	h.w.Write(append([]string{"step", "lr", "seconds"}, terms...))
	h.w.WriteAll(keep)
	return h, h.w.Error()
}

// Add appends one step's row.
func (h *History) Add(step int, lr float64, d time.Duration, losses []float64) error {
	row := []string{strconv.Itoa(step), strconv.FormatFloat(lr, 'g', 6, 64), strconv.FormatFloat(d.Seconds(), 'f', 3, 64)}
	for _, v := range losses {
		row = append(row, strconv.FormatFloat(v, 'g', 7, 64))
	}
	return h.w.Write(row)
}

// Flush writes buffered rows and syncs the file.
func (h *History) Flush() error {
	h.w.Flush()
	if err := h.w.Error(); err != nil {
		return err
	}
	return h.f.Sync()
}

// Close flushes and closes the file.
func (h *History) Close() error {
	h.w.Flush()
	err := h.w.Error()
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	return err
}
