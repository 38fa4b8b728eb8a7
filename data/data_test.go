package data

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/data/augment"
	"github.com/pathogan-go/pathogan/data/nifti"
)

// TestNormalizeNonZero checks values worked out by hand.
func TestNormalizeNonZero(t *testing.T) {
	// Case 0: non-zero voxels 1, 2, 3: mean 2, σ = sqrt(2/3); (x-2)/(3σ) = ∓0.408248.
	v := []float32{0, 1, 2, 3, 0}
	mean, std, err := NormalizeNonZero(v)
	if err != nil {
		t.Fatal(err)
	}
	a := 1 / (3 * math.Sqrt(2.0/3))
	want := []float64{0, -a, 0, a, 0}
	if mean != 2 || math.Abs(std-math.Sqrt(2.0/3)) > 1e-12 {
		t.Errorf("case 0: mean %v std %v", mean, std)
	}
	for i := range v {
		if math.Abs(float64(v[i])-want[i]) > 1e-6 {
			t.Errorf("case 0: v[%d] = %v, want %v", i, v[i], want[i])
		}
	}
	// Case 1: ten 1s and one outlier: the outlier's z-score is sqrt(10), so
	// z/3 = 1.054 clips to 1; the 1s are at -1/(3 sqrt(10)) = -0.105409.
	v = []float32{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 500}
	if _, _, err := NormalizeNonZero(v); err != nil {
		t.Fatal(err)
	}
	if v[0] != 0 || v[11] != 1 || math.Abs(float64(v[1])+1/(3*math.Sqrt(10))) > 1e-6 {
		t.Errorf("case 1: %v", v)
	}
	// Cases 2-4: errors.
	for i, bad := range [][]float32{{0, 0}, {0, 5, 5, 5}, {1, float32(math.NaN())}} {
		if _, _, err := NormalizeNonZero(bad); err == nil {
			t.Errorf("case %d: %v gave no error", i+2, bad)
		}
	}
}

// TestResize checks area averaging and nearest-neighbour labels by hand.
func TestResize(t *testing.T) {
	// 4x4, one channel, shrunk to 2x2: each output is the mean of a 2x2 block.
	img := []float32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
		13, 14, 15, 16,
	}
	got := ResizeArea(img, 4, 4, 1, 2, 2)
	want := []float32{3.5, 5.5, 11.5, 13.5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("area 4->2: %v, want %v", got, want)
	}
	// 3 -> 2 along one axis: cells [0,1.5) and [1.5,3): (1 + 0.5*2)/1.5 and (0.5*2 + 3)/1.5.
	got = ResizeArea([]float32{1, 2, 3}, 1, 3, 1, 1, 2)
	if math.Abs(float64(got[0])-4.0/3) > 1e-6 || math.Abs(float64(got[1])-8.0/3) > 1e-6 {
		t.Errorf("area 3->2: %v", got)
	}
	lab := []uint8{0, 0, 4, 4, 0, 0, 4, 4, 2, 2, 1, 1, 2, 2, 1, 1}
	if got := ResizeNearest(lab, 4, 4, 2, 2); !reflect.DeepEqual(got, []uint8{0, 4, 2, 1}) {
		t.Errorf("nearest: %v", got)
	}
}

// fixture writes a tiny BraTS folder: each patient is 12x10x20 voxels, the
// brain a box, the tumour a block over the slices tz0..tz1 whose in-plane size
// sets its pixel count per slice.
type fixturePatient struct {
	id, grade    string
	tz0, tz1     int // tumour slices, inclusive (tz0 > tz1: none)
	tw, th       int // tumour width and height in pixels
	skipModality string
	badShape     bool
}

const fx, fy, fz = 12, 10, 20

