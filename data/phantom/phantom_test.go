package phantom

import (
	"bytes"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pathogan-go/pathogan/data/nifti"
)

// testShape samples the BraTS field of view at 2 mm in-plane and 1 mm
// axially, so slice indices are BraTS slice indices.
var testShape = [3]int{120, 120, 155}

func testConfig() Config {
	c := DefaultConfig()
	c.Shape = testShape
	c.Patients = 4
	c.Seed = 7
	return c
}

// generated caches test patients with their tissue maps.
var (
	genMu    sync.Mutex
	genCache = map[string]genResult{}
)

type genResult struct {
	p      *Patient
	tissue []uint8
	err    error
}

func gen(t *testing.T, cfg Config, index int) (*Patient, []uint8) {
	t.Helper()
	key := fmt.Sprintf("%+v/%d", cfg, index)
	genMu.Lock()
	r, ok := genCache[key]
	genMu.Unlock()
	if !ok {
		tm := make([]uint8, cfg.Shape[0]*cfg.Shape[1]*cfg.Shape[2])
		p, err := generate(cfg, index, tm)
		r = genResult{p, tm, err}
		genMu.Lock()
		genCache[key] = r
		genMu.Unlock()
	}
	if r.err != nil {
		t.Fatalf("patient %d: %v", index, r.err)
	}
	return r.p, r.tissue
}

func images(p *Patient) [nMod][]float32 { return [nMod][]float32{p.FLAIR, p.T1, p.T1CE, p.T2} }

