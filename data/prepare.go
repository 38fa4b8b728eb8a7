package data

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// Class is a slice's image-level label: the only label PathoGAN trains with.
type Class string

// The two domains of the paper: A (healthy) and B (pathological).
const (
	Healthy      Class = "healthy"
	Pathological Class = "pathological"
)

// Options control the preparation of a slice set. The zero value is not
// useful: start from DefaultOptions.
type Options struct {
	// SliceMin and SliceMax are the axial slices taken, inclusive
	// (paper: 60 to 100).
	SliceMin, SliceMax int
	// HealthyMax: a slice with at most this many tumour pixels is healthy
	// (paper: 0, "without pathology").
	HealthyMax int
	// PathologicalAbove: a slice with more than this many tumour pixels is
	// pathological (paper: 20). Slices in between are discarded.
	PathologicalAbove int
	// TestFraction is the share of patients (per grade) put in the test split.
	TestFraction float64
	// ValFraction is the share of patients (per grade) put in the
	// validation split, for model selection (0: none).
	ValFraction float64 `json:",omitempty"`
	// Seed drives the patient split.
	Seed uint64
	// SplitFile, when set, is a split CSV (patient,split) to use instead of
	// drawing one; patients it does not list are skipped.
	SplitFile string `json:",omitempty"`
	// Crop, when > 0, cuts the central Crop x Crop window out of each slice
	// before resizing (0: keep the whole slice).
	Crop int
	// Size, when > 0, resamples each slice to Size x Size (images by area
	// averaging, labels by nearest neighbour); 0 keeps the native size.
	// The healthy/pathological decision is made at the native resolution.
	Size int
	// Workers is the number of patients loaded at once (1..MaxWorkers).
	// Each holds its volumes at the native size; slices are cut and resized
	// one at a time as they are written.
	Workers int `json:"-"`
}

// Bounds of Options, checked by Validate.
const (
	// MaxSliceSize bounds Size and Crop: slices of at most 1024 x 1024.
	MaxSliceSize = 1024
	// MaxWorkers bounds Workers.
	MaxWorkers = 256
)

// DefaultWorkers is the default number of patients that prepare and
// phantom hold in memory at once: the machine's cores, at most two. Each
// worker holds one patient's volumes; at 240x240x155 with healthy
// counterparts that measured about 0.55 GB for prepare and 0.6 GB for
// phantom (peak resident memory with 1, 2 and 4 workers), so two keep
// either command under 2 GB. More workers are faster on a machine with
// the memory; WorkerMemoryNote says what they cost.
func DefaultWorkers() int { return min(runtime.NumCPU(), 2) }

// WorkerMemoryNote returns, for more workers than DefaultWorkers allows
// on any machine, a line saying about how much memory they take; "" else.
func WorkerMemoryNote(workers int) string {
	if workers <= 2 {
		return ""
	}
	return fmt.Sprintf("%d workers hold %d patients in memory at once: about %.1f GB for 240x240x155 volumes", workers, workers, 0.6*float64(workers))
}

// DefaultOptions returns the paper's settings: slices 60..100, healthy = no
// tumour pixel, pathological = more than 20, 20% of patients for testing,
// seed 1, native size, two workers.
func DefaultOptions() Options {
	return Options{SliceMin: 60, SliceMax: 100, HealthyMax: 0, PathologicalAbove: 20,
		TestFraction: 0.2, Seed: 1, Workers: DefaultWorkers()}
}

// Validate checks the options, naming the first bad value.
func (o Options) Validate() error {
	switch {
	case o.SliceMin < 0 || o.SliceMax < o.SliceMin:
		return fmt.Errorf("slice range %d..%d: want 0 <= min <= max", o.SliceMin, o.SliceMax)
	case o.HealthyMax < 0 || o.PathologicalAbove < o.HealthyMax:
		return fmt.Errorf("thresholds healthy <= %d, pathological > %d: want 0 <= healthy max <= pathological threshold", o.HealthyMax, o.PathologicalAbove)
	case o.Crop < 0 || o.Crop > MaxSliceSize:
		return fmt.Errorf("crop %d: want 0 (none) to %d", o.Crop, MaxSliceSize)
	case o.Size < 0 || o.Size > MaxSliceSize:
		return fmt.Errorf("size %d: want 0 (native) to %d", o.Size, MaxSliceSize)
	case o.Workers < 1 || o.Workers > MaxWorkers:
		return fmt.Errorf("workers %d: want 1 to %d", o.Workers, MaxWorkers)
	case !(o.TestFraction >= 0 && o.TestFraction <= 1):
		return fmt.Errorf("test fraction %v: want a value in [0, 1]", o.TestFraction)
	case !(o.ValFraction >= 0 && o.TestFraction+o.ValFraction <= 1):
		return fmt.Errorf("validation fraction %v: want a value in [0, 1 - test fraction]", o.ValFraction)
	}
	return nil
}