func writeFixture(t *testing.T, root string, layout2017 bool, ps []fixturePatient) {
	t.Helper()
	for pi, p := range ps {
		dir := filepath.Join(root, p.id)
		if layout2017 {
			dir = filepath.Join(root, p.grade, p.id)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		seg := make([]float32, fx*fy*fz)
		for z := p.tz0; z <= p.tz1; z++ {
			for y := 2; y < 2+p.th; y++ {
				for x := 3; x < 3+p.tw; x++ {
					seg[x+fx*(y+fy*z)] = []float32{1, 2, 4}[(x+y)%3]
				}
			}
		}
		for m := range NumModalities {
			name := Modality(m).String()
			if name == p.skipModality {
				continue
			}
			vals := make([]float32, fx*fy*fz)
			for z := range fz {
				for y := 1; y < fy-1; y++ {
					for x := 1; x < fx-1; x++ {
						i := x + fx*(y+fy*z)
						vals[i] = float32(100*(m+1) + 3*x + 5*y + z + pi + 10*int(seg[i]))
					}
				}
			}
			shape := []int{fx, fy, fz}
			if p.badShape && m == 2 {
				shape = []int{fx, fy, fz - 1}
				vals = vals[:fx*fy*(fz-1)]
			}
			im, err := nifti.FromFloat32(shape, nifti.Int16, vals)
			if err != nil {
				t.Fatal(err)
			}
			if err := nifti.WriteFile(filepath.Join(dir, p.id+"_"+name+".nii.gz"), im); err != nil {
				t.Fatal(err)
			}
		}
		im, _ := nifti.FromFloat32([]int{fx, fy, fz}, nifti.Uint8, seg)
		if err := nifti.WriteFile(filepath.Join(dir, p.id+"_seg.nii.gz"), im); err != nil {
			t.Fatal(err)
		}
	}
}

// fixtureOptions takes slices 4..15 of the 20.
func fixtureOptions() Options {
	o := DefaultOptions()
	o.SliceMin, o.SliceMax = 4, 15
	o.TestFraction = 0.25
	return o
}

var fixturePatients = []fixturePatient{
	{id: "P01", grade: "HGG", tz0: 6, tz1: 9, tw: 5, th: 5},   // 25 px on 6..9: pathological
	{id: "P02", grade: "HGG", tz0: 8, tz1: 12, tw: 4, th: 5},  // 20 px: discarded (not > 20)
	{id: "P03", grade: "LGG", tz0: 2, tz1: 17, tw: 7, th: 6},  // 42 px on all of 4..15
	{id: "P04", grade: "HGG", tz0: 10, tz1: 10, tw: 1, th: 1}, // 1 px: discarded
	{id: "P05", grade: "LGG", tz0: 1, tz1: 0},                 // no tumour: all healthy
	{id: "P06", grade: "HGG", tz0: 4, tz1: 5, tw: 6, th: 6},   // 36 px on 4..5
	{id: "P07", grade: "HGG", tz0: 3, tz1: 4, tw: 6, th: 6, skipModality: "t1ce"},
	{id: "P08", grade: "LGG", tz0: 3, tz1: 4, tw: 6, th: 6, badShape: true},
}

// TestDiscover checks both layouts and the reasons for skipping.
func TestDiscover(t *testing.T) {
	root := t.TempDir()
	writeFixture(t, root, true, fixturePatients)
	ps, skipped, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 7 || ps[0].ID != "P01" || ps[0].Grade != "HGG" || ps[2].Grade != "LGG" {
		t.Errorf("found %d patients: %+v", len(ps), ps)
	}
	if len(skipped) != 1 || skipped[0].Patient != "P07" || !strings.Contains(skipped[0].Reason, "missing t1ce") {
		t.Errorf("skipped %+v, want P07 missing t1ce", skipped)
	}
	// Flat layout with the 2023 suffixes.
	flat := t.TempDir()
	dir := filepath.Join(flat, "BraTS-GLI-00001-000")
	os.MkdirAll(dir, 0o755)
	for _, s := range []string{"t2f", "t1n", "t1c", "t2w", "seg"} {
		os.WriteFile(filepath.Join(dir, "BraTS-GLI-00001-000-"+s+".nii.gz"), nil, 0o644)
	}
	os.MkdirAll(filepath.Join(flat, "notes"), 0o755)
	ps, skipped, err = Discover(flat)
	if err != nil || len(ps) != 1 || len(skipped) != 0 || ps[0].Grade != "" ||
		filepath.Base(ps[0].Images[T1CE]) != "BraTS-GLI-00001-000-t1c.nii.gz" {
		t.Errorf("flat layout: %+v %+v %v", ps, skipped, err)
	}
	if _, _, err := Discover(t.TempDir()); err == nil {
		t.Error("empty folder: no error")
	}
}

// TestPrepare runs the pipeline on the fixture and checks classes, counts,
// skipped patients, split, cache reuse and determinism.
func TestPrepare(t *testing.T) {
	root := t.TempDir()
	writeFixture(t, root, true, fixturePatients)
	out := filepath.Join(t.TempDir(), "set")
	var calls int
	sum, err := Prepare(root, out, fixtureOptions(), func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if calls != 7 {
		t.Errorf("progress called %d times, want 7", calls)
	}
	// By hand, over slices 4..15 (12 slices per patient):
	// P01: 4 pathological, 8 healthy. P02: 5 discarded, 7 healthy. P03: 12
	// pathological. P04: 1 discarded, 11 healthy. P05: 12 healthy. P06: 2
	// pathological, 10 healthy. P07 skipped (missing), P08 skipped (shape).
	c := sum.Slices
	healthy := c.TrainHealthy + c.TestHealthy
	patho := c.TrainPathological + c.TestPathological
	if healthy != 8+7+11+12+10 || patho != 4+12+2 || c.Discarded != 6 {
		t.Errorf("counts %+v: healthy %d patho %d, want 48, 18, 6 discarded", c, healthy, patho)
	}
	if sum.Found != 8 || sum.Kept != 6 || len(sum.Skipped) != 2 {
		t.Fatalf("found %d kept %d skipped %+v", sum.Found, sum.Kept, sum.Skipped)
	}
	if !strings.Contains(sum.Skipped[1].Reason, "P08_t1ce.nii.gz: grid [12 10 19] does not match") {
		t.Errorf("P08 reason: %q", sum.Skipped[1].Reason)
	}
	// Every file of the set is readable by everyone (the temporary files
	// they are written through are 0600), and no temporary file is left.
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("%s in the set: mode %v (want a file of mode 0644)", e.Name(), fi.Mode())
		}
	}
	set, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if set.Len() != 66 || set.Height != fy || set.Width != fx || set.Channels != 4 {
		t.Fatalf("set of %d slices %dx%dx%d", set.Len(), set.Height, set.Width, set.Channels)
	}
	// Split: by patient, 25% of each grade.
	split, err := ReadSplitCSV(filepath.Join(out, SplitFile))
	if err != nil {
		t.Fatal(err)
	}
	nTest := 0
	for _, s := range split {
		if s == Test {
			nTest++
		}
	}
	if len(split) != 7 || nTest != 2 { // HGG: 4 patients -> 1; LGG: 3 -> round(0.75) = 1
		t.Errorf("split %v", split)
	}
	for _, in := range set.Info {
		if in.Split != split[in.Patient] {
			t.Errorf("slice %d of %s in %s, patient in %s", in.Index, in.Patient, in.Split, split[in.Patient])
		}
		lab, err := set.Label(in.Index, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range lab {
			if l > 0 {
				n++
			}
		}
		if n != in.TumourPixels || (in.Class == Healthy) != (n == 0) {
			t.Errorf("slice %d: %d tumour pixels, csv says %d, class %s", in.Index, n, in.TumourPixels, in.Class)
		}
	}
	// Image values: the normalised scan, rows = y, columns = x; background 0.
	img, err := set.Image(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	vol := make([]float32, fx*fy*fz)
	for z := range fz {
		for y := 1; y < fy-1; y++ {
			for x := 1; x < fx-1; x++ {
				i := x + fx*(y+fy*z)
				vol[i] = float32(100 + 3*x + 5*y + z + 10*0)
				if z >= 6 && z <= 9 && y >= 2 && y < 7 && x >= 3 && x < 8 {
					vol[i] += float32(10 * []int{1, 2, 4}[(x+y)%3])
				}
			}
		}
	}
	NormalizeNonZero(vol)
	z := set.Info[0].Slice
	for y := range fy {
		for x := range fx {
			if got, want := img[(y*fx+x)*4+0], vol[x+fx*(y+fy*z)]; math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("slice 0 pixel (%d,%d) FLAIR = %v, want %v", x, y, got, want)
			}
		}
	}
	// A second run into a new folder gives byte-identical files.
	out2 := filepath.Join(t.TempDir(), "set")
	opt := fixtureOptions()
	opt.Workers = 1
	if _, err := Prepare(root, out2, opt, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ImagesFile, LabelsFile, SlicesFile, SplitFile, SummaryFile} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(out2, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs (%d and %d bytes)", f, len(a), len(b))
		}
	}
	// Same options again: cached.
	again, err := Prepare(root, out, fixtureOptions(), nil)
	if err != nil || !again.Cached {
		t.Errorf("second prepare: cached %v, err %v", again != nil && again.Cached, err)
	}
	// Giving the split back reproduces it even with another seed.
	opt = fixtureOptions()
	opt.Seed, opt.SplitFile = 99, filepath.Join(out, SplitFile)
	out3 := filepath.Join(t.TempDir(), "set")
	if _, err := Prepare(root, out3, opt, nil); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(out, SlicesFile))
	b, _ := os.ReadFile(filepath.Join(out3, SlicesFile))
	if !bytes.Equal(a, b) {
		t.Error("split file given back: slices.csv differs")
	}
}

