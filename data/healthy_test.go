package data

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/data/nifti"
	"github.com/pathogan-go/pathogan/data/phantom"
)

// writeFixtureHealthy writes the healthy counterparts of fixture patients
// (written by writeFixture with layout2017): the same scans without the
// tumour's +10*label contrast.
func writeFixtureHealthy(t *testing.T, root string, ps []fixturePatient) {
	t.Helper()
	for pi, p := range ps {
		dir := filepath.Join(root, p.grade, p.id)
		for m := range NumModalities {
			vals := make([]float32, fx*fy*fz)
			for z := range fz {
				for y := 1; y < fy-1; y++ {
					for x := 1; x < fx-1; x++ {
						vals[x+fx*(y+fy*z)] = float32(100*(m+1) + 3*x + 5*y + z + pi)
					}
				}
			}
			im, err := nifti.FromFloat32([]int{fx, fy, fz}, nifti.Int16, vals)
			if err != nil {
				t.Fatal(err)
			}
			if err := nifti.WriteFile(filepath.Join(dir, p.id+"_healthy_"+Modality(m).String()+".nii.gz"), im); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNormalizeWith checks that NonZeroStats and NormalizeWith split
// NormalizeNonZero, and map another scan with the given parameters.
func TestNormalizeWith(t *testing.T) {
	v := []float32{0, 1, 2, 3, 0}
	mean, std, err := NonZeroStats(v)
	if err != nil || mean != 2 || math.Abs(std-math.Sqrt(2.0/3)) > 1e-12 {
		t.Fatalf("NonZeroStats: %v %v %v", mean, std, err)
	}
	if v[1] != 1 {
		t.Error("NonZeroStats changed its input")
	}
	// (x - 2) / (3 sqrt(2/3)) = (x - 2) * 0.408248: 5 -> 1.22 clips to 1,
	// 2 -> 0, 1.5 -> -0.204124, 0 stays 0.
	h := []float32{0, 5, 2, 1.5}
	NormalizeWith(h, mean, std)
	a := 1 / (3 * math.Sqrt(2.0/3))
	want := []float64{0, 1, 0, -0.5 * a}
	for i := range h {
		if math.Abs(float64(h[i])-want[i]) > 1e-6 {
			t.Errorf("NormalizeWith: h[%d] = %v, want %v", i, h[i], want[i])
		}
	}
	if _, _, err := NonZeroStats([]float32{0, 4, 4}); err == nil {
		t.Error("constant scan: no error")
	}
}

// TestPrepareHealthy checks Discover's healthy files and healthy.npy: its
// shape, its normalisation with the pathological scan's parameters, its
// equality with images.npy outside the tumour, cache reuse and removal.
func TestPrepareHealthy(t *testing.T) {
	ps := []fixturePatient{fixturePatients[0], fixturePatients[2], fixturePatients[4], fixturePatients[5]}
	root := t.TempDir()
	writeFixture(t, root, true, ps)
	out := filepath.Join(t.TempDir(), "set")
	opt := fixtureOptions()
	sum, err := Prepare(root, out, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Healthy || set.HasHealthy() {
		t.Error("healthy counterparts without healthy files")
	}
	if _, err := set.Healthy(0, nil); err == nil || !strings.Contains(err.Error(), HealthyFile) || !strings.Contains(err.Error(), "pathogan phantom") {
		t.Errorf("Healthy without %s: %v", HealthyFile, err)
	}
	set.Close()

	writeFixtureHealthy(t, root, ps)
	found, _, err := Discover(root)
	if err != nil || len(found) != len(ps) {
		t.Fatalf("Discover: %d patients, %v", len(found), err)
	}
	for _, p := range found {
		for m, f := range p.Healthy {
			if want := p.ID + "_healthy_" + Modality(m).String() + ".nii.gz"; filepath.Base(f) != want {
				t.Errorf("%s: healthy %s = %q, want %s", p.ID, Modality(m), f, want)
			}
		}
		if filepath.Base(p.Images[FLAIR]) != p.ID+"_flair.nii.gz" {
			t.Errorf("%s: FLAIR %q", p.ID, p.Images[FLAIR])
		}
	}
	// The same options again: prepared again, now with healthy.npy.
	sum, err = Prepare(root, out, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Cached || !sum.Healthy {
		t.Fatalf("prepare after adding healthy files: cached %v, healthy %v", sum.Cached, sum.Healthy)
	}
	set, err = Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if !set.HasHealthy() {
		t.Fatal("no healthy counterparts")
	}
	arr, err := openNpy(filepath.Join(out, HealthyFile), "<f4", 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{set.Len(), fy, fx, NumModalities}; !equalInts(arr.shape, want) {
		t.Errorf("%s shape %v, want %v", HealthyFile, arr.shape, want)
	}
	arr.close()
	// The pathological scans' normalisation parameters, by patient.
	type params struct{ mean, std [NumModalities]float64 }
	par := map[string]params{}
	for pi, p := range ps {
		var pr params
		for m := range NumModalities {
			im, err := nifti.ReadFile(found[pi].Images[m])
			if err != nil {
				t.Fatal(err)
			}
			if pr.mean[m], pr.std[m], err = NonZeroStats(im.Float32s()); err != nil {
				t.Fatal(err)
			}
		}
		par[p.id] = pr
	}
	var tumourDiff int
	for _, in := range set.Info {
		img, _ := set.Image(in.Index, nil)
		lab, _ := set.Label(in.Index, nil)
		hl, err := set.Healthy(in.Index, nil)
		if err != nil {
			t.Fatal(err)
		}
		pi := map[string]int{"P01": 0, "P03": 1, "P05": 2, "P06": 3}[in.Patient]
		pr := par[in.Patient]
		for y := range fy {
			for x := range fx {
				for m := range NumModalities {
					k := (y*fx+x)*NumModalities + m
					var want float64
					if x >= 1 && x < fx-1 && y >= 1 && y < fy-1 {
						raw := float64(100*(m+1) + 3*x + 5*y + in.Slice + pi)
						want = max(-1, min(1, (raw-pr.mean[m])/(3*pr.std[m])))
					}
					if math.Abs(float64(hl[k])-want) > 1e-6 {
						t.Fatalf("%s slice %d pixel (%d,%d) %s: healthy %v, want %v", in.Patient, in.Slice, x, y, Modality(m), hl[k], want)
					}
					if lab[y*fx+x] == 0 && hl[k] != img[k] {
						t.Fatalf("%s slice %d pixel (%d,%d) %s outside the tumour: healthy %v, image %v", in.Patient, in.Slice, x, y, Modality(m), hl[k], img[k])
					}
					if lab[y*fx+x] != 0 && hl[k] < img[k] {
						tumourDiff++
					}
				}
			}
		}
	}
	if tumourDiff == 0 {
		t.Error("healthy counterparts equal the images inside the tumour")
	}
	set.Close()
	if again, err := Prepare(root, out, opt, nil); err != nil || !again.Cached {
		t.Errorf("third prepare: %v, cached %v", err, again != nil && again.Cached)
	}
	// One patient without a healthy T2: no healthy.npy, the stale one removed.
	os.Remove(filepath.Join(root, "LGG", "P03", "P03_healthy_t2.nii.gz"))
	found, _, _ = Discover(root)
	if found[1].ID != "P03" || found[1].HasHealthy() || found[1].Healthy != ([NumModalities]string{}) || !found[0].HasHealthy() {
		t.Errorf("Discover with 3 healthy files: %+v", found[1])
	}
	opt.Seed++
	if sum, err = Prepare(root, out, opt, nil); err != nil || sum.Healthy || sum.Kept != len(ps) {
		t.Fatalf("prepare without all healthy files: %v, %+v", err, sum)
	}
	if _, err := os.Stat(filepath.Join(out, HealthyFile)); !os.IsNotExist(err) {
		t.Errorf("stale %s: %v", HealthyFile, err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPrepareHealthyPhantom prepares small synthetic patients with their
// healthy counterparts, resized: healthy.npy equals images.npy at most
// brain pixels outside the tumour and differs inside it.
func TestPrepareHealthyPhantom(t *testing.T) {
	cfg := phantom.DefaultConfig()
	cfg.Shape, cfg.Patients, cfg.Seed, cfg.Healthy = [3]int{48, 48, 40}, 2, 3, true
	root := t.TempDir()
	if err := phantom.Write(root, cfg, 1, nil); err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	// BraTS slices 60..100 are slices 15..26 of 40
	opt.SliceMin, opt.SliceMax, opt.PathologicalAbove, opt.Size, opt.TestFraction = 15, 26, 5, 32, 0.5
	out := t.TempDir()
	sum, err := Prepare(root, out, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Healthy || sum.Kept != 2 {
		t.Fatalf("summary: healthy %v, kept %d, skipped %+v", sum.Healthy, sum.Kept, sum.Skipped)
	}
	set, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var outside, outsideEqual, inside int
	var insideDiff float64
	for _, in := range set.Info {
		img, _ := set.Image(in.Index, nil)
		lab, _ := set.Label(in.Index, nil)
		hl, err := set.Healthy(in.Index, nil)
		if err != nil {
			t.Fatal(err)
		}
		for p, l := range lab {
			px, ph := img[p*4:p*4+4], hl[p*4:p*4+4]
			for c := range 4 {
				if ph[c] < -1 || ph[c] > 1 {
					t.Fatalf("slice %d: healthy value %v outside [-1, 1]", in.Index, ph[c])
				}
			}
			switch {
			case l > 0:
				for c := range 4 {
					insideDiff += math.Abs(float64(ph[c] - px[c]))
					inside++
				}
			case px[0] != 0:
				outside++
				if px[0] == ph[0] && px[1] == ph[1] && px[2] == ph[2] && px[3] == ph[3] {
					outsideEqual++
				}
			}
		}
	}
	if outside == 0 || float64(outsideEqual) < 0.6*float64(outside) {
		t.Errorf("healthy equals the image at %d of %d brain pixels outside the tumour", outsideEqual, outside)
	}
	if inside == 0 || insideDiff/float64(inside) < 0.05 {
		t.Errorf("mean |healthy - image| inside the tumour %.3f over %d values: no tumour contrast removed", insideDiff/float64(max(inside, 1)), inside)
	}
	t.Logf("%d slices: equal at %.2f of %d outside, mean |diff| inside %.3f", set.Len(), float64(outsideEqual)/float64(outside), outside, insideDiff/float64(inside))
}
