// Package runlog writes a training run's per-step log, losses.csv: a header
// "step,lr,seconds,<term>..." and one row per step. Each row reaches the file
// in one write, so a killed process leaves whole rows (a power cut can still
// leave half of the last one, which Open drops). Opened for a resumed run,
// the log keeps the rows up to the checkpoint's step and drops the later
// ones, which will be trained again, so the file always describes one
// uninterrupted run. PathoGAN and the U-Net baseline both use it.
package runlog

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// FileName is the log's name in a run folder.
const FileName = "losses.csv"

// History appends rows to a run's log.
type History struct {
	f   *os.File
	buf bytes.Buffer
}

// Open opens (or creates) the log at path with one column per term. For a
// run resumed at step done > 0 it keeps the existing rows of steps <= done;
// an unfinished last line (from a crash) is dropped, and any other row that
// does not parse is an error naming the file and line. For done = 0 the log
// starts empty. The kept rows are written to a temporary file (TempPattern)
// that replaces the log by rename, so a process killed inside Open leaves
// the old log whole.
func Open(path string, terms []string, done int) (*History, error) {
	header := append([]string{"step", "lr", "seconds"}, terms...)
	var keep [][]string
	if done > 0 {
		var err error
		if keep, err = readRows(path, header, done); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(append([][]string{header}, keep...))
	if err := w.Error(); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(path, TempPattern, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return &History{f: f}, nil
}

// TempPattern is the name pattern of the temporary file Open writes next to
// the log; RemoveTemps deletes those a killed process left.
const TempPattern = ".losses-*.tmp"

// RemoveTemps deletes the temporary files of interrupted Opens in dir and
// returns their paths.
func RemoveTemps(dir string) ([]string, error) {
	return atomicfile.RemoveTemps(dir, TempPattern)
}

// readRows returns the rows of the log at path (if any) of steps <= done.
func readRows(path string, header []string, done int) ([][]string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(b), "\n")
	var keep [][]string
	for i, line := range lines {
		if line == "" {
			continue
		}
		last := !strings.HasSuffix(line, "\n")
		r, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil || len(r) != len(header) {
			if last {
				break // half a row written when the process died
			}
			if err == nil {
				err = fmt.Errorf("%d fields, want %d (%s)", len(r), len(header), strings.Join(header, ","))
			}
			return nil, fmt.Errorf("%s, line %d: %v", path, i+1, err)
		}
		if i == 0 {
			if strings.Join(r, ",") != strings.Join(header, ",") {
				return nil, fmt.Errorf("%s: columns %s, this run writes %s", path, strings.Join(r, ","), strings.Join(header, ","))
			}
			continue
		}
		if s, err := strconv.Atoi(r[0]); err == nil && s <= done {
			keep = append(keep, r)
		}
	}
	return keep, nil
}

// write appends one CSV record to the file in a single write.
func (h *History) write(r []string) error {
	h.buf.Reset()
	w := csv.NewWriter(&h.buf)
	w.Write(r)
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	_, err := h.f.Write(h.buf.Bytes())
	return err
}

// Add appends one step's row.
func (h *History) Add(step int, lr float64, d time.Duration, losses []float64) error {
	row := []string{strconv.Itoa(step), strconv.FormatFloat(lr, 'g', 6, 64), strconv.FormatFloat(d.Seconds(), 'f', 3, 64)}
	for _, v := range losses {
		row = append(row, strconv.FormatFloat(v, 'g', 7, 64))
	}
	return h.write(row)
}

// Flush syncs the file to disk (rows are written as they are added).
func (h *History) Flush() error { return h.f.Sync() }

// Close syncs and closes the file.
func (h *History) Close() error {
	err := h.f.Sync()
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	return err
}