// TestPrepareResize checks the crop and size options.
func TestPrepareResize(t *testing.T) {
	root := t.TempDir()
	writeFixture(t, root, false, fixturePatients[:3])
	opt := fixtureOptions()
	opt.Crop, opt.Size = 8, 4
	out := t.TempDir()
	if _, err := Prepare(root, out, opt, nil); err != nil {
		t.Fatal(err)
	}
	set, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if set.Height != 4 || set.Width != 4 {
		t.Errorf("size %dx%d, want 4x4", set.Height, set.Width)
	}
	for i := range set.Len() {
		lab, _ := set.Label(i, nil)
		for _, l := range lab {
			if l != 0 && l != 1 && l != 2 && l != 4 {
				t.Fatalf("label %d after resizing", l)
			}
		}
	}
}

// TestNumpyReads loads the cache with numpy itself. It needs Debian's
// python3-numpy (CI installs it).
func TestNumpyReads(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("numpy missing in CI: .ci/run must install python3-numpy")
		}
		t.Skip("numpy not found: apt-get install python3-numpy to run this test")
	}
	root := t.TempDir()
	writeFixture(t, root, true, fixturePatients[:2])
	out := t.TempDir()
	if _, err := Prepare(root, out, fixtureOptions(), nil); err != nil {
		t.Fatal(err)
	}
	set, _ := Open(out)
	defer set.Close()
	img, _ := set.Image(3, nil)
	script := fmt.Sprintf(`import numpy as np
a = np.load(%q); l = np.load(%q)
print(a.dtype, a.shape, l.dtype, l.shape, repr(float(a[3, 4, 5, 2])))`,
		filepath.Join(out, ImagesFile), filepath.Join(out, LabelsFile))
	got, err := exec.Command(py, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v: %s", err, got)
	}
	want := fmt.Sprintf("float32 (%d, 10, 12, 4) uint8 (%d, 10, 12) %s\n", set.Len(), set.Len(), fmt.Sprint(float64(img[(4*12+5)*4+2])))
	if string(got) != want {
		t.Errorf("numpy printed %q, want %q", got, want)
	}
}