// Counts are slice counts per split and class.
type Counts struct {
	TrainHealthy      int `json:"train_healthy"`
	TrainPathological int `json:"train_pathological"`
	ValHealthy        int `json:"val_healthy,omitempty"`
	ValPathological   int `json:"val_pathological,omitempty"`
	TestHealthy       int `json:"test_healthy"`
	TestPathological  int `json:"test_pathological"`
	// Discarded are slices with a tumour too small to be pathological.
	Discarded int `json:"discarded"`
}

// Summary describes a prepared slice set; it is saved as prepare.json.
type Summary struct {
	Source  string  `json:"source"`
	Options Options `json:"options"`
	// Found is the number of patient folders seen, Kept those whose slices are
	// in the set; Skipped lists the others with the reason.
	Found   int       `json:"patients_found"`
	Kept    int       `json:"patients_kept"`
	Skipped []Skipped `json:"skipped"`
	Slices  Counts    `json:"slices"`
	// Healthy is true when the set holds healthy.npy, the healthy
	// counterparts of the images (every kept patient had them).
	Healthy bool `json:"healthy,omitempty"`
	// Height, Width and Channels are the shape of every stored slice.
	Height, Width, Channels int
	// Cached is true when Prepare found the set already prepared.
	Cached bool `json:"-"`
	// Damaged, when not empty, says why the set already in the output
	// folder, prepared from the same source with the same options, could
	// not be reused (a truncated or damaged file): Prepare prepared it again.
	Damaged string `json:"-"`
}

// Files of a prepared slice set.
const (
	ImagesFile  = "images.npy" // float32 [N, H, W, 4], channels FLAIR, T1, T1CE, T2
	LabelsFile  = "labels.npy" // uint8 [N, H, W], BraTS labels 0, 1, 2, 4
	SlicesFile  = "slices.csv" // index,patient,grade,split,slice,class,tumour_pixels
	SplitFile   = "split.csv"  // patient,split
	SummaryFile = "prepare.json"
	// HealthyFile, written only when every kept patient has healthy
	// counterparts (PatientFiles.Healthy), holds them as float32
	// [N, H, W, 4] in the rows, channels, crop and size of images.npy, each
	// scan normalised with the mean and std of the patient's pathological
	// scan (so in the same units), clipped to [-1, 1], background 0.
	HealthyFile = "healthy.npy"
)

