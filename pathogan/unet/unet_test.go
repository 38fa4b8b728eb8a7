package unet

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
)

func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, _, err := backend.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// discBatch is supervised.DiscBatch at cfg's size.
func discBatch(r *rand.Rand, cfg Config, n int) ([]float32, []uint8) {
	return supervised.DiscBatch(r, cfg.Size, cfg.Channels, n)
}

// TestLearnsDiscs trains the tiny U-Net on bright discs and checks that it
// segments new ones (Dice > 0.8), that the loss fell, and that a saved and
// reloaded model segments exactly as the trainer's variables do.
func TestLearnsDiscs(t *testing.T) {
	cfg, _ := Preset("tiny")
	cfg.LearningRate = 3e-3
	b := testBackend(t)
	tr, err := NewTrainer(b, cfg, 100)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var first, last float64
	for i := range 100 {
		x, y := discBatch(r, cfg, cfg.Batch)
		l, err := tr.Step(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if i < 10 {
			first += l[0] / 10
		}
		if i >= 90 {
			last += l[0] / 10
		}
	}
	if !(last < 0.85*first) {
		t.Errorf("loss (mean of 10 steps) %.3f -> %.3f: want 15%% off at least", first, last)
	}
	dir := t.TempDir()
	path, err := tr.Save(filepath.Join(dir, "checkpoints"), 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadInference(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Step != 100 || m.Cfg != cfg {
		t.Errorf("loaded step %d config %+v, want 100 and the trainer's", m.Step, m.Cfg)
	}
	x, y := discBatch(r, cfg, 8)
	p, err := m.Segment(x)
	if err != nil {
		t.Fatal(err)
	}
	px := cfg.Size * cfg.Size
	var s metrics.Summary
	for k := range 8 {
		s.Add(metrics.Dice(metrics.Threshold(p[k*px:(k+1)*px], 0.5), y[k*px:(k+1)*px]))
	}
	if s.Mean() < 0.8 {
		t.Errorf("Dice on new discs %s, want mean > 0.8", s.String())
	}
	// A PathoGAN loader refuses the file with a clear message, and vice versa.
	if _, _, err := ReadCheckpointConfig(path); err != nil {
		t.Fatal(err)
	}
	tr2, _ := NewTrainer(b, cfg, 100)
	if err := tr2.Load(path, Decode); err != nil || tr2.Done != 100 {
		t.Fatalf("Load: %v, done %d", err, tr2.Done)
	}
}

func TestConfig(t *testing.T) {
	cfg, err := Preset("mini")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Set("learning_rate", "1e-4"); err != nil || cfg.LearningRate != 1e-4 {
		t.Errorf("Set learning_rate: %v, %g", err, cfg.LearningRate)
	}
	if err := cfg.Set("model", "pathogan"); err == nil {
		t.Error("Set model: want an error")
	}
	cfg.Depth = 6
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "2^depth") {
		t.Errorf("Validate size 32 depth 6: %v, want a 2^depth error", err)
	}
	if _, err := Preset("huge"); err == nil || !strings.Contains(err.Error(), "mini") {
		t.Errorf("Preset(huge): %v, want the known names", err)
	}
}
