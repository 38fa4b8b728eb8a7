package pathogan

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
	"github.com/pathogan-go/pathogan/pathogan/nn"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// Scopes of the two optimisers' state (Adam moments, learning rate, step).
const (
	ScopeOptG = "optimizer_g"
	ScopeOptD = "optimizer_d"
)

// seedPool is mixed into the config's seed for the image pools' random
// source, so that their draws are independent of the batches'.
const seedPool = 0x9001

// Trainer runs PathoGAN's training step: one graph that updates the
// generators (with the discriminators frozen) and then the discriminators
// (with the generators frozen) on fakes drawn from the image pools.
type Trainer struct {
	Cfg     Config
	Backend backends.Backend
	Ctx     *context.Context
	// Done is the number of completed steps; Total the number the learning
	// rate schedule spans.
	Done, Total int

	exec         *context.Exec
	flops        nn.FLOPCounter
	poolA, poolB *imagePool
	lrG, lrD     *context.Variable
	// freezeG and freezeD set a network's learning rate to 0 (for tests
	// that check which variables each update moves).
	freezeG, freezeD bool
	// inputs are the step graph's six input tensors (xA, xB, useA, storedA,
	// useB, storedB), refilled at every step: new ones cost fresh memory,
	// and its page faults, at every step.
	inputs []*tensors.Tensor
}

// NewTrainer prepares training for total steps on backend b. Variables are
// created (randomly initialised from cfg.Seed) on the first step, unless
// loaded first with Trainer.Load.
func NewTrainer(b backends.Backend, cfg Config, total int) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if total < 1 {
		return nil, fmt.Errorf("steps %d: want >= 1", total)
	}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(cfg.Seed)); err != nil {
		return nil, err
	}
	pixels := cfg.Size * cfg.Size * cfg.Channels
	t := &Trainer{Cfg: cfg, Backend: b, Ctx: ctx, Total: total,
		poolA: newImagePool(cfg.PoolSize, pixels), poolB: newImagePool(cfg.PoolSize, pixels)}
	nn.SetFLOPCounter(ctx, &t.flops)
	t.lrG = optimizers.LearningRateVar(ctx.In(ScopeOptG), dtypes.Float32, cfg.LearningRate)
	t.lrD = optimizers.LearningRateVar(ctx.In(ScopeOptD), dtypes.Float32, cfg.LearningRate)
	var err error
	t.exec, err = context.NewExec(b, ctx, t.stepGraph)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ForwardFLOPs is the number of forward FLOPs of the convolutions and dense
// layers in one training step (both generators' passes and every
// discriminator application, as nn.FLOPCounter counts them); 0 until the first
// Step has built the graph. A training step costs about three times this.
func (t *Trainer) ForwardFLOPs() int64 { return t.flops.Forward }

// ParamCount is the number of network parameters (generators and
// discriminators; optimiser state not counted) in ctx.
func ParamCount(ctx *context.Context) int {
	n := 0
	scopes := append(slices.Clone(GeneratorScopes), DiscriminatorScopes...)
	ctx.EnumerateVariables(func(v *context.Variable) {
		for _, s := range scopes {
			if v.Scope() == "/"+s || strings.HasPrefix(v.Scope(), "/"+s+"/") {
				n += v.Shape().Size()
				return
			}
		}
	})
	return n
}

// setTrainable marks every variable under the given top-level scopes.
func setTrainable(ctx *context.Context, scopes []string, trainable bool) {
	ctx.EnumerateVariables(func(v *context.Variable) {
		for _, s := range scopes {
			if v.Scope() == "/"+s || strings.HasPrefix(v.Scope(), "/"+s+"/") {
				v.SetTrainable(trainable)
			}
		}
	})
}

