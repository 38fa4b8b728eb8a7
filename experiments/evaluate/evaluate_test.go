package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/pathogan/metrics"
)

// rows of two patients; the expected Dice PP values are worked out by hand.
var testRows = []Row{
	// Patient a, train: overlaps 10 and 0, predicted 20 and 5, truth 10 and 5:
	// Dice PP = 2·10 / (25 + 15) = 0.5.
	{Patient: "a", Slice: 60, Split: "train", TumourPixels: 10, Predicted: 20, Overlap: 10, Dice: 2 * 10.0 / 30, HD95: 2, AVD: 1, HD95Max: 2.5, AVDMean: 1.1},
	{Patient: "a", Slice: 61, Split: "train", TumourPixels: 5, Predicted: 5, Overlap: 0, Dice: 0, HD95: 6, AVD: 3, HD95Max: 6, AVDMean: 3},
	// Patient b, test: one slice with nothing predicted (distances n/a):
	// Dice PP = 0.
	{Patient: "b", Slice: 70, Split: "test", TumourPixels: 8, Predicted: 0, Overlap: 0, Dice: 0, HD95: math.NaN(), AVD: math.NaN(), HD95Max: math.NaN(), AVDMean: math.NaN()},
}

func TestSummarise(t *testing.T) {
	tr := Summarise(testRows, "train")
	if tr.Slices != 2 || tr.Patients != 1 {
		t.Fatalf("train: %d slices %d patients, want 2 and 1", tr.Slices, tr.Patients)
	}
	if got := tr.DicePP.Mean(); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("train Dice PP %g, want 0.5", got)
	}
	if got := tr.Dice.Mean(); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("train Dice mean %g, want 1/3", got)
	}
	if got := tr.HD95.Median(); got != 4 {
		t.Errorf("train HD95 median %g, want 4", got)
	}
	te := Summarise(testRows, "test")
	if te.HD95.N() != 0 || te.HD95.NaNs != 1 || te.DicePP.Mean() != 0 {
		t.Errorf("test: HD95 n %d NaNs %d, Dice PP %g; want 0, 1, 0", te.HD95.N(), te.HD95.NaNs, te.DicePP.Mean())
	}
	if all := Summarise(testRows, ""); all.Slices != 3 || all.Patients != 2 {
		t.Errorf("all: %d slices %d patients, want 3 and 2", all.Slices, all.Patients)
	}
}

func TestWriteReadTable(t *testing.T) {
	dir := t.TempDir()
	meta := Meta{Method: "PathoGAN", Model: "pathogan", Size: 32, Threshold: 0.5, Policy: metrics.EmptySkip.String()}
	if err := Write(dir, testRows, meta); err != nil {
		t.Fatal(err)
	}
	// Readable by everyone, like the run's other files (they were 0600).
	for _, name := range []string{CSVFile, MetaFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, %v; want mode 0644", name, fi, err)
		}
	}
	rows, m2, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m2 != meta || len(rows) != len(testRows) {
		t.Fatalf("read back %+v and %d rows", m2, len(rows))
	}
	for i, r := range rows {
		w := testRows[i]
		if r.Patient != w.Patient || r.Slice != w.Slice || r.Split != w.Split || r.Overlap != w.Overlap ||
			math.Abs(r.Dice-w.Dice) > 1e-4 || (math.IsNaN(w.HD95) != math.IsNaN(r.HD95)) {
			t.Errorf("row %d: read %+v, wrote %+v", i, r, w)
		}
	}
	md, recs := Table([]Entry{{Meta: m2, Rows: rows}})
	for _, want := range []string{
		"| PathoGAN | Tr | 33.3 ± 47.1 (33.3) | 4.0 ± 2.8 (4.0) | 2.0 ± 1.4 (2.0) | 50.0 ± n/a (50.0) | 2 | 1 |",
		"| PathoGAN | Te | 0.0 ± n/a (0.0) | n/a | n/a | 0.0 ± n/a (0.0) | 1 | 1 |",
		"*MDGRU, supervised (paper)* | Te | *86.3 ± 21.3 (93.6)*",
		"empty masks: skip",
		"PathoGAN (Te): 0 of 1 slices without a Dice, 1 without distances",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if len(recs) != 3 || recs[1][0] != "PathoGAN" || recs[1][1] != "Tr" || recs[1][4] != "0.3333" {
		t.Errorf("CSV records %v", recs)
	}
}

func TestReadErrors(t *testing.T) {
	if _, _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "pathogan eval") {
		t.Errorf("Read of a folder without eval.json: %v, want a hint to run eval", err)
	}
}
