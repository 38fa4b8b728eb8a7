package data

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
)

// Split names. Val holds patients for model selection: never trained on,
// never in the table.
const (
	Train = "train"
	Val   = "val"
	Test  = "test"
)

// saltSplit is the second word of each grade's shuffling stream (plus the
// grade's index), so the split draws independently of other streams of seed.
const saltSplit = 0x5eed

// Splits lists the split names, in the order tables show them.
var Splits = []string{Train, Val, Test}

// CheckSplit returns nil when name is a split name (Train, Val or Test) and
// otherwise an error that lists the valid ones.
func CheckSplit(name string) error {
	for _, s := range Splits {
		if name == s {
			return nil
		}
	}
	return fmt.Errorf("unknown split %q: want %q, %q or %q", name, Train, Val, Test)
}

// SplitPatients assigns each patient to Train, Val or Test: within each
// grade (HGG, LGG, or none) the patients are sorted by ID, shuffled with the
// seed, the first round(testFraction * n) go to Test and the next
// round(valFraction * n) to Val. Stratifying by grade keeps the proportion of
// low-grade patients the same in every split. The result depends only on the
// IDs, grades, fractions and seed; with valFraction 0 it is the two-way split
// of earlier versions.
func SplitPatients(patients []PatientFiles, testFraction, valFraction float64, seed uint64) (map[string]string, error) {
	if testFraction < 0 || testFraction > 1 || math.IsNaN(testFraction) {
		return nil, fmt.Errorf("test fraction %v: want a value in [0, 1]", testFraction)
	}
	if valFraction < 0 || testFraction+valFraction > 1 || math.IsNaN(valFraction) {
		return nil, fmt.Errorf("validation fraction %v: want a value in [0, 1 - test fraction]", valFraction)
	}
	byGrade := map[string][]string{}
	for _, p := range patients {
		byGrade[p.Grade] = append(byGrade[p.Grade], p.ID)
	}
	grades := make([]string, 0, len(byGrade))
	for g := range byGrade {
		grades = append(grades, g)
	}
	sort.Strings(grades)
	split := map[string]string{}
	for gi, g := range grades {
		ids := byGrade[g]
		sort.Strings(ids)
		rng := rand.New(rand.NewPCG(seed, uint64(gi)+saltSplit))
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		nTest := int(math.Round(testFraction * float64(len(ids))))
		nVal := int(math.Round(valFraction * float64(len(ids))))
		for i, id := range ids {
			switch {
			case i < nTest:
				split[id] = Test
			case i < nTest+nVal:
				split[id] = Val
			default:
				split[id] = Train
			}
		}
	}
	return split, nil
}

// WriteSplitCSV writes the split as CSV with the header "patient,split", one
// row per patient, sorted by patient ID.
func WriteSplitCSV(w io.Writer, split map[string]string) error {
	ids := make([]string, 0, len(split))
	for id := range split {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	cw := csv.NewWriter(w)
	cw.Write([]string{"patient", "split"})
	for _, id := range ids {
		cw.Write([]string{id, split[id]})
	}
	cw.Flush()
	return cw.Error()
}

// ReadSplitCSV reads a split written by WriteSplitCSV (or by hand: a header
// "patient,split", then rows with a non-empty patient ID and split "train",
// "val" or "test"). Errors name the file and the line.
func ReadSplitCSV(path string) (map[string]string, error) {
	f, err := openBounded(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readSplitCSV(f, path)
}

// readSplitCSV implements ReadSplitCSV on r; path names it in errors.
func readSplitCSV(r io.Reader, path string) (map[string]string, error) {
	rows, err := readCSV(r, path)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || len(rows[0]) < 2 || strings.TrimSpace(rows[0][0]) != "patient" || strings.TrimSpace(rows[0][1]) != "split" {
		return nil, fmt.Errorf("%s: want a header row \"patient,split\"", path)
	}
	split := map[string]string{}
	for i, r := range rows[1:] {
		id, s := strings.TrimSpace(r[0]), strings.TrimSpace(r[1])
		if id == "" {
			return nil, fmt.Errorf("%s: line %d: empty patient ID", path, i+2)
		}
		if s != Train && s != Val && s != Test {
			return nil, fmt.Errorf("%s: line %d: split %q for %s, want \"train\", \"val\" or \"test\"", path, i+2, s, id)
		}
		if _, dup := split[id]; dup {
			return nil, fmt.Errorf("%s: line %d: patient %s listed twice", path, i+2, id)
		}
		split[id] = s
	}
	return split, nil
}

// maxCSVBytes bounds the metadata files the package reads (split.csv,
// slices.csv and prepare.json; BraTS's slices.csv is under 1 MB).
const maxCSVBytes = 64 << 20

// openBounded opens a CSV (or JSON) file to read, refusing one longer than
// maxCSVBytes.
func openBounded(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() > maxCSVBytes {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes, more than the %d (64 MiB) this reader accepts", path, st.Size(), maxCSVBytes)
	}
	return f, nil
}

// readCSV reads all rows of CSV data from r, at most maxCSVBytes of it;
// errors name path. Every row has as many fields as the first.
func readCSV(r io.Reader, path string) ([][]string, error) {
	lr := &io.LimitedReader{R: r, N: maxCSVBytes + 1}
	rows, err := csv.NewReader(lr).ReadAll()
	if lr.N <= 0 {
		return nil, fmt.Errorf("%s: more than the %d bytes (64 MiB) this reader accepts for a CSV file", path, maxCSVBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}