// TestOpenBoundedMemory opens a set the size of BraTS 2017 (11,000 slices of
// 240x240x4, 10 GB of images, a sparse file here) and reads slices: the heap
// must stay small, because slices are read on demand.
func TestOpenBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	const n, h, w = 11000, 240, 240
	img, err := os.Create(filepath.Join(dir, ImagesFile))
	if err != nil {
		t.Fatal(err)
	}
	img.Write(npyHeader("<f4", []int{n, h, w, 4}))
	if err := img.Truncate(npyHeaderLen + int64(n)*h*w*4*4); err != nil {
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	img.Close()
	lab, _ := os.Create(filepath.Join(dir, LabelsFile))
	lab.Write(npyHeader("|u1", []int{n, h, w}))
	lab.Truncate(npyHeaderLen + int64(n)*h*w)
	lab.Close()
	var csvb strings.Builder
	csvb.WriteString("index,patient,grade,split,slice,class,tumour_pixels\n")
	for i := range n {
		fmt.Fprintf(&csvb, "%d,P%04d,HGG,train,%d,healthy,0\n", i, i/41, 60+i%41)
	}
	os.WriteFile(filepath.Join(dir, SlicesFile), []byte(csvb.String()), 0o644)
	os.WriteFile(filepath.Join(dir, SummaryFile), []byte(`{"source":"x"}`), 0o644)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	set, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	cfg := augment.DefaultConfig()
	sm, err := set.NewSampler(set.Select(Train, Healthy), 1, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]float32, 4*h*w*4)
	for range 20 {
		if _, err := sm.Next(4, batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 200<<20 {
		t.Errorf("heap grew by %d MB opening and sampling a 10 GB set", grown>>20)
	}
}

// TestSampler checks determinism and that augmentation keeps labels in the
// label set.
func TestSampler(t *testing.T) {
	root := t.TempDir()
	writeFixture(t, root, true, fixturePatients[:3])
	out := t.TempDir()
	if _, err := Prepare(root, out, fixtureOptions(), nil); err != nil {
		t.Fatal(err)
	}
	set, _ := Open(out)
	defer set.Close()
	idx := set.Select("", Pathological)
	cfg := augment.DefaultConfig()
	draw := func(seed uint64) ([]float32, []uint8, []int) {
		sm, err := set.NewSampler(idx, seed, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		img := make([]float32, 3*fx*fy*4)
		lab := make([]uint8, 3*fx*fy)
		got, err := sm.Next(3, img, lab)
		if err != nil {
			t.Fatal(err)
		}
		return img, lab, got
	}
	i1, l1, d1 := draw(7)
	i2, l2, d2 := draw(7)
	i3, _, _ := draw(8)
	if !reflect.DeepEqual(i1, i2) || !reflect.DeepEqual(l1, l2) || !reflect.DeepEqual(d1, d2) {
		t.Error("same seed, different batch")
	}
	if reflect.DeepEqual(i1, i3) {
		t.Error("different seed, same batch")
	}
	for _, d := range d1 {
		if set.Info[d].Class != Pathological {
			t.Errorf("drew slice %d of class %s", d, set.Info[d].Class)
		}
	}
	for _, l := range l1 {
		if l != 0 && l != 1 && l != 2 && l != 4 {
			t.Fatalf("label %d", l)
		}
	}
	sm, _ := set.NewSampler(idx, 1, nil)
	if _, err := sm.Next(2, make([]float32, 5), nil); err == nil {
		t.Error("wrong batch buffer: no error")
	}
}

// TestSplitPatients checks fraction, stratification and determinism.
func TestSplitPatients(t *testing.T) {
	var ps []PatientFiles
	for i := range 30 {
		g := "HGG"
		if i%3 == 0 {
			g = "LGG"
		}
		ps = append(ps, PatientFiles{ID: fmt.Sprintf("P%02d", i), Grade: g})
	}
	a, err := SplitPatients(ps, 0.2, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SplitPatients(ps, 0.2, 0, 5)
	c, _ := SplitPatients(ps, 0.2, 0, 6)
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Error("split not a function of the seed")
	}
	tests := map[string]int{}
	for _, p := range ps {
		if a[p.ID] == Test {
			tests[p.Grade]++
		}
	}
	if tests["HGG"] != 4 || tests["LGG"] != 2 { // round(0.2*20), round(0.2*10)
		t.Errorf("test patients per grade %v, want HGG 4, LGG 2", tests)
	}
	if _, err := SplitPatients(ps, 1.5, 0, 1); err == nil {
		t.Error("fraction 1.5: no error")
	}
	// A validation split takes its patients from training only: the test
	// patients stay those of the two-way split with the same seed.
	v, err := SplitPatients(ps, 0.2, 0.1, 5)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]int{}
	for _, p := range ps {
		if (v[p.ID] == Test) != (a[p.ID] == Test) {
			t.Errorf("%s: %s with a validation split, %s without", p.ID, v[p.ID], a[p.ID])
		}
		if v[p.ID] == Val {
			vals[p.Grade]++
		}
	}
	if vals["HGG"] != 2 || vals["LGG"] != 1 { // round(0.1*20), round(0.1*10)
		t.Errorf("validation patients per grade %v, want HGG 2, LGG 1", vals)
	}
	if _, err := SplitPatients(ps, 0.8, 0.3, 1); err == nil {
		t.Error("fractions 0.8 + 0.3: no error")
	}
	path := filepath.Join(t.TempDir(), "split.csv")
	var sb strings.Builder
	if err := WriteSplitCSV(&sb, v); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte(sb.String()), 0o644)
	if back, err := ReadSplitCSV(path); err != nil || !reflect.DeepEqual(back, v) {
		t.Errorf("split.csv with val does not read back: %v", err)
	}
}

