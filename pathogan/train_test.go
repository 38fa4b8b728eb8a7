package pathogan

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/backend"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// testBackend returns the Go backend with this project's fixes.
func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, _, err := backend.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomBatch returns a batch of uniform values in [-1, 1].
func randomBatch(cfg Config, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	v := make([]float32, cfg.Batch*cfg.Size*cfg.Size*cfg.Channels)
	for i := range v {
		v[i] = float32(2*r.Float64() - 1)
	}
	return v
}

// tinyTrainer returns a trainer of the tiny preset with batch 2.
func tinyTrainer(t *testing.T, steps int) *Trainer {
	t.Helper()
	cfg, _ := Preset("tiny")
	cfg.Batch = 2
	cfg.PoolSize = 3
	tr, err := NewTrainer(testBackend(t), cfg, steps)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// floatVars copies the values of the float32 variables under the scopes.
func floatVars(ctx *context.Context, scopes ...string) map[string][]float32 {
	out := map[string][]float32{}
	names := VariableNames(ctx, scopes...)
	ctx.EnumerateVariables(func(v *context.Variable) {
		if v.Shape().DType == dtypes.Float32 && slices.Contains(names, v.ParameterName()) {
			out[v.ParameterName()] = tensors.MustCopyFlatData[float32](v.MustValue())
		}
	})
	return out
}

// changed counts the variables whose values differ between two snapshots.
func changed(a, b map[string][]float32) (n int) {
	for k, va := range a {
		if !slices.Equal(va, b[k]) {
			n++
		}
	}
	return n
}

// TestUpdatesMoveOwnNetwork proves each update moves only its own
// network: with the discriminators' learning rate at 0 only generator
// variables change, and with the generators' at 0 only discriminator ones.
func TestUpdatesMoveOwnNetwork(t *testing.T) {
	tr := tinyTrainer(t, 10)
	xA, xB := randomBatch(tr.Cfg, 1), randomBatch(tr.Cfg, 2)
	if _, err := tr.Step(xA, xB); err != nil { // creates and initialises the variables
		t.Fatal(err)
	}
	for i, c := range []struct {
		freezeG, freezeD bool
		moveG, moveD     bool
	}{
		{false, true, true, false}, // generator update only
		{true, false, false, true}, // discriminator update only
		{false, false, true, true}, // both
	} {
		tr.freezeG, tr.freezeD = c.freezeG, c.freezeD
		g0, d0 := floatVars(tr.Ctx, GeneratorScopes...), floatVars(tr.Ctx, DiscriminatorScopes...)
		if len(g0) < 20 || len(d0) < 10 {
			t.Fatalf("only %d generator and %d discriminator variables", len(g0), len(d0))
		}
		if _, err := tr.Step(xA, xB); err != nil {
			t.Fatal(err)
		}
		g1, d1 := floatVars(tr.Ctx, GeneratorScopes...), floatVars(tr.Ctx, DiscriminatorScopes...)
		gc, dc := changed(g0, g1), changed(d0, d1)
		if (gc > 0) != c.moveG || (dc > 0) != c.moveD {
			t.Errorf("case %d: %d of %d generator and %d of %d discriminator variables moved, want G %v D %v",
				i, gc, len(g0), dc, len(d0), c.moveG, c.moveD)
		}
	}
}

// TestCheckpointResume saves after 2 steps, trains 2 more, then loads the
// checkpoint into a fresh trainer and retrains the 2 steps: the results must
// be identical (same variables, same pool, same random draws).
func TestCheckpointResume(t *testing.T) {
	dir := t.TempDir()
	batches := func(step int) ([]float32, []float32) {
		cfg, _ := Preset("tiny")
		cfg.Batch = 2
		return randomBatch(cfg, uint64(2*step)), randomBatch(cfg, uint64(2*step+1))
	}
	a := tinyTrainer(t, 4)
	for s := range 2 {
		if _, err := a.Step(batches(s)); err != nil {
			t.Fatal(err)
		}
	}
	path, err := a.Save(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	var lossA []float64
	for s := 2; s < 4; s++ {
		if lossA, err = a.Step(batches(s)); err != nil {
			t.Fatal(err)
		}
	}
	b := tinyTrainer(t, 4)
	if err := b.Load(path); err != nil {
		t.Fatal(err)
	}
	if b.Done != 2 || len(b.poolA.images) != 3 {
		t.Fatalf("loaded step %d, pool of %d", b.Done, len(b.poolA.images))
	}
	var lossB []float64
	for s := 2; s < 4; s++ {
		if lossB, err = b.Step(batches(s)); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(lossA, lossB) {
		t.Errorf("resumed losses %v, uninterrupted %v", lossB, lossA)
	}
	if n := changed(floatVars(a.Ctx), floatVars(b.Ctx)); n != 0 {
		t.Errorf("%d variables differ between resumed and uninterrupted training", n)
	}
	// Keep 2: a third save removes the oldest.
	b.Save(dir, 2)
	b.Done++
	b.Save(dir, 2)
	list, _ := checkpoint.List(dir)
	if len(list) != 2 || !strings.HasSuffix(list[1], checkpoint.Name(5)) {
		t.Errorf("checkpoints kept: %v", list)
	}
	// A pool image of the wrong size is an error naming the file and the image.
	short, err := SaveCheckpoint(t.TempDir(), b.Ctx, b.Cfg, 1, 4, &poolState{A: [][]float32{{1, 2, 3}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tinyTrainer(t, 4).Load(short); err == nil || !strings.Contains(err.Error(), short) ||
		!strings.Contains(err.Error(), "image 0 of pool A has 3 values") {
		t.Errorf("checkpoint with a short pool image: %v", err)
	}
	// A truncated checkpoint is an error naming the file.
	raw, _ := os.ReadFile(list[1])
	bad := filepath.Join(dir, "bad.ckpt")
	os.WriteFile(bad, raw[:len(raw)/2], 0o644)
	if _, _, _, err := LoadCheckpoint(bad, context.New()); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated checkpoint: %v", err)
	}
}

// TestNaNStops feeds a NaN and expects ErrNotFinite.
func TestNaNStops(t *testing.T) {
	tr := tinyTrainer(t, 4)
	xA, xB := randomBatch(tr.Cfg, 1), randomBatch(tr.Cfg, 2)
	xA[5] = float32(math.NaN())
	_, err := tr.Step(xA, xB)
	if !errors.Is(err, training.ErrNotFinite) {
		t.Fatalf("err = %v, want training.ErrNotFinite", err)
	}
	if tr.Done != 0 {
		t.Errorf("a failed step counted: Done = %d", tr.Done)
	}
}

// TestLearningRateSchedule: constant for the first half, then linear to 0.
func TestLearningRateSchedule(t *testing.T) {
	tr := &Trainer{Cfg: Config{LearningRate: 2e-4, DecayFrom: 0.5}, Total: 100}
	for _, c := range []struct {
		step int
		want float64
	}{{0, 2e-4}, {49, 2e-4}, {50, 2e-4}, {75, 1e-4}, {100, 0}} {
		if got := tr.learningRate(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("step %d: lr %g, want %g", c.step, got, c.want)
		}
	}
}

// TestForwardFLOPsMatchReference checks the FLOP counter against the PyTorch
// reference's forward hooks (experiments/torchref/pathogan_step.py --size 32
// --base 4 --z 8 --res 1 --batch 2 printed fwd_gflop_per_step 0.080078784),
// so that `pathogan bench` reports GFLOP/s on the same count.
func TestForwardFLOPsMatchReference(t *testing.T) {
	// The reference has section 2.4's networks and objective.
	cfg, _ := Preset("tiny")
	cfg = cfg.Section24()
	cfg.Base, cfg.DiscBase, cfg.Batch = 4, 4, 2
	tr, err := NewTrainer(testBackend(t), cfg, 10)
	if err != nil {
		t.Fatal(err)
	}
	if tr.ForwardFLOPs() != 0 {
		t.Fatalf("ForwardFLOPs before the first step = %d, want 0", tr.ForwardFLOPs())
	}
	if _, err := tr.Step(randomBatch(cfg, 1), randomBatch(cfg, 2)); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.ForwardFLOPs(), int64(80078784); got != want {
		t.Errorf("ForwardFLOPs = %d, want %d (PyTorch reference)", got, want)
	}
	if got, want := ParamCount(tr.Ctx), 127812; got != want {
		t.Errorf("ParamCount = %d, want %d (PyTorch reference)", got, want)
	}
	// A second step reuses the graph: the count stays.
	if _, err := tr.Step(randomBatch(cfg, 3), randomBatch(cfg, 4)); err != nil {
		t.Fatal(err)
	}
	if got := tr.ForwardFLOPs(); got != 80078784 {
		t.Errorf("ForwardFLOPs after a second step = %d, want unchanged", got)
	}
}

// TestEverySeedTrains trains the tiny preset (batch 4, pool 50: the
// setting in which seeds 2, 3 and 26 crashed at step 13 when the pool
// filled up mid-batch) for 20 steps with every seed from 1 to 50.
func TestEverySeedTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("50 trainings")
	}
	b := testBackend(t)
	for seed := uint64(1); seed <= 50; seed++ {
		cfg, _ := Preset("tiny")
		cfg.Seed = seed
		tr, err := NewTrainer(b, cfg, 20)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("seed %d, step %d: panic %v", seed, tr.Done+1, r)
				}
			}()
			for step := range 20 {
				if _, err := tr.Step(randomBatch(cfg, seed<<8|uint64(2*step)), randomBatch(cfg, seed<<8|uint64(2*step+1))); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
			}
		}()
	}
}
