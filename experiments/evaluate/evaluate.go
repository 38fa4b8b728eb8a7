// Package evaluate scores a segmentation model on a prepared slice set as
// the paper's Table 1 does: per slice Dice, HD95 and AVD, and per patient
// the volumetric Dice of the stacked slices (Dice PP), each summarised as
// mean ± std (median) for training and test patients separately. It also
// writes and reads the per-slice CSV and formats the table (Markdown and
// CSV) with the paper's own rows beside ours.
package evaluate

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/metrics"

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// Segmenter gives a tumour probability per pixel, [n][h][w], for images
// [n][h][w][c]; PathoGAN's and the U-Net's Inference both are one.
type Segmenter interface {
	Segment(x []float32) ([]float32, error)
}

// Row is the evaluation of one slice. Distances are in pixels of the
// evaluated image size; HD95 and AVD follow MedPy's pooled convention,
// HD95Max and AVDMean the BraTS/MONAI one (see metrics.Result). Overlap is
// |pred ∩ truth|, which with the two pixel counts gives the per-patient
// volumetric Dice.
type Row struct {
	Patient      string
	Slice        int
	Split        string
	TumourPixels int // in the evaluated (resized) label
	Predicted    int
	Overlap      int
	Dice         float64
	HD95, AVD    float64
	HD95Max      float64
	AVDMean      float64
}

// Options of an evaluation.
type Options struct {
	// Threshold turns probabilities into masks.
	Threshold float64
	// Policy scores empty masks.
	Policy metrics.EmptyPolicy
	// Batch is the number of slices segmented at once (default 8).
	Batch int
}

// Meta describes an evaluation; it is written beside the CSV as JSON.
type Meta struct {
	Method    string  `json:"method"` // "PathoGAN" or "U-Net (supervised)"
	Model     string  `json:"model"`  // "pathogan" or "unet"
	Preset    string  `json:"preset"`
	Step      int     `json:"step"`
	Size      int     `json:"size"`
	Threshold float64 `json:"threshold"`
	Policy    string  `json:"empty_policy"`
	Data      string  `json:"data"`
}

// Run segments the given slices of set with seg and scores every one against
// its whole-tumour label (label > 0). progress, if not nil, is called after
// each batch.
func Run(seg Segmenter, set *data.Set, indices []int, opt Options, progress func(done, total int)) ([]Row, error) {
	if opt.Batch < 1 {
		opt.Batch = 8
	}
	h, w, c := set.Height, set.Width, set.Channels
	per, px := h*w*c, h*w
	var calc metrics.Calculator
	rows := make([]Row, 0, len(indices))
	x := make([]float32, opt.Batch*per)
	labels := make([][]uint8, opt.Batch)
	for lo := 0; lo < len(indices); lo += opt.Batch {
		hi := min(lo+opt.Batch, len(indices))
		for k, idx := range indices[lo:hi] {
			if _, err := set.Image(idx, x[k*per:(k+1)*per]); err != nil {
				return nil, err
			}
			var err error
			if labels[k], err = set.Label(idx, labels[k]); err != nil {
				return nil, err
			}
		}
		probs, err := seg.Segment(x[:(hi-lo)*per])
		if err != nil {
			return nil, err
		}
		if len(probs) != (hi-lo)*px {
			return nil, fmt.Errorf("evaluate: the model returned %d values for %d slices of %dx%d", len(probs), hi-lo, h, w)
		}
		for k, idx := range indices[lo:hi] {
			pred := metrics.Threshold(probs[k*px:(k+1)*px], opt.Threshold)
			truth := labels[k]
			res, err := calc.Evaluate(pred, truth, h, w, opt.Policy)
			if err != nil {
				return nil, err
			}
			in := set.Info[idx]
			r := Row{Patient: in.Patient, Slice: in.Slice, Split: in.Split, Dice: res.Dice,
				HD95: res.HD95Pooled, AVD: res.AVDPooled, HD95Max: res.HD95Max, AVDMean: res.AVDMean}
			r.Overlap, r.Predicted, r.TumourPixels = metrics.Overlap(pred, truth)
			rows = append(rows, r)
		}
		if progress != nil {
			progress(hi, len(indices))
		}
	}
	return rows, nil
}

// Stats summarises one method on one split.
type Stats struct {
	Slices, Patients       int
	Dice, HD95, AVD        metrics.Summary
	HD95Max, AVDMean       metrics.Summary
	DicePP                 metrics.Summary
	PatientsWithoutTumours int
}