// TestNpyVersion2Header reads a version 2.0 .npy file (4-byte header length).
func TestNpyVersion2Header(t *testing.T) {
	dict := "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }"
	pad := 64 - (12+len(dict)+1)%64
	hdr := []byte("\x93NUMPY\x02\x00")
	n := len(dict) + pad + 1
	hdr = append(hdr, byte(n), byte(n>>8), 0, 0)
	hdr = append(hdr, dict...)
	hdr = append(hdr, []byte(strings.Repeat(" ", pad)+"\n")...)
	path := filepath.Join(t.TempDir(), "v2.npy")
	os.WriteFile(path, append(hdr, 1, 2, 3, 4, 5, 6), 0o644)
	a, err := openNpy(path, "|u1", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	row := make([]byte, 3)
	if err := a.readRow(1, row); err != nil || !reflect.DeepEqual(row, []byte{4, 5, 6}) || !reflect.DeepEqual(a.shape, []int{2, 3}) {
		t.Errorf("row %v shape %v err %v", row, a.shape, err)
	}
}

// TestGeometryRoundTrip: Uncut maps a cut slice back onto the native grid:
// a constant image stays constant inside the crop window and is 0 outside,
// a linear ramp comes back within a pixel's step, and an image without a
// crop or resize is passed through.
func TestGeometryRoundTrip(t *testing.T) {
	g := Geometry{Height: 40, Width: 36, Crop: 30, Size: 12}
	if g.OutHeight() != 12 || g.OutWidth() != 12 {
		t.Fatalf("out %dx%d", g.OutHeight(), g.OutWidth())
	}
	img := make([]float32, 40*36*2)
	for i := range img {
		img[i] = 0.5
	}
	back := g.Uncut(g.Cut(img, 2), 2)
	for y := range 40 {
		for x := range 36 {
			in := y >= 5 && y < 35 && x >= 3 && x < 33
			for c := range 2 {
				v := back[(y*36+x)*2+c]
				if in && math.Abs(float64(v)-0.5) > 1e-6 || !in && v != 0 {
					t.Fatalf("(%d, %d, %d) = %v (inside the crop: %v)", y, x, c, v, in)
				}
			}
		}
	}
	ramp := make([]float32, 40*36)
	for y := range 40 {
		for x := range 36 {
			ramp[y*36+x] = float32(x) / 36
		}
	}
	g = Geometry{Height: 40, Width: 36, Size: 18}
	back = g.Uncut(g.Cut(ramp, 1), 1)
	for y := range 40 {
		for x := 2; x < 34; x++ { // away from the clamped edges
			if d := math.Abs(float64(back[y*36+x] - ramp[y*36+x])); d > 1.0/36 {
				t.Fatalf("ramp (%d, %d): %v, want %v", y, x, back[y*36+x], ramp[y*36+x])
			}
		}
	}
	g = Geometry{Height: 40, Width: 36}
	if got := g.Uncut(g.Cut(ramp, 1), 1); !reflect.DeepEqual(got, ramp) {
		t.Error("no crop, no size: the slice changed")
	}
}

// TestResizeBilinear checks values against interpolation by hand.
func TestResizeBilinear(t *testing.T) {
	// 1x2 -> 1x4: centres at 0.25, 0.75, 1.25, 1.75 of the input's 2 pixels
	// map to source -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
	got := ResizeBilinear([]float32{0, 4}, 1, 2, 1, 1, 4)
	if want := []float32{0, 1, 3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