// stepGraph builds one training step. Inputs: xA, xB [batch, h, w, n], and
// for each domain the pool's choice: use [batch] (1 = show a stored fake) and
// the stored fakes [batch, h, w, n]. Outputs: the loss terms in LossNames
// order, then the fakes ŷA and ŷB (for the pools).
func (t *Trainer) stepGraph(ctx *context.Context, in []*graph.Node) []*graph.Node {
	xA, xB, useA, storedA, useB, storedB := in[0], in[1], in[2], in[3], in[4], in[5]
	ctx.SetTraining(xA.Graph(), true)
	m := NewModel(ctx, t.Cfg)
	c := m.Forward(xA, xB, true)
	fakeA, fakeB := c.HatB.Output, c.HatA.Output // ŷA = GB(xB), ŷB = GA(xA, δB)
	// Discriminator scores: through the fakes for the generators' loss; on
	// real images and on pooled, gradient-free fakes for their own.
	pooled := func(use, stored, fake *graph.Node) *graph.Node {
		mask := graph.BroadcastToShape(graph.Reshape(use, -1, 1, 1, 1), fake.Shape())
		return graph.Where(graph.GreaterThan(mask, graph.ZerosLike(mask)), stored, graph.StopGradient(fake))
	}
	losses := Objective(t.Cfg, xA, xB, c,
		m.DiscriminatorA(fakeA), m.DiscriminatorB(fakeB),
		m.DiscriminatorA(xA), m.DiscriminatorB(xB),
		m.DiscriminatorA(pooled(useA, storedA, fakeA)), m.DiscriminatorB(pooled(useB, storedB, fakeB)))
	if t.Cfg.LambdaGANInpaint > 0 {
		p := c.HatB.Inpainting
		losses.AddInpaintGAN(t.Cfg, m.DiscriminatorA(p), m.DiscriminatorA(graph.StopGradient(p)))
	}

	adam := func(scope string) optimizers.Interface {
		return optimizers.Adam().Scope(scope+"_adam").LearningRate(t.Cfg.LearningRate).
			Betas(t.Cfg.Beta1, t.Cfg.Beta2).Epsilon(1e-8).Done()
	}
	// Generator update, discriminators frozen.
	setTrainable(ctx, DiscriminatorScopes, false)
	adam(ScopeOptG).UpdateGraph(ctx.In(ScopeOptG), xA.Graph(), losses.Generator)
	setTrainable(ctx, DiscriminatorScopes, true)
	if t.Cfg.EMADecay > 0 {
		averageGenerators(ctx, xA.Graph(), t.Cfg.EMADecay)
	}
	// Discriminator update, generators frozen.
	setTrainable(ctx, GeneratorScopes, false)
	adam(ScopeOptD).UpdateGraph(ctx.In(ScopeOptD), xA.Graph(), graph.Add(losses.DiscA, losses.DiscB))
	setTrainable(ctx, GeneratorScopes, true)

	return append(losses.List(), fakeA, fakeB)
}

// learningRate is the schedule: constant until DecayFrom·Total steps, then
// linear down to 0 at Total (CycleGAN's).
func (t *Trainer) learningRate(step int) float64 {
	return training.LinearDecay(t.Cfg.LearningRate, t.Cfg.DecayFrom, t.Total, step)
}

// Step runs one training step on a healthy batch xA and a pathological batch
// xB (each [batch][size][size][n] float32) and returns the loss terms in
// LossNames order. When a loss is NaN or infinite it returns training.ErrNotFinite
// (wrapped, naming the term); the context then holds the bad values and must
// not be saved.
func (t *Trainer) Step(xA, xB []float32) ([]float64, error) {
	c := t.Cfg
	n := c.Batch * c.Size * c.Size * c.Channels
	if len(xA) != n || len(xB) != n {
		return nil, fmt.Errorf("step: batches of %d values expected (batch %d of %dx%dx%d), got %d and %d",
			n, c.Batch, c.Size, c.Size, c.Channels, len(xA), len(xB))
	}
	rng := training.StepRand(c.Seed^seedPool, t.Done)
	planA, planB := t.poolA.plan(rng, c.Batch), t.poolB.plan(rng, c.Batch)
	if t.inputs == nil {
		img := shapes.Make(dtypes.Float32, c.Batch, c.Size, c.Size, c.Channels)
		vec := shapes.Make(dtypes.Float32, c.Batch)
		t.inputs = []*tensors.Tensor{tensors.FromShape(img), tensors.FromShape(img), tensors.FromShape(vec),
			tensors.FromShape(img), tensors.FromShape(vec), tensors.FromShape(img)}
	}
	in := t.inputs
	if err := errors.Join(
		tensors.MutableFlatData(in[0], func(d []float32) { copy(d, xA) }),
		tensors.MutableFlatData(in[1], func(d []float32) { copy(d, xB) }),
		fillFromPool(t.poolA, planA, in[2], in[3]),
		fillFromPool(t.poolB, planB, in[4], in[5]),
	); err != nil {
		return nil, fmt.Errorf("step: the input tensors: %w", err)
	}

	lr := t.learningRate(t.Done)
	lrG, lrD := lr, lr
	if t.freezeG {
		lrG = 0
	}
	if t.freezeD {
		lrD = 0
	}
	t.lrG.MustSetValue(tensors.FromScalar(float32(lrG)))
	t.lrD.MustSetValue(tensors.FromScalar(float32(lrD)))
	out, err := t.exec.Exec(in[0], in[1], in[2], in[3], in[4], in[5])
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, o := range out {
			o.FinalizeAll()
		}
	}()
	losses := make([]float64, len(LossNames))
	for i := range losses {
		losses[i] = float64(tensors.ToScalar[float32](out[i]))
	}
	if err := training.CheckFinite(t.Done+1, LossNames, losses); err != nil {
		return losses, err
	}
	if err := errors.Join(
		tensors.ConstFlatData(out[len(LossNames)], func(fakes []float32) { t.poolA.update(planA, fakes) }),
		tensors.ConstFlatData(out[len(LossNames)+1], func(fakes []float32) { t.poolB.update(planB, fakes) }),
	); err != nil {
		return losses, fmt.Errorf("step: the fakes: %w", err)
	}
	t.Done++
	return losses, nil
}