var modName = [nMod]string{"FLAIR", "T1", "T1CE", "T2"}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeterministic(t *testing.T) {
	cfg := testConfig()
	cfg.Patients = 2
	if testing.Short() {
		// Three writes of two full-size patients take about 3 s; -short
		// checks the same at a quarter of the resolution.
		cfg.Shape = [3]int{60, 60, 78}
	}
	d1, d2, d3 := t.TempDir(), t.TempDir(), t.TempDir()
	if err := Write(d1, cfg, 2, nil); err != nil {
		t.Fatal(err)
	}
	var calls []int
	if err := Write(d2, cfg, 1, func(done, total int) {
		if total != 2 {
			t.Errorf("progress total %d, want 2", total)
		}
		calls = append(calls, done)
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []int{1, 2}) {
		t.Errorf("progress calls %v, want [1 2]", calls)
	}
	f1, f2 := readDir(t, d1), readDir(t, d2)
	if len(f1) != 10 {
		t.Fatalf("wrote %d files, want 10: %v", len(f1), slices.Collect(mapKeys(f1)))
	}
	for name, b := range f1 {
		if !bytes.Equal(b, f2[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	cfg.Seed++
	if err := Write(d3, cfg, 2, nil); err != nil {
		t.Fatal(err)
	}
	f3 := readDir(t, d3)
	for name, b := range f1 {
		if bytes.Equal(b, f3[name]) {
			t.Errorf("%s is the same with another seed", name)
		}
	}
}

func mapKeys(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestPatientIndependentOfCount(t *testing.T) {
	a := testConfig()
	b := a
	b.Patients = 100
	pa, _ := gen(t, a, 1)
	pb, err := Generate(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pa.T2, pb.T2) || !slices.Equal(pa.Seg, pb.Seg) || pa.ID != pb.ID {
		t.Error("patient 1 changes with Config.Patients")
	}
}

func TestGrades(t *testing.T) {
	c := DefaultConfig()
	n := 0
	for i := range 40 {
		if c.IsLGG(i) {
			n++
		}
	}
	if n != 10 {
		t.Errorf("%d LGG among 40 with LGGFraction 0.25, want 10", n)
	}
	if got := c.PatientID(3); got != "Phantom_LGG_0004" {
		t.Errorf("PatientID(3) = %q", got)
	}
	if got := c.PatientID(0); got != "Phantom_HGG_0001" {
		t.Errorf("PatientID(0) = %q", got)
	}
}

// checkLabels checks labels, background and the slice requirements.
func checkLabels(t *testing.T, p *Patient, coverLo, coverHi int) {
	t.Helper()
	nx, ny, nz := p.Shape[0], p.Shape[1], p.Shape[2]
	ims := images(p)
	counts := map[uint8]int{}
	for i, l := range p.Seg {
		counts[l]++
		if l != 0 && l != 1 && l != 2 && l != 4 {
			t.Fatalf("%s: label %d at voxel %d", p.ID, l, i)
		}
		in := ims[0][i] > 0
		for m := range nMod {
			if v := ims[m][i]; (v > 0) != in || v < 0 || v != float32(int16(v)) {
				t.Fatalf("%s: voxel %d: %s = %g but FLAIR = %g (brain masks differ or value not int16)", p.ID, i, modName[m], v, ims[0][i])
			}
		}
		if l != 0 && !in {
			t.Fatalf("%s: label %d outside the brain at voxel %d", p.ID, l, i)
		}
	}
	if counts[2] == 0 {
		t.Errorf("%s: no oedema", p.ID)
	}
	switch p.Grade {
	case "LGG":
		if counts[4] != 0 {
			t.Errorf("%s: LGG with %d enhancing voxels", p.ID, counts[4])
		}
	case "HGG":
		if counts[4] == 0 {
			t.Errorf("%s: HGG without enhancing tumour", p.ID)
		}
	default:
		t.Errorf("%s: grade %q", p.ID, p.Grade)
	}
	if !strings.Contains(p.ID, p.Grade) {
		t.Errorf("ID %s does not name grade %s", p.ID, p.Grade)
	}
	free, big := 0, 0
	for z := range nz {
		brain, tum := 0, 0
		for i := z * nx * ny; i < (z+1)*nx*ny; i++ {
			if ims[0][i] > 0 {
				brain++
			}
			if p.Seg[i] > 0 {
				tum++
			}
		}
		if (z < coverLo || z > coverHi) && brain > 0 {
			t.Errorf("%s: slice %d outside the anatomy's cover %d..%d has %d brain voxels", p.ID, z, coverLo, coverHi, brain)
		}
		if z >= 60 && z <= 100 {
			if brain < nx*ny/10 {
				t.Errorf("%s: slice %d has only %d brain voxels", p.ID, z, brain)
			}
			if tum == 0 {
				free++
			}
			if tum > 20 {
				big++
			}
		}
	}
	if free == 0 || big == 0 {
		t.Errorf("%s: slices 60..100: %d tumour-free, %d with > 20 tumour voxels; want both > 0", p.ID, free, big)
	}
}

func TestLabelsBackgroundSlices(t *testing.T) {
	cfg := testConfig()
	for i := range cfg.Patients {
		p, _ := gen(t, cfg, i)
		checkLabels(t, p, 45, 115)
	}
}

// classMeans returns the mean of each modality over the healthy tissue
// classes (index tisCSF..tisWM) and the labels (index 10+label).
func classMeans(p *Patient, tissue []uint8) map[int][nMod]float64 {
	sums := map[int][nMod]float64{}
	counts := map[int]int{}
	ims := images(p)
	for i := range p.Seg {
		k := -1
		if l := p.Seg[i]; l != 0 {
			k = 10 + int(l)
		} else if tissue[i] != tisNone {
			k = int(tissue[i])
		}
		if k < 0 {
			continue
		}
		s := sums[k]
		for m := range nMod {
			s[m] += float64(ims[m][i])
		}
		sums[k] = s
		counts[k]++
	}
	for k, s := range sums {
		for m := range nMod {
			s[m] /= float64(counts[k])
		}
		sums[k] = s
	}
	return sums
}

// checkContrasts checks the relative intensities of tissues and tumour.
func checkContrasts(t *testing.T, p *Patient, tissue []uint8) {
	t.Helper()
	mu := classMeans(p, tissue)
	csf, gm, wm := mu[int(tisCSF)], mu[int(tisGM)], mu[int(tisWM)]
	if csf[0] == 0 || gm[0] == 0 || wm[0] == 0 {
		t.Fatalf("%s: missing a tissue class: means %v", p.ID, mu)
	}
	order := func(what string, m int, hi, mid, lo [nMod]float64) {
		if !(hi[m] > mid[m] && mid[m] > lo[m]) {
			t.Errorf("%s: %s: want %.0f > %.0f > %.0f", p.ID, what, hi[m], mid[m], lo[m])
		}
	}
	order("T1 WM > GM > CSF", mT1, wm, gm, csf)
	order("T1CE WM > GM > CSF", mT1CE, wm, gm, csf)
	order("T2 CSF > GM > WM", mT2, csf, gm, wm)
	order("FLAIR GM > WM > CSF", mFLAIR, gm, wm, csf)
	if gm[mFLAIR] > 1.5*wm[mFLAIR] {
		t.Errorf("%s: FLAIR GM %.0f should be only slightly above WM %.0f", p.ID, gm[mFLAIR], wm[mFLAIR])
	}
	ed := mu[12]
	if !(ed[mFLAIR] > 1.5*wm[mFLAIR] && ed[mFLAIR] > gm[mFLAIR] && ed[mFLAIR] > csf[mFLAIR]) {
		t.Errorf("%s: FLAIR oedema %.0f not the brightest (WM %.0f GM %.0f)", p.ID, ed[mFLAIR], wm[mFLAIR], gm[mFLAIR])
	}
	if !(ed[mT2] > 1.5*wm[mT2] && ed[mT1] < wm[mT1]) {
		t.Errorf("%s: oedema should be bright on T2 (%.0f vs WM %.0f) and darker than WM on T1 (%.0f vs %.0f)", p.ID, ed[mT2], wm[mT2], ed[mT1], wm[mT1])
	}
	rel := func(c [nMod]float64, m int) float64 { return c[m] / wm[m] }
	if d := rel(ed, mT1CE) - rel(ed, mT1); d > 0.1 || d < -0.1 {
		t.Errorf("%s: oedema enhances: T1CE/WM %.2f vs T1/WM %.2f", p.ID, rel(ed, mT1CE), rel(ed, mT1))
	}
	if p.Grade == "HGG" {
		rim := mu[14]
		if !(rel(rim, mT1CE) > rel(rim, mT1)+0.5 && rim[mT1CE] > wm[mT1CE]) {
			t.Errorf("%s: enhancing rim not bright on T1CE: T1CE/WM %.2f, T1/WM %.2f", p.ID, rel(rim, mT1CE), rel(rim, mT1))
		}
		if rim[mT1CE] < rim[mT1] {
			t.Errorf("%s: T1CE rim %.0f darker than T1 rim %.0f", p.ID, rim[mT1CE], rim[mT1])
		}
	}
	if nec, ok := mu[11]; ok {
		if !(nec[mT1] < gm[mT1] && nec[mT1CE] < gm[mT1CE] && nec[mT2] > 1.5*wm[mT2]) {
			t.Errorf("%s: core (label 1) should be dark on T1/T1CE and bright on T2: %v (GM %v, WM %v)", p.ID, nec, gm, wm)
		}
	}
}

func TestContrasts(t *testing.T) {
	cfg := testConfig()
	for i := range cfg.Patients {
		p, tm := gen(t, cfg, i)
		checkContrasts(t, p, tm)
	}
}

// TestProceduralAnatomy runs under -short too, though it takes about 2 s: it
// is the only test of AnatomyProcedural, and three quarters of its time go
// to building the procedural brain at its fixed resolution, which a smaller
// output shape does not shorten.
func TestProceduralAnatomy(t *testing.T) {
	cfg := testConfig()
	cfg.Anatomy = AnatomyProcedural
	p, tm := gen(t, cfg, 0)
	lo, hi := 0, cfg.Shape[2]-1
	checkLabels(t, p, lo, hi)
	checkContrasts(t, p, tm)
}

func TestTemplateAnatomy(t *testing.T) {
	if _, err := os.Stat(colinTemplate); err != nil {
		t.Skipf("template not installed: %v", err)
	}
	cfg := testConfig()
	cfg.Anatomy = colinTemplate
	p, tm := gen(t, cfg, 0)
	checkLabels(t, p, 0, cfg.Shape[2]-1)
	checkContrasts(t, p, tm)
	// the full template and the embedded slab are placed alike: same brain
	// in the slab's cover, and brain beyond it only from the full template
	cfg.Anatomy = ""
	q, _ := gen(t, cfg, 0)
	both, either := 0, 0
	outside := 0
	for i := range p.T1 {
		z := i / (cfg.Shape[0] * cfg.Shape[1])
		a, b := p.T1[i] > 0, q.T1[i] > 0
		if z < 45 || z > 115 {
			if a {
				outside++
			}
			continue
		}
		if a && b {
			both++
		}
		if a || b {
			either++
		}
	}
	if j := float64(both) / float64(either); j < 0.97 {
		t.Errorf("brain masks from the full template and the slab overlap by %.3f (Jaccard), want >= 0.97", j)
	}
	if outside == 0 {
		t.Error("the full template shows no brain outside slices 45..115")
	}
}

func TestWriteBraTSReadBack(t *testing.T) {
	cfg := testConfig()
	dir := t.TempDir()
	for _, i := range []int{0, 3} {
		p, _ := gen(t, cfg, i)
		if err := WriteBraTS(dir, p); err != nil {
			t.Fatal(err)
		}
		for m, suffix := range append(slices.Clone(Modalities), "seg") {
			path := filepath.Join(dir, p.Grade, p.ID, p.ID+"_"+suffix+".nii.gz")
			im, err := nifti.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(im.Shape(), p.Shape[:]) {
				t.Errorf("%s: shape %v, want %v", path, im.Shape(), p.Shape)
			}
			got := im.Float32s()
			if suffix == "seg" {
				if im.Header.Datatype != nifti.Uint8 {
					t.Errorf("%s: datatype %v, want uint8", path, im.Header.Datatype)
				}
				for i, l := range p.Seg {
					if got[i] != float32(l) {
						t.Fatalf("%s: voxel %d = %g, want %d", path, i, got[i], l)
					}
				}
				continue
			}
			if im.Header.Datatype != nifti.Int16 {
				t.Errorf("%s: datatype %v, want int16", path, im.Header.Datatype)
			}
			if !slices.Equal(got, images(p)[m]) {
				t.Errorf("%s: voxels differ from the patient's %s", path, modName[m])
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "LGG", "Phantom_LGG_0004", "Phantom_LGG_0004_flair.nii.gz")); err != nil {
		t.Error(err)
	}
}

func TestRenderPNG(t *testing.T) {
	cfg := testConfig()
	p, _ := gen(t, cfg, 0)
	z, best := 0, -1
	for k := 60; k <= 100; k++ {
		n := 0
		for _, l := range p.Seg[k*120*120 : (k+1)*120*120] {
			if l > 0 {
				n++
			}
		}
		if n > best {
			z, best = k, n
		}
	}
	var buf bytes.Buffer
	if err := RenderPNG(p, z, &buf); err != nil {
		t.Fatal(err)
	}
	im, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := im.Bounds(); b.Dx() != 5*120 || b.Dy() != 120 {
		t.Fatalf("PNG is %v, want 600x120", b)
	}
	coloured := 0
	for y := 0; y < 120; y++ {
		for x := 0; x < 600; x++ {
			r, g, b, _ := im.At(x, y).RGBA()
			if r != g || g != b {
				if x < 480 {
					t.Fatalf("grey panel pixel (%d,%d) is coloured", x, y)
				}
				coloured++
			}
		}
	}
	if coloured < best/2 {
		t.Errorf("label panel has %d coloured pixels, slice has %d tumour voxels", coloured, best)
	}
	if err := RenderPNG(p, 155, &buf); err == nil {
		t.Error("RenderPNG accepted slice 155")
	}
	if out := os.Getenv("PHANTOM_PNG"); out != "" {
		// full-size picture of docs/data.md: PHANTOM_PNG=/tmp/phantom.png go test -run TestRenderPNG
		q, err := Generate(DefaultConfig(), 1)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		z, best := 80, -1
		for k := 60; k <= 100; k++ {
			n := 0
			for _, l := range q.Seg[k*240*240 : (k+1)*240*240] {
				if l > 0 {
					n++
				}
			}
			if n > best {
				z, best = k, n
			}
		}
		t.Logf("%s: slice %d, %d tumour voxels", q.ID, z, best)
		if err := RenderPNG(q, z, f); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "not-nifti.nii.gz")
	if err := os.WriteFile(bad, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.LGGFraction = 1.5 }, "LGGFraction"},
		{func(c *Config) { c.NoiseStd = -1 }, "NoiseStd"},
		{func(c *Config) { c.Shape = [3]int{240, 0, 155} }, "Shape"},
		{func(c *Config) { c.Patients = -2 }, "Patients"},
		{func(c *Config) { c.Anatomy = "/nonexistent/t1.nii.gz" }, "/nonexistent/t1.nii.gz"},
		{func(c *Config) { c.Anatomy = bad }, bad},
	} {
		c := testConfig()
		tc.edit(&c)
		_, err := Generate(c, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Generate with bad %s: error %v, want one naming %q", tc.want, err, tc.want)
		}
	}
	if _, err := Generate(testConfig(), -1); err == nil {
		t.Error("Generate accepted index -1")
	}
	c := testConfig()
	c.Patients = 0
	if err := Write(t.TempDir(), c, 1, nil); err == nil || !strings.Contains(err.Error(), "Patients") {
		t.Errorf("Write with 0 patients: %v", err)
	}
}

// BenchmarkGenerateWrite generates and writes one 240x240x155 patient.
func BenchmarkGenerateWrite(b *testing.B) {
	cfg := DefaultConfig()
	dir := b.TempDir()
	if _, err := loadAnatomy(cfg.Anatomy); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		p, err := Generate(cfg, i%4)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteBraTS(dir, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerate generates one 240x240x155 patient.
func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	if _, err := loadAnatomy(cfg.Anatomy); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := Generate(cfg, i%4); err != nil {
			b.Fatal(err)
		}
	}
}
