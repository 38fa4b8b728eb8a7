package pathogan

import (
	"math"
	"slices"
	"testing"
)

// TestInference trains two tiny steps, saves, loads the checkpoint alone and
// checks the inference API: shapes, ε = 0 (deterministic), eq. 6 holds for
// the outputs, Decode with ΓA's mean equals ToPathological, and different
// δB give different pathologies.
func TestInference(t *testing.T) {
	tr := tinyTrainer(t, 2)
	cfg := tr.Cfg
	for range 2 {
		if _, err := tr.Step(randomBatch(cfg, 1), randomBatch(cfg, 2)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if _, err := tr.Save(dir+"/"+CheckpointsDir, 1); err != nil {
		t.Fatal(err)
	}
	m, err := LoadInference(testBackend(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Step != 2 || m.Cfg != cfg {
		t.Fatalf("loaded step %d config %+v", m.Step, m.Cfg)
	}
	x := randomBatch(cfg, 3) // 2 images
	px, per := cfg.Size*cfg.Size, cfg.Size*cfg.Size*cfg.Channels
	h, err := m.ToHealthy(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Labelmap) != 2*px || len(h.Output) != 2*per || len(h.Inpainting) != 2*per {
		t.Fatalf("ToHealthy sizes %d %d %d", len(h.Labelmap), len(h.Inpainting), len(h.Output))
	}
	// Eq. 6 per element: y = l p + (1 - l) x.
	for i := 0; i < 2*per; i += 7 {
		l := float64(h.Labelmap[i/cfg.Channels])
		want := l*float64(h.Inpainting[i]) + (1-l)*float64(x[i])
		if math.Abs(float64(h.Output[i])-want) > 1e-5 {
			t.Fatalf("element %d: y = %v, l p + (1-l) x = %v", i, h.Output[i], want)
		}
	}
	seg, _ := m.Segment(x)
	if !slices.Equal(seg, h.Labelmap) {
		t.Error("Segment is not deterministic (ε must be 0 at test time)")
	}
	gm, _, err := m.EncodeGamma(x)
	if err != nil || len(gm) != 2*cfg.Z {
		t.Fatalf("EncodeGamma: %v, %d values", err, len(gm))
	}
	delta := m.SampleDeltas(2, 7)
	a, err := m.ToPathological(x, delta)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Decode(x, gm, delta)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Output, b.Output) {
		t.Error("Decode(x, ΓA mean, δ) differs from ToPathological(x, δ)")
	}
	s, err := m.SamplePathologies(x[:per], 3, 11)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(s.Labelmap[:px], s.Labelmap[px:2*px]) {
		t.Error("two δB samples gave the same labelmap")
	}
	if _, err := m.ToHealthy(x[:5]); err == nil {
		t.Error("5 values: no error")
	}
	if _, err := LoadInference(testBackend(t), t.TempDir()); err == nil {
		t.Error("empty folder: no error")
	}
}