// Summarise computes the Table 1 statistics of the rows of one split ("" for
// all). Dice PP stacks each patient's evaluated slices: 2·Σoverlap /
// (Σpredicted + Σtumour); a patient with neither is left out.
func Summarise(rows []Row, split string) Stats {
	var s Stats
	type acc struct{ overlap, pred, truth int }
	per := map[string]*acc{}
	var order []string
	for _, r := range rows {
		if split != "" && r.Split != split {
			continue
		}
		s.Slices++
		s.Dice.Add(r.Dice)
		s.HD95.Add(r.HD95)
		s.AVD.Add(r.AVD)
		s.HD95Max.Add(r.HD95Max)
		s.AVDMean.Add(r.AVDMean)
		a, ok := per[r.Patient]
		if !ok {
			a = &acc{}
			per[r.Patient] = a
			order = append(order, r.Patient)
		}
		a.overlap += r.Overlap
		a.pred += r.Predicted
		a.truth += r.TumourPixels
	}
	s.Patients = len(order)
	for _, p := range order {
		a := per[p]
		if a.pred+a.truth == 0 {
			s.PatientsWithoutTumours++
			continue
		}
		s.DicePP.Add(2 * float64(a.overlap) / float64(a.pred+a.truth))
	}
	return s
}

// CSVFile and MetaFile are the evaluation's files in a run folder.
const (
	CSVFile  = "eval.csv"
	MetaFile = "eval.json"
)

var csvHeader = []string{"patient", "slice", "split", "tumour_pixels", "predicted_pixels", "overlap_pixels",
	"dice", "hd95", "avd", "hd95_max", "avd_mean"}

// fmtFloat writes a metric; NaN (not available) as "nan".
func fmtFloat(v float64) string {
	if math.IsNaN(v) {
		return "nan"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// Write writes the rows to dir/eval.csv and meta to dir/eval.json,
// each atomically.
func Write(dir string, rows []Row, meta Meta) error {
	recs := [][]string{csvHeader}
	for _, r := range rows {
		recs = append(recs, []string{r.Patient, strconv.Itoa(r.Slice), r.Split, strconv.Itoa(r.TumourPixels),
			strconv.Itoa(r.Predicted), strconv.Itoa(r.Overlap), fmtFloat(r.Dice), fmtFloat(r.HD95), fmtFloat(r.AVD),
			fmtFloat(r.HD95Max), fmtFloat(r.AVDMean)})
	}
	if err := atomicfile.Write(filepath.Join(dir, CSVFile), "", func(f io.Writer) error {
		w := csv.NewWriter(f)
		w.WriteAll(recs)
		return w.Error()
	}); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(meta, "", "  ")
	return atomicfile.WriteFile(filepath.Join(dir, MetaFile), append(js, '\n'))
}

// Read reads dir/eval.csv and dir/eval.json.
func Read(dir string) ([]Row, Meta, error) {
	var meta Meta
	path := filepath.Join(dir, MetaFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, meta, fmt.Errorf("%w (run `pathogan eval --run %s` first)", err, dir)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	path = filepath.Join(dir, CSVFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, meta, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || len(recs[0]) != len(csvHeader) || recs[0][0] != csvHeader[0] {
		return nil, meta, fmt.Errorf("%s: header %v, want %v", path, firstOr(recs), csvHeader)
	}
	rows := make([]Row, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		var r Row
		var ints [4]int
		var fl [5]float64
		for k := range ints {
			if ints[k], err = strconv.Atoi(rec[[]int{1, 3, 4, 5}[k]]); err != nil {
				return nil, meta, fmt.Errorf("%s: line %d: %s %q is not an integer", path, i+2, csvHeader[[]int{1, 3, 4, 5}[k]], rec[[]int{1, 3, 4, 5}[k]])
			}
		}
		for k := range fl {
			if fl[k], err = strconv.ParseFloat(rec[6+k], 64); err != nil {
				return nil, meta, fmt.Errorf("%s: line %d: %s %q is not a number", path, i+2, csvHeader[6+k], rec[6+k])
			}
		}
		r.Patient, r.Split = rec[0], rec[2]
		r.Slice, r.TumourPixels, r.Predicted, r.Overlap = ints[0], ints[1], ints[2], ints[3]
		r.Dice, r.HD95, r.AVD, r.HD95Max, r.AVDMean = fl[0], fl[1], fl[2], fl[3], fl[4]
		rows = append(rows, r)
	}
	return rows, meta, nil
}

func firstOr(recs [][]string) []string {
	if len(recs) == 0 {
		return nil
	}
	return recs[0]
}
