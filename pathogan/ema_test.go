package pathogan

import (
	"math"
	"slices"
	"testing"
)

// TestMovingAverage: with ema_decay set, training is unchanged (the same
// losses, bit for bit, as without), and a model loaded from the checkpoint
// has, in place of each generator weight, the corrected average of that
// weight over the steps: (1-d) Σ d^(T-t) w_t / (1 - d^T).
func TestMovingAverage(t *testing.T) {
	const d, steps = 0.6, 3
	run := func(decay float64) (*Trainer, [][]float64, []map[string][]float32) {
		cfg, _ := Preset("tiny")
		cfg.Batch, cfg.PoolSize, cfg.EMADecay = 2, 3, decay
		tr, err := NewTrainer(testBackend(t), cfg, steps)
		if err != nil {
			t.Fatal(err)
		}
		var losses [][]float64
		var weights []map[string][]float32
		for s := range steps {
			l, err := tr.Step(randomBatch(cfg, uint64(2*s)), randomBatch(cfg, uint64(2*s+1)))
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, l)
			weights = append(weights, floatVars(tr.Ctx, GeneratorScopes...))
		}
		return tr, losses, weights
	}
	_, plain, _ := run(0)
	tr, averaged, w := run(d)
	for s := range plain {
		if !slices.Equal(plain[s], averaged[s]) {
			t.Fatalf("step %d: losses %v with the average, %v without", s+1, averaged[s], plain[s])
		}
	}
	path, err := tr.Save(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadInference(testBackend(t), path)
	if err != nil {
		t.Fatal(err)
	}
	got := floatVars(m.Ctx, GeneratorScopes...)
	if len(got) == 0 || len(got) != len(w[0]) {
		t.Fatalf("%d generator variables loaded, %d trained", len(got), len(w[0]))
	}
	corr := 1 / (1 - math.Pow(d, steps))
	moved := 0
	for name, g := range got {
		for i := range g {
			want := 0.0
			for s := range steps {
				want += (1 - d) * math.Pow(d, float64(steps-1-s)) * float64(w[s][name][i])
			}
			want *= corr
			if math.Abs(float64(g[i])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("%s[%d] = %g, want the average %g (last weight %g)", name, i, g[i], want, w[steps-1][name][i])
			}
			if g[i] != w[steps-1][name][i] {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Error("the loaded weights are the last ones, not the average")
	}
}
