package phantom

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/pathogan-go/pathogan/data/nifti"
)

// patientTumour redraws the tumour of patient index as generate does.
func patientTumour(t *testing.T, cfg Config, index int) *tumour {
	t.Helper()
	a, err := loadAnatomy(cfg.Anatomy)
	if err != nil {
		t.Fatal(err)
	}
	r := patientRand(cfg.Seed, index)
	g := newGeometry(r, a, cfg.Shape)
	if err := g.placeTumour(r, !cfg.IsLGG(index)); err != nil {
		t.Fatal(err)
	}
	return g.tumour
}

func TestHealthyCounterpart(t *testing.T) {
	cfg := testConfig()
	hcfg := cfg
	hcfg.Healthy = true
	indices := []int{0, 3} // HGG, LGG
	if testing.Short() {
		// Both grades take about 5 s; -short checks the HGG patient only.
		indices = indices[:1]
	}
	for _, index := range indices {
		p, tissue := gen(t, cfg, index)
		if p.HasHealthy() {
			t.Fatalf("%s: healthy counterpart without Config.Healthy", p.ID)
		}
		hp, _ := gen(t, hcfg, index)
		if !hp.HasHealthy() {
			t.Fatalf("%s: no healthy counterpart with Config.Healthy", hp.ID)
		}
		// the pathological images do not change
		pims, hims := images(p), images(hp)
		for m := range nMod {
			if !slices.Equal(pims[m], hims[m]) {
				t.Errorf("%s: %s changes with Config.Healthy", p.ID, modName[m])
			}
		}
		if !slices.Equal(p.Seg, hp.Seg) {
			t.Errorf("%s: labels change with Config.Healthy", p.ID)
		}
		again, err := Generate(hcfg, index)
		if err != nil {
			t.Fatal(err)
		}
		for m := range nMod {
			if !slices.Equal(again.Healthy[m], hp.Healthy[m]) {
				t.Errorf("%s: healthy %s not deterministic", p.ID, modName[m])
			}
		}

		h := hp.Healthy
		tm := patientTumour(t, cfg, index)
		nx, ny, nz := cfg.Shape[0], cfg.Shape[1], cfg.Shape[2]
		fov := [3]float64{240, 240, 155}
		mm := func(ax, i int) float64 { return (float64(i)+0.5)*fov[ax]/float64(cfg.Shape[ax]) - 0.5 }
		var far, farBrain, outside, outsideEqual, pBrain, hBrain, onlyHealthy int
		var inSum, inCount [5][nMod]float64
		for k := range nz {
			for j := range ny {
				for i := range nx {
					idx := (k*ny+j)*nx + i
					in := h[0][idx] > 0
					for m := range nMod {
						if v := h[m][idx]; (v > 0) != in || v != float32(int16(v)) {
							t.Fatalf("%s: healthy voxel %d: %s = %g, FLAIR %g (brain masks differ or not int16)", p.ID, idx, modName[m], v, h[0][idx])
						}
					}
					pin := pims[0][idx] > 0
					if in {
						hBrain++
					}
					if pin {
						pBrain++
					}
					if in && !pin {
						onlyHealthy++
					}
					pt := vec3{mm(0, i), mm(1, j), mm(2, k)}
					boxed := pt[0] >= tm.lo[0] && pt[1] >= tm.lo[1] && pt[2] >= tm.lo[2] && pt[0] <= tm.hi[0] && pt[1] <= tm.hi[1] && pt[2] <= tm.hi[2]
					if !boxed && pt.sub(tm.centre).norm() >= tm.infl {
						// no mass effect, no tumour: the same voxel
						far++
						if pin {
							farBrain++
						}
						for m := range nMod {
							if h[m][idx] != pims[m][idx] {
								t.Fatalf("%s: voxel %d far from the tumour: healthy %s %g, pathological %g", p.ID, idx, modName[m], h[m][idx], pims[m][idx])
							}
						}
					}
					if l := p.Seg[idx]; l != 0 && in {
						for m := range nMod {
							inSum[l][m] += float64(h[m][idx])
							inCount[l][m]++
						}
					} else if l == 0 && in && pin {
						outside++
						if slices.Equal([]float32{h[0][idx], h[1][idx], h[2][idx], h[3][idx]},
							[]float32{pims[0][idx], pims[1][idx], pims[2][idx], pims[3][idx]}) {
							outsideEqual++
						}
					}
				}
			}
		}
		if farBrain < pBrain/4 {
			t.Errorf("%s: only %d of %d brain voxels far from the tumour", p.ID, farBrain, pBrain)
		}
		if f := float64(outsideEqual) / float64(outside); f < 0.7 {
			t.Errorf("%s: healthy equals pathological at %.2f of the brain voxels outside the tumour, want >= 0.7", p.ID, f)
		}
		if d := float64(hBrain-pBrain) / float64(pBrain); d < -0.02 || d > 0.02 {
			t.Errorf("%s: healthy brain %d voxels, pathological %d", p.ID, hBrain, pBrain)
		}
		t.Logf("%s: %d far voxels (%d brain of %d), %.3f of %d outside the tumour equal, %d healthy-only brain voxels",
			p.ID, far, farBrain, pBrain, float64(outsideEqual)/float64(outside), outside, onlyHealthy)

		// inside the tumour: healthy tissue intensities only
		mu := classMeans(p, tissue)
		for _, l := range []int{1, 2, 4} {
			for m := range nMod {
				if inCount[l][m] == 0 {
					continue
				}
				got := inSum[l][m] / inCount[l][m]
				lo := min(mu[int(tisCSF)][m], mu[int(tisGM)][m], mu[int(tisWM)][m])
				hi := max(mu[int(tisCSF)][m], mu[int(tisGM)][m], mu[int(tisWM)][m])
				if got < 0.8*lo || got > 1.05*hi {
					t.Errorf("%s: label %d: healthy %s mean %.0f outside the healthy tissue range %.0f..%.0f", p.ID, l, modName[m], got, lo, hi)
				}
			}
		}
		if ed := inSum[2][mFLAIR] / inCount[2][mFLAIR]; ed > 0.8*mu[12][mFLAIR] {
			t.Errorf("%s: oedema still bright on healthy FLAIR: %.0f vs pathological %.0f", p.ID, ed, mu[12][mFLAIR])
		}
		if p.Grade == "HGG" {
			if rim := inSum[4][mT1CE] / inCount[4][mT1CE]; rim > 0.8*mu[14][mT1CE] {
				t.Errorf("%s: rim still enhances on healthy T1CE: %.0f vs pathological %.0f", p.ID, rim, mu[14][mT1CE])
			}
		}

		// WriteBraTS writes the healthy files
		dir := t.TempDir()
		if err := WriteBraTS(dir, hp); err != nil {
			t.Fatal(err)
		}
		for m, mod := range Modalities {
			for _, c := range []struct {
				name string
				want []float32
			}{{hp.ID + "_" + mod, pims[m]}, {hp.ID + "_healthy_" + mod, h[m]}} {
				path := filepath.Join(PatientDir(dir, hp), c.name+".nii.gz")
				im, err := nifti.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if im.Header.Datatype != nifti.Int16 || !slices.Equal(im.Float32s(), c.want) {
					t.Errorf("%s: datatype %v or voxels differ", path, im.Header.Datatype)
				}
			}
		}
	}
}