// Prepare turns a BraTS folder into a prepared slice set in out (see the
// package doc for the files): it discovers the patients, splits them, and for
// each kept patient normalises the scans, selects and labels the slices, and
// appends them to the cache; when every kept patient has healthy
// counterparts it also writes them (HealthyFile). Patients are loaded opt.Workers at a time but
// written in ID order, so the output is byte-identical for the same input and
// options. A patient whose files cannot be read or do not match is skipped
// and listed in the summary. When out already holds a set prepared from the
// same source with the same options, and its files are whole (see
// verifyCached: every .npy exactly as long as its header says, the counts as
// in the summary), Prepare returns its summary with Cached set and does
// nothing; a damaged set is prepared again, with Summary.Damaged saying why.
// A split that leaves the test split without patients, or without slices, is
// an error unless opt.TestFraction is 0. progress, if not nil, is called
// after each patient.
func Prepare(root, out string, opt Options, progress func(done, total int)) (*Summary, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	old, err := ReadSummary(out)
	cached := err == nil && old.Source == absRoot && reflect.DeepEqual(old.Options, withoutWorkers(opt))
	var damage string
	if cached {
		// The summary matches; the files must still be whole.
		if err := verifyCached(out, old); err != nil {
			cached, damage = false, err.Error()
		}
	}
	if cached && old.Healthy {
		old.Cached = true
		return old, nil
	}
	sum, patients, split, err := selectPatients(root, absRoot, opt)
	useHealthy := err == nil && allHealthy(patients)
	if cached && !useHealthy {
		// same set; a set without healthy counterparts is prepared
		// again only when the source has them now
		old.Cached = true
		return old, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkTestSplit(patients, split, opt); err != nil {
		return nil, err
	}
	sum.Damaged = damage
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(out, SummaryFile)) // a half-written set must not look prepared
	os.Remove(filepath.Join(out, HealthyFile)) // nor an earlier set's healthy counterparts
	w, err := newSetWriter(out, useHealthy)
	if err != nil {
		return nil, err
	}
	defer w.abort()

	// Load patients in parallel, write them in order.
	type result struct {
		vol    *volume
		slices []preparedSlice
		err    error
	}
	results := make([]chan result, len(patients))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	sem := make(chan struct{}, opt.Workers)
	var wg sync.WaitGroup
	go func() {
		for i, p := range patients {
			sem <- struct{}{} // at most Workers patients loaded and not yet written
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, s, err := preparePatient(p, split[p.ID], opt, useHealthy)
				results[i] <- result{v, s, err}
			}()
		}
	}()
	var werr error
	for i, p := range patients {
		r := <-results[i]
		<-sem
		if progress != nil {
			progress(i+1, len(patients))
		}
		if r.err != nil {
			sum.Skipped = append(sum.Skipped, Skipped{p.ID, r.err.Error()})
			continue
		}
		if werr != nil {
			continue
		}
		sum.Kept++
		for _, s := range r.slices {
			if s.class == "" {
				sum.Slices.Discarded++
				continue
			}
			r.vol.cut(&s, opt) // one slice in memory at a time, whatever its size
			if werr = w.add(s); werr != nil {
				break
			}
			sum.Slices.add(s.split, s.class)
		}
	}
	wg.Wait()
	if werr != nil {
		return nil, werr
	}
	sum.Height, sum.Width, sum.Channels = w.h, w.w, NumModalities
	sum.Healthy = useHealthy
	if c := sum.Slices; opt.TestFraction > 0 && w.images != nil && c.TestHealthy+c.TestPathological == 0 {
		return nil, fmt.Errorf("no slice in the test split: %s (test fraction 0 prepares a set without one)", skippedIn(sum, split, Test))
	}
	if err := w.close(split); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(out, SummaryFile), append(js, '\n')); err != nil {
		return nil, err
	}
	return sum, nil
}

// selectPatients discovers the patients under root and splits them (or
// keeps those opt.SplitFile lists). It returns the summary so far, the
// patients to prepare and their splits.
func selectPatients(root, absRoot string, opt Options) (*Summary, []PatientFiles, map[string]string, error) {
	patients, skipped, err := Discover(root)
	if err != nil {
		return nil, nil, nil, err
	}
	sum := &Summary{Source: absRoot, Options: withoutWorkers(opt), Found: len(patients) + len(skipped), Skipped: skipped}
	var split map[string]string
	if opt.SplitFile != "" {
		if split, err = ReadSplitCSV(opt.SplitFile); err != nil {
			return nil, nil, nil, err
		}
		kept := patients[:0:0]
		for _, p := range patients {
			if split[p.ID] == "" {
				sum.Skipped = append(sum.Skipped, Skipped{p.ID, fmt.Sprintf("not listed in %s", opt.SplitFile)})
				continue
			}
			kept = append(kept, p)
		}
		patients = kept
	} else if split, err = SplitPatients(patients, opt.TestFraction, opt.ValFraction, opt.Seed); err != nil {
		return nil, nil, nil, err
	}
	return sum, patients, split, nil
}

// checkTestSplit refuses a split that puts no patient in the test split,
// unless opt.TestFraction is 0 (a set without a test split, asked for).
func checkTestSplit(patients []PatientFiles, split map[string]string, opt Options) error {
	if opt.TestFraction == 0 || len(patients) == 0 {
		return nil // no patient at all is reported later, with the skipped ones
	}
	for _, p := range patients {
		if split[p.ID] == Test {
			return nil
		}
	}
	if opt.SplitFile != "" {
		return fmt.Errorf("%s puts none of the %d patients found in the test split: list some as \"test\", or set the test fraction to 0 to prepare a set without a test split",
			opt.SplitFile, len(patients))
	}
	return fmt.Errorf("the test split is empty: test fraction %g of %d patients (per grade, rounded) gives none; use more patients or a larger test fraction, or 0 to prepare a set without a test split",
		opt.TestFraction, len(patients))
}

