// Package supervised trains and runs the fully supervised baselines that
// PathoGAN is compared with (the U-Net, MDGRU): networks that map a slice
// to a tumour probability per pixel and learn from the pixel labels of the
// same training slices. A baseline gives its network, loss and optimiser
// through Model; the package gives it PathoGAN's run conventions
// (config.json, losses.csv, atomic checkpoints, resume, the learning-rate
// schedule, the NaN guard) and inference.
package supervised

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/augment"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/runlog"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// Settings are the training settings every supervised baseline has.
type Settings struct {
	// Model is the name checkpoints and config.json carry ("unet", "mdgru").
	Model string
	// Preset is the name of the preset the config started from.
	Preset string
	// Size is the image height and width, Channels the image channels.
	Size, Channels int
	// Batch is the number of slices per step.
	Batch int
	// PathologicalFraction of each batch is drawn from pathological slices,
	// the rest from healthy ones (empty labels).
	PathologicalFraction float64
	// Augment applies the paper's augmentation to image and label together.
	Augment bool
	// Seed drives initialisation, dropout and batch sampling.
	Seed uint64
	// LearningRate is the initial rate; after DecayFrom of the steps it
	// decays linearly to 0 (PathoGAN's schedule).
	LearningRate, DecayFrom float64
	// Threshold turns probabilities into masks for evaluation.
	Threshold float64
}

// Model is a supervised baseline's configuration: it builds the network
// and says how to train it. A Model is marshalled to JSON into config.json
// and each checkpoint's header.
type Model interface {
	// Settings returns the shared training settings.
	Settings() Settings
	// Validate reports the first setting that cannot work.
	Validate() error
	// LossNames names the terms Losses returns, the total first.
	LossNames() []string
	// Losses builds the training losses of images x [b, s, s, c] against
	// masks y [b, s, s] (0 or 1), the total first.
	Losses(ctx *context.Context, x, y *graph.Node) []*graph.Node
	// Probability builds the tumour probability [b, s, s] of images x.
	Probability(ctx *context.Context, x *graph.Node) *graph.Node
	// NewOptimizer returns the optimiser; its learning rate is the context's
	// learning-rate variable, which the trainer sets every step.
	NewOptimizer() optimizers.Interface
	// SameNetwork reports an error when a checkpoint's config (another
	// Model of the same kind) holds a network of another shape.
	SameNetwork(other Model) error
}

// Decoder turns a checkpoint's or run's config JSON into its Model, or
// reports that it is another model's.
type Decoder func(model string, config []byte) (Model, error)

// scopeOpt is the scope of the optimiser's state.
const scopeOpt = "optimizer"

// Trainer runs a baseline's training step.
type Trainer struct {
	Model   Model
	Backend backends.Backend
	Ctx     *context.Context
	// Done is the number of completed steps; Total the number the learning
	// rate schedule spans.
	Done, Total int

	names []string
	exec  *context.Exec
	lr    *context.Variable
	// inputs are the step graph's image and mask tensors, refilled at every
	// step rather than allocated anew.
	inputs [2]*tensors.Tensor
}

