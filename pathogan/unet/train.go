package unet

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/augment"
	"github.com/pathogan-go/pathogan/pathogan"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/runlog"
)

// LossNames are the terms Trainer.Step returns, in order.
var LossNames = []string{"loss", "bce", "dice"}

// scopeOpt is the scope of the optimiser's state.
const scopeOpt = "optimizer"

// Trainer runs the baseline's training step.
type Trainer struct {
	Cfg     Config
	Backend backends.Backend
	Ctx     *context.Context
	// Done is the number of completed steps; Total the number the learning
	// rate schedule spans.
	Done, Total int

	exec *context.Exec
	lr   *context.Variable
}

// NewTrainer prepares training for total steps on backend b.
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
	t := &Trainer{Cfg: cfg, Backend: b, Ctx: ctx, Total: total}
	t.lr = optimizers.LearningRateVar(ctx.In(scopeOpt), dtypes.Float32, cfg.LearningRate)
	var err error
	t.exec, err = context.NewExec(b, ctx, func(ctx *context.Context, x, y *graph.Node) []*graph.Node {
		ctx.SetTraining(x.Graph(), true)
		// Unchecked: after Load the variables exist before the graph does.
		ctx = ctx.Checked(false)
		total, bce, dice := Loss(cfg, Network(ctx, cfg, x), y)
		optimizers.Adam().Scope(scopeOpt+"_adam").LearningRate(cfg.LearningRate).
			Betas(cfg.Beta1, cfg.Beta2).Epsilon(1e-8).Done().UpdateGraph(ctx.In(scopeOpt), x.Graph(), total)
		return []*graph.Node{total, bce, dice}
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// learningRate is PathoGAN's schedule: constant, then linear to 0.
func (t *Trainer) learningRate(step int) float64 {
	return pathogan.LinearDecay(t.Cfg.LearningRate, t.Cfg.DecayFrom, t.Total, step)
}

// Step runs one training step on images x [batch][size][size][channels] and
// masks y [batch][size][size] (non-zero = tumour) and returns LossNames'
// terms. A NaN or infinite loss returns pathogan.ErrNotFinite (wrapped).
func (t *Trainer) Step(x []float32, y []uint8) ([]float64, error) {
	c := t.Cfg
	if len(x) != c.Batch*c.Size*c.Size*c.Channels || len(y) != c.Batch*c.Size*c.Size {
		return nil, fmt.Errorf("step: want %d image values and %d labels (batch %d of %dx%dx%d), got %d and %d",
			c.Batch*c.Size*c.Size*c.Channels, c.Batch*c.Size*c.Size, c.Batch, c.Size, c.Size, c.Channels, len(x), len(y))
	}
	yf := make([]float32, len(y))
	for i, v := range y {
		if v != 0 {
			yf[i] = 1
		}
	}
	t.lr.MustSetValue(tensors.FromScalar(float32(t.learningRate(t.Done))))
	out, err := t.exec.Exec(tensors.FromFlatDataAndDimensions(x, c.Batch, c.Size, c.Size, c.Channels),
		tensors.FromFlatDataAndDimensions(yf, c.Batch, c.Size, c.Size))
	if err != nil {
		return nil, err
	}
	losses := make([]float64, len(out))
	for i, o := range out {
		losses[i] = float64(tensors.ToScalar[float32](o))
		o.FinalizeAll()
	}
	for i, v := range losses {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return losses, fmt.Errorf("step %d: %s %w (%v)", t.Done+1, LossNames[i], pathogan.ErrNotFinite, v)
		}
	}
	t.Done++
	return losses, nil
}

// Save writes a checkpoint into dir, keeping the newest keep.
func (t *Trainer) Save(dir string, keep int) (string, error) {
	js, err := json.Marshal(t.Cfg)
	if err != nil {
		return "", err
	}
	return checkpoint.Save(dir, t.Ctx, checkpoint.Header{Step: t.Done, Total: t.Total, Model: ModelName, Config: js}, keep)
}

// Load restores variables and step from a checkpoint of the same config.
func (t *Trainer) Load(path string) error {
	cfg, _, err := ReadCheckpointConfig(path)
	if err != nil {
		return err
	}
	if cfg.Size != t.Cfg.Size || cfg.Base != t.Cfg.Base || cfg.Depth != t.Cfg.Depth || cfg.Channels != t.Cfg.Channels {
		return fmt.Errorf("%s: network %dpx base %d depth %d, the trainer's %dpx base %d depth %d",
			path, cfg.Size, cfg.Base, cfg.Depth, t.Cfg.Size, t.Cfg.Base, t.Cfg.Depth)
	}
	h, err := checkpoint.Load(path, t.Ctx)
	if err != nil {
		return err
	}
	t.Done = h.Step
	return nil
}

// ReadCheckpointConfig returns a U-Net checkpoint's config and step.
func ReadCheckpointConfig(path string) (Config, int, error) {
	h, err := checkpoint.ReadHeader(path)
	if err != nil {
		return Config{}, 0, err
	}
	if h.Model != ModelName {
		return Config{}, 0, fmt.Errorf("%s: not a U-Net checkpoint (model %q)", path, h.Model)
	}
	var cfg Config
	if err := json.Unmarshal(h.Config, &cfg); err != nil {
		return Config{}, 0, fmt.Errorf("%s: config: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, h.Step, nil
}

// Train trains the baseline on the training split of a prepared slice set,
// with PathoGAN's run conventions (pathogan.Train): runDir/config.json,
// runDir/losses.csv, runDir/checkpoints; Resume continues from the newest
// checkpoint; a non-finite loss stops with the last good checkpoint intact.
// Each batch holds round(Batch·PathologicalFraction) pathological slices and
// healthy ones for the rest, augmented when cfg.Augment is set.
func Train(b backends.Backend, set *data.Set, cfg Config, runDir string, opt pathogan.RunOptions, progress func(pathogan.Progress)) (*Trainer, error) {
	run, err := pathogan.OpenRun(runDir, ModelName, &opt)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	latest := run.Latest
	if latest != "" {
		ckpt, _, err := ReadCheckpointConfig(latest)
		if err != nil {
			return nil, err
		}
		if err := run.MatchConfig(ckpt, cfg); err != nil {
			return nil, err
		}
		cfg = ckpt
	}
	if err := pathogan.CheckSetShape(set, "U-Net "+cfg.Preset, cfg.Size, cfg.Channels); err != nil {
		return nil, err
	}
	nPatho := int(math.Round(float64(cfg.Batch) * cfg.PathologicalFraction))
	healthy, patho := set.Select(data.Train, data.Healthy), set.Select(data.Train, data.Pathological)
	if (nPatho > 0 && len(patho) == 0) || (nPatho < cfg.Batch && len(healthy) == 0) {
		return nil, fmt.Errorf("slice set %s: the training split has %d healthy and %d pathological slices; batches need %d and %d",
			set.Dir, len(healthy), len(patho), cfg.Batch-nPatho, nPatho)
	}
	if err := pathogan.WriteRunConfig(runDir, cfg); err != nil {
		return nil, err
	}
	tr, err := NewTrainer(b, cfg, opt.Steps)
	if err != nil {
		return nil, err
	}
	if latest != "" {
		if err := tr.Load(latest); err != nil {
			return nil, err
		}
	}
	hist, err := runlog.Open(filepath.Join(runDir, runlog.FileName), LossNames, tr.Done)
	if err != nil {
		return nil, err
	}
	defer hist.Close()
	var aug *augment.Config
	if cfg.Augment {
		a := augment.DefaultConfig()
		aug = &a
	}
	per, perL := cfg.Size*cfg.Size*cfg.Channels, cfg.Size*cfg.Size
	x, y := make([]float32, cfg.Batch*per), make([]uint8, cfg.Batch*perL)
	err = pathogan.RunSteps(opt, hist, latest, &tr.Done, tr.learningRate, func() ([]float64, error) {
		seed := pathogan.StepRand(cfg.Seed, tr.Done).Uint64()
		if nPatho > 0 {
			s, err := set.NewSampler(patho, seed, aug)
			if err != nil {
				return nil, err
			}
			if _, err := s.Next(nPatho, x[:nPatho*per], y[:nPatho*perL]); err != nil {
				return nil, err
			}
		}
		if nPatho < cfg.Batch {
			s, err := set.NewSampler(healthy, seed^0xa, aug)
			if err != nil {
				return nil, err
			}
			if _, err := s.Next(cfg.Batch-nPatho, x[nPatho*per:], y[nPatho*perL:]); err != nil {
				return nil, err
			}
		}
		return tr.Step(x, y)
	}, func() (string, error) { return tr.Save(run.CkptDir, opt.Keep) }, progress)
	return tr, err
}