// skippedIn says why the patients of split sp gave no slice: how many were
// skipped, with the first reasons.
func skippedIn(sum *Summary, split map[string]string, sp string) string {
	n, total := 0, 0
	var reasons []string
	for _, sk := range sum.Skipped {
		if split[sk.Patient] == sp {
			n++
			if len(reasons) < 3 {
				reasons = append(reasons, sk.Patient+": "+sk.Reason)
			}
		}
	}
	for _, s := range split {
		if s == sp {
			total++
		}
	}
	if n == 0 {
		return fmt.Sprintf("its %d patients gave no healthy or pathological slice", total)
	}
	return fmt.Sprintf("%d of its %d patients were skipped (%s)", n, total, strings.Join(reasons, "; "))
}

// verifyCached checks that dir still holds the set sum describes: Open
// checks that slices.csv reads and that each .npy file is exactly as long as
// its header's shape says (a truncated or extended file fails), and the
// counts, shape, healthy.npy and split.csv must agree with the summary. It
// reads headers and metadata only, not the slices.
func verifyCached(dir string, sum *Summary) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.HasHealthy() != sum.Healthy {
		return fmt.Errorf("%s: %s says healthy counterparts %v, the folder %s %s", dir, SummaryFile, sum.Healthy,
			map[bool]string{true: "holds", false: "lacks"}[s.HasHealthy()], HealthyFile)
	}
	if s.Height != sum.Height || s.Width != sum.Width || s.Channels != sum.Channels {
		return fmt.Errorf("%s: slices are %dx%dx%d, %s says %dx%dx%d", dir, s.Height, s.Width, s.Channels, SummaryFile, sum.Height, sum.Width, sum.Channels)
	}
	c := Counts{Discarded: sum.Slices.Discarded}
	for _, in := range s.Info {
		c.add(in.Split, in.Class)
	}
	if c != sum.Slices {
		return fmt.Errorf("%s: %s counts %+v, %s says %+v", dir, SlicesFile, c, SummaryFile, sum.Slices)
	}
	if _, err := ReadSplitCSV(filepath.Join(dir, SplitFile)); err != nil {
		return err
	}
	return nil
}

// allHealthy reports whether there are patients and all have healthy
// counterparts.
func allHealthy(patients []PatientFiles) bool {
	for _, p := range patients {
		if !p.HasHealthy() {
			return false
		}
	}
	return len(patients) > 0
}

func withoutWorkers(o Options) Options { o.Workers = 0; return o }

func (c *Counts) add(split string, class Class) {
	switch {
	case split == Train && class == Healthy:
		c.TrainHealthy++
	case split == Train:
		c.TrainPathological++
	case split == Val && class == Healthy:
		c.ValHealthy++
	case split == Val:
		c.ValPathological++
	case class == Healthy:
		c.TestHealthy++
	default:
		c.TestPathological++
	}
}