// NewTrainer prepares training of m for total steps on backend b.
func NewTrainer(b backends.Backend, m Model, total int) (*Trainer, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if total < 1 {
		return nil, fmt.Errorf("steps %d: want >= 1", total)
	}
	s := m.Settings()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(s.Seed)); err != nil {
		return nil, err
	}
	t := &Trainer{Model: m, Backend: b, Ctx: ctx, Total: total, names: m.LossNames()}
	t.lr = optimizers.LearningRateVar(ctx.In(scopeOpt), dtypes.Float32, s.LearningRate)
	var err error
	t.exec, err = context.NewExec(b, ctx, func(ctx *context.Context, x, y *graph.Node) []*graph.Node {
		ctx.SetTraining(x.Graph(), true)
		// Unchecked: after Load the variables exist before the graph does.
		ctx = ctx.Checked(false)
		losses := m.Losses(ctx, x, y)
		m.NewOptimizer().UpdateGraph(ctx.In(scopeOpt), x.Graph(), losses[0])
		return losses
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// LearningRate is the rate at step: PathoGAN's schedule, constant, then
// linear to 0.
func (t *Trainer) LearningRate(step int) float64 {
	s := t.Model.Settings()
	return training.LinearDecay(s.LearningRate, s.DecayFrom, t.Total, step)
}

// Step runs one training step on images x [batch][size][size][channels] and
// masks y [batch][size][size] (non-zero = tumour) and returns the model's
// loss terms. A NaN or infinite loss returns training.ErrNotFinite (wrapped).
func (t *Trainer) Step(x []float32, y []uint8) ([]float64, error) {
	c := t.Model.Settings()
	if len(x) != c.Batch*c.Size*c.Size*c.Channels || len(y) != c.Batch*c.Size*c.Size {
		return nil, fmt.Errorf("step: want %d image values and %d labels (batch %d of %dx%dx%d), got %d and %d",
			c.Batch*c.Size*c.Size*c.Channels, c.Batch*c.Size*c.Size, c.Batch, c.Size, c.Size, c.Channels, len(x), len(y))
	}
	if t.inputs[0] == nil {
		t.inputs = [2]*tensors.Tensor{
			tensors.FromShape(shapes.Make(dtypes.Float32, c.Batch, c.Size, c.Size, c.Channels)),
			tensors.FromShape(shapes.Make(dtypes.Float32, c.Batch, c.Size, c.Size)),
		}
	}
	if err := errors.Join(
		tensors.MutableFlatData(t.inputs[0], func(d []float32) { copy(d, x) }),
		tensors.MutableFlatData(t.inputs[1], func(d []float32) {
			for i, v := range y {
				d[i] = 0
				if v != 0 {
					d[i] = 1
				}
			}
		}),
	); err != nil {
		return nil, fmt.Errorf("step: the input tensors: %w", err)
	}
	t.lr.MustSetValue(tensors.FromScalar(float32(t.LearningRate(t.Done))))
	out, err := t.exec.Exec(t.inputs[0], t.inputs[1])
	if err != nil {
		return nil, err
	}
	losses := make([]float64, len(out))
	for i, o := range out {
		losses[i] = float64(tensors.ToScalar[float32](o))
		o.FinalizeAll()
	}
	if err := training.CheckFinite(t.Done+1, t.names, losses); err != nil {
		return losses, err
	}
	t.Done++
	return losses, nil
}

// Save writes a checkpoint into dir, keeping the newest keep.
func (t *Trainer) Save(dir string, keep int) (string, error) {
	js, err := json.Marshal(t.Model)
	if err != nil {
		return "", err
	}
	return checkpoint.Save(dir, t.Ctx, checkpoint.Header{Step: t.Done, Total: t.Total, Model: t.Model.Settings().Model, Config: js}, keep)
}

// Load restores variables and step from a checkpoint of the same network.
func (t *Trainer) Load(path string, decode Decoder) error {
	m, _, err := ReadCheckpoint(path, decode)
	if err != nil {
		return err
	}
	if err := t.Model.SameNetwork(m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	h, err := checkpoint.Load(path, t.Ctx)
	if err != nil {
		return err
	}
	t.Done = h.Step
	return nil
}

// ReadCheckpoint returns a checkpoint's Model, decoded and validated, and
// its step.
func ReadCheckpoint(path string, decode Decoder) (Model, int, error) {
	h, err := checkpoint.ReadHeader(path)
	if err != nil {
		return nil, 0, err
	}
	m, err := decode(h.Model, h.Config)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return m, h.Step, nil
}

// Train trains m on the training split of a prepared slice set, with
// the run conventions every model shares (package training): runDir/config.json,
// runDir/losses.csv, runDir/checkpoints; Resume continues from the newest
// checkpoint, whose config then wins; a non-finite loss stops with the last
// good checkpoint intact. Each batch holds round(Batch·PathologicalFraction)
// pathological slices and healthy ones for the rest, augmented when the
// settings ask for it.
func Train(b backends.Backend, set *data.Set, m Model, decode Decoder, runDir string, opt training.RunOptions, progress func(training.Progress)) (*Trainer, error) {
	s := m.Settings()
	run, err := training.OpenRun(runDir, s.Model, &opt)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	latest := run.Latest
	if latest != "" {
		ckpt, _, err := ReadCheckpoint(latest, decode)
		if err != nil {
			return nil, err
		}
		if err := run.MatchConfig(ckpt, m); err != nil {
			return nil, err
		}
		m = ckpt
		s = m.Settings()
	}
	if err := training.CheckSetShape(set, s.Model+" "+s.Preset, s.Size, s.Channels); err != nil {
		return nil, err
	}
	nPatho := int(math.Round(float64(s.Batch) * s.PathologicalFraction))
	healthy, patho := set.Select(data.Train, data.Healthy), set.Select(data.Train, data.Pathological)
	if (nPatho > 0 && len(patho) == 0) || (nPatho < s.Batch && len(healthy) == 0) {
		return nil, fmt.Errorf("slice set %s: the training split has %d healthy and %d pathological slices; batches need %d and %d",
			set.Dir, len(healthy), len(patho), s.Batch-nPatho, nPatho)
	}
	if err := training.WriteRunConfig(runDir, m); err != nil {
		return nil, err
	}
	tr, err := NewTrainer(b, m, opt.Steps)
	if err != nil {
		return nil, err
	}
	if latest != "" {
		if err := tr.Load(latest, decode); err != nil {
			return nil, err
		}
	}
	hist, err := runlog.Open(filepath.Join(runDir, runlog.FileName), tr.names, tr.Done)
	if err != nil {
		return nil, err
	}
	defer hist.Close()
	var aug *augment.Config
	if s.Augment {
		a := augment.DefaultConfig()
		aug = &a
	}
	per, perL := s.Size*s.Size*s.Channels, s.Size*s.Size
	x, y := make([]float32, s.Batch*per), make([]uint8, s.Batch*perL)
	st := &stepper{tr: tr, set: set, healthy: healthy, patho: patho, nPatho: nPatho, aug: aug,
		ckptDir: run.CkptDir, keep: opt.Keep, x: x, y: y}
	err = training.Loop(opt, hist, latest, st, progress)
	return tr, err
}

// stepper drives a Trainer from training.Loop: each step draws
// round(Batch·PathologicalFraction) pathological slices, then healthy ones
// for the rest, from the step's own random source.
type stepper struct {
	tr             *Trainer
	set            *data.Set
	healthy, patho []int
	nPatho         int
	aug            *augment.Config
	ckptDir        string
	keep           int
	x              []float32
	y              []uint8
}

func (s *stepper) Done() int                     { return s.tr.Done }
func (s *stepper) LearningRate(step int) float64 { return s.tr.LearningRate(step) }
func (s *stepper) Save() (string, error)         { return s.tr.Save(s.ckptDir, s.keep) }

// seedHealthy is mixed into a step's seed for the healthy sampler, so that
// it draws independently of the pathological one.
const seedHealthy = 0xa

func (s *stepper) Step() ([]float64, error) {
	c := s.tr.Model.Settings()
	seed := training.StepRand(c.Seed, s.tr.Done).Uint64()
	per, perL := c.Size*c.Size*c.Channels, c.Size*c.Size
	if s.nPatho > 0 {
		smp, err := s.set.NewSampler(s.patho, seed, s.aug)
		if err != nil {
			return nil, err
		}
		if _, err := smp.Next(s.nPatho, s.x[:s.nPatho*per], s.y[:s.nPatho*perL]); err != nil {
			return nil, err
		}
	}
	if s.nPatho < c.Batch {
		smp, err := s.set.NewSampler(s.healthy, seed^seedHealthy, s.aug)
		if err != nil {
			return nil, err
		}
		if _, err := smp.Next(c.Batch-s.nPatho, s.x[s.nPatho*per:], s.y[s.nPatho*perL:]); err != nil {
			return nil, err
		}
	}
	return s.tr.Step(s.x, s.y)
}

// Inference segments images with a trained baseline. It is safe for
// concurrent use.
type Inference struct {
	Model   Model
	Backend backends.Backend
	Ctx     *context.Context
	// Step is the training step of the loaded checkpoint.
	Step int
	// Path is the checkpoint file loaded ("" for one held in memory), and
	// Skipped the damaged newer checkpoints passed over to find it (each
	// error names its file).
	Path    string
	Skipped []error

	mu   sync.Mutex
	exec *context.Exec
}

// LoadInference loads a baseline from a checkpoint file or the newest
// intact checkpoint of a run folder (see checkpoint.Find).
func LoadInference(b backends.Backend, path string, decode Decoder) (*Inference, error) {
	path, skipped, err := checkpoint.Find(path)
	if err != nil {
		return nil, err
	}
	m, _, err := ReadCheckpoint(path, decode)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	h, err := checkpoint.Load(path, ctx)
	if err != nil {
		return nil, err
	}
	return &Inference{Model: m, Backend: b, Ctx: ctx, Step: h.Step, Path: path, Skipped: skipped}, nil
}

// Segment returns the tumour probability of every pixel, [n][size][size],
// for images x [n][size][size][channels].
func (m *Inference) Segment(x []float32) ([]float32, error) {
	c := m.Model.Settings()
	per := c.Size * c.Size * c.Channels
	if len(x) == 0 || len(x)%per != 0 {
		return nil, fmt.Errorf("segment: %d values is not a whole number of %dx%dx%d images", len(x), c.Size, c.Size, c.Channels)
	}
	m.mu.Lock()
	if m.exec == nil {
		e, err := context.NewExec(m.Backend, m.Ctx.Reuse(), func(ctx *context.Context, x *graph.Node) *graph.Node {
			return m.Model.Probability(ctx, x)
		})
		if err != nil {
			m.mu.Unlock()
			return nil, err
		}
		m.exec = e
	}
	e := m.exec
	m.mu.Unlock()
	out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, len(x)/per, c.Size, c.Size, c.Channels))
	if err != nil {
		return nil, err
	}
	defer out[0].FinalizeAll()
	return tensors.MustCopyFlatData[float32](out[0]), nil
}

// DiscBatch returns n synthetic training images of size×size×channels, a
// bright disc of random centre (8 to 24 px) and radius (3 to 7 px) in every
// channel over uniform noise, and the discs as labels: the toy
// segmentation task the baselines' tests learn.
func DiscBatch(r *rand.Rand, size, channels, n int) ([]float32, []uint8) {
	s, c := size, channels
	x, y := make([]float32, n*s*s*c), make([]uint8, n*s*s)
	for k := range n {
		cy, cx, rad := 8+r.Float64()*16, 8+r.Float64()*16, 3+r.Float64()*4
		for i := range s {
			for j := range s {
				in := math.Hypot(float64(i)-cy, float64(j)-cx) <= rad
				if in {
					y[(k*s+i)*s+j] = 1
				}
				for ch := range c {
					v := 0.2*r.Float64() - 0.5
					if in {
						v += 0.8
					}
					x[((k*s+i)*s+j)*c+ch] = float32(v)
				}
			}
		}
	}
	return x, y
}

// SoftDiceLoss is 1 minus the batch mean of each image's soft Dice
// (2Σpy + 1) / (Σp + Σy + 1), for probabilities p and masks y of one shape
// [b, ...]; the +1 makes an empty prediction of an empty label score 1.
func SoftDiceLoss(p, y *graph.Node) *graph.Node {
	axes := make([]int, p.Rank()-1)
	for i := range axes {
		axes[i] = i + 1
	}
	inter := graph.ReduceSum(graph.Mul(p, y), axes...)
	sums := graph.Add(graph.ReduceSum(p, axes...), graph.ReduceSum(y, axes...))
	soft := graph.Div(graph.AddScalar(graph.MulScalar(inter, 2), 1), graph.AddScalar(sums, 1))
	return graph.OneMinus(graph.ReduceAllMean(soft))
}