// fillFromPool writes the pool's images that the plan shows into stored and
// the plan's mask into use (imagePool.fill), in place.
func fillFromPool(pool *imagePool, plan poolPlan, use, stored *tensors.Tensor) error {
	var inner error
	err := tensors.MutableFlatData(use, func(u []float32) {
		inner = tensors.MutableFlatData(stored, func(s []float32) { pool.fill(plan, s, u) })
	})
	return errors.Join(err, inner)
}

// Save writes a checkpoint of the trainer (variables, step, config, pools)
// into dir, keeping the newest keep checkpoints.
func (t *Trainer) Save(dir string, keep int) (string, error) {
	return SaveCheckpoint(dir, t.Ctx, t.Cfg, t.Done, t.Total, &poolState{A: t.poolA.images, B: t.poolB.images}, keep)
}

// Load restores a checkpoint into the trainer: variables, step and pools.
// The checkpoint's config must describe the same networks.
func (t *Trainer) Load(path string) error {
	cfg, step, pools, err := LoadCheckpoint(path, t.Ctx)
	if err != nil {
		return err
	}
	if cfg.Size != t.Cfg.Size || cfg.Channels != t.Cfg.Channels || cfg.Base != t.Cfg.Base || cfg.Z != t.Cfg.Z ||
		cfg.ResBlocks != t.Cfg.ResBlocks || cfg.DiscBase != t.Cfg.DiscBase {
		return fmt.Errorf("%s: checkpoint of a different network (%s preset, size %d, base %d) than configured (%s, size %d, base %d)",
			path, cfg.Preset, cfg.Size, cfg.Base, t.Cfg.Preset, t.Cfg.Size, t.Cfg.Base)
	}
	if pools != nil {
		for _, pool := range []struct {
			name   string
			images [][]float32
		}{{"A", pools.A}, {"B", pools.B}} {
			for i, img := range pool.images {
				if len(img) != t.poolA.pixels {
					return fmt.Errorf("%s: image %d of pool %s has %d values, want %d (%d×%d×%d)",
						path, i, pool.name, len(img), t.poolA.pixels, t.Cfg.Size, t.Cfg.Size, t.Cfg.Channels)
				}
			}
		}
		t.poolA.images, t.poolB.images = pools.A, pools.B
	}
	t.Done = step
	return nil
}

// VariableNames returns the parameter names of the context's variables
// whose scope starts with one of the given top-level scopes (all when none).
func VariableNames(ctx *context.Context, scopes ...string) []string {
	var out []string
	ctx.EnumerateVariables(func(v *context.Variable) {
		for _, s := range scopes {
			if v.Scope() == "/"+s || strings.HasPrefix(v.Scope(), "/"+s+"/") {
				out = append(out, v.ParameterName())
				return
			}
		}
		if len(scopes) == 0 {
			out = append(out, v.ParameterName())
		}
	})
	slices.Sort(out)
	return out
}