// ReadSummary reads the prepare.json of a prepared set; one over 64 MiB is
// refused unread.
func ReadSummary(dir string) (*Summary, error) {
	path := filepath.Join(dir, SummaryFile)
	f, err := openBounded(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCSVBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// preparedSlice is one selected slice on its way to the cache. A slice with an
// empty class is discarded (counted only).
type preparedSlice struct {
	patient, grade, split string
	z, tumour             int
	class                 Class
	img                   []float32
	lab                   []uint8
	healthy               []float32 // nil without healthy counterparts
	h, w                  int
}

// preparePatient loads one patient (with its healthy counterparts when
// healthy is set) and classifies its slices; the images are cut later, one
// at a time, by cut.
func preparePatient(p PatientFiles, split string, opt Options, healthy bool) (*volume, []preparedSlice, error) {
	v, err := loadPatient(p, healthy)
	if err != nil {
		return nil, nil, err
	}
	if opt.SliceMax >= v.Shape[2] {
		return nil, nil, fmt.Errorf("%s: %d axial slices, the range %d..%d needs %d", p.Images[FLAIR], v.Shape[2], opt.SliceMin, opt.SliceMax, opt.SliceMax+1)
	}
	var out []preparedSlice
	for z := opt.SliceMin; z <= opt.SliceMax; z++ {
		s := preparedSlice{patient: p.ID, grade: p.Grade, split: split, z: z, tumour: v.tumourPixels(z)}
		switch {
		case s.tumour <= opt.HealthyMax:
			s.class = Healthy
		case s.tumour > opt.PathologicalAbove:
			s.class = Pathological
		}
		out = append(out, s)
	}
	return v, out, nil
}

// cut fills s's image, labels and healthy counterpart from the volume:
// slice s.z, cropped and resized as opt says (Geometry).
func (v *volume) cut(s *preparedSlice, opt Options) {
	g := Geometry{Height: v.Shape[1], Width: v.Shape[0], Crop: opt.Crop, Size: opt.Size}
	img, lab := v.sliceImage(s.z)
	s.img, s.lab = g.Cut(img, NumModalities), g.CutLabels(lab)
	if h := v.sliceHealthy(s.z); h != nil {
		s.healthy = g.Cut(h, NumModalities)
	}
	s.h, s.w = g.OutHeight(), g.OutWidth()
}

// setWriter appends slices to the cache files.
type setWriter struct {
	dir            string
	images, labels *npyWriter
	healthy        *npyWriter // with withHealthy, once the first slice is in
	withHealthy    bool
	meta           bytes.Buffer
	csv            *csv.Writer
	h, w, n        int
}

// newSetWriter returns a writer of a set in dir, with HealthyFile when
// healthy is set.
func newSetWriter(dir string, healthy bool) (*setWriter, error) {
	w := &setWriter{dir: dir, withHealthy: healthy}
	w.csv = csv.NewWriter(&w.meta)
	w.csv.Write([]string{"index", "patient", "grade", "split", "slice", "class", "tumour_pixels"})
	return w, nil
}

func (w *setWriter) add(s preparedSlice) error {
	if w.images == nil {
		var err error
		w.h, w.w = s.h, s.w
		if w.images, err = newNpyWriter(filepath.Join(w.dir, ImagesFile), "<f4", 4, []int{s.h, s.w, NumModalities}); err != nil {
			return err
		}
		if w.labels, err = newNpyWriter(filepath.Join(w.dir, LabelsFile), "|u1", 1, []int{s.h, s.w}); err != nil {
			return err
		}
		if w.withHealthy {
			if w.healthy, err = newNpyWriter(filepath.Join(w.dir, HealthyFile), "<f4", 4, []int{s.h, s.w, NumModalities}); err != nil {
				return err
			}
		}
	}
	if s.h != w.h || s.w != w.w {
		return fmt.Errorf("%s slice %d is %dx%d, earlier slices are %dx%d: give a --size to bring all scans to one size", s.patient, s.z, s.h, s.w, w.h, w.w)
	}
	if err := w.images.writeFloat32(s.img); err != nil {
		return err
	}
	if err := w.labels.writeRow(s.lab); err != nil {
		return err
	}
	if w.healthy != nil {
		if s.healthy == nil {
			return fmt.Errorf("%s slice %d: no healthy counterpart", s.patient, s.z)
		}
		if err := w.healthy.writeFloat32(s.healthy); err != nil {
			return err
		}
	}
	w.csv.Write([]string{strconv.Itoa(w.n), s.patient, s.grade, s.split, strconv.Itoa(s.z), string(s.class), strconv.Itoa(s.tumour)})
	w.n++
	return nil
}

// close finishes the arrays and writes slices.csv and split.csv.
func (w *setWriter) close(split map[string]string) error {
	if w.images == nil {
		return errors.New("no slice selected: check the slice range and thresholds, and the skipped patients")
	}
	if err := w.images.close(); err != nil {
		return err
	}
	w.images = nil
	if err := w.labels.close(); err != nil {
		return err
	}
	w.labels = nil
	if w.healthy != nil {
		if err := w.healthy.close(); err != nil {
			return err
		}
		w.healthy = nil
	}
	w.csv.Flush()
	if err := atomicfile.WriteFile(filepath.Join(w.dir, SlicesFile), w.meta.Bytes()); err != nil {
		return err
	}
	var sb bytes.Buffer
	if err := WriteSplitCSV(&sb, split); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(w.dir, SplitFile), sb.Bytes())
}

func (w *setWriter) abort() {
	if w.images != nil {
		w.images.abort()
	}
	if w.labels != nil {
		w.labels.abort()
	}
	if w.healthy != nil {
		w.healthy.abort()
	}
}
