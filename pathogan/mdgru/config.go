// Package mdgru is MDGRU (Andermatt, Pezold and Cattin, "Multi-dimensional
// gated recurrent units for the segmentation of biomedical 3D-data", 2016),
// the fully supervised method the paper compares PathoGAN with in Table 1,
// for 2-D slices: MD-GRU layers, each four convolutional GRUs that sweep
// the slice forward and backward along both axes, followed by voxel-wise
// fully connected layers, trained with softmax cross-entropy (optionally
// with a Dice term) by Adadelta or Adam. The defaults follow the authors'
// reference implementation (zubata88/mdgru). Runs follow the toolkit's
// conventions through package supervised.
package mdgru

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/gomlx/gomlx/backends"
	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// ModelName is the model name MDGRU's checkpoints and run configs carry.
const ModelName = "mdgru"

// Optimiser names.
const (
	OptAdadelta = "adadelta"
	OptAdam     = "adam"
)

// Config holds MDGRU's shape and training settings.
type Config struct {
	// Model is always ModelName.
	Model string `json:"model"`
	// Preset is the name of the preset the config started from.
	Preset string `json:"preset"`
	// Size is the image height and width; Channels the image channels.
	Size     int `json:"size"`
	Channels int `json:"channels"`
	// Hidden is the state width of each MD-GRU layer (reference: 16, 32, 64).
	Hidden []int `json:"hidden"`
	// FC is the width of the voxel-wise fully connected layer after each
	// MD-GRU layer but the last, which maps to the two classes (reference:
	// 25, 45).
	FC []int `json:"fc"`
	// FilterX and FilterH are the kernel sizes of the C-GRUs' convolutions
	// of the input and of the state, over the axis the C-GRU does not run
	// along (reference: 7 and 7).
	FilterX int `json:"filter_x"`
	FilterH int `json:"filter_h"`
	// DropConnect is the rate at which the gates' weights are dropped while
	// training (reference: DropConnect with the dropout rate, 0.5).
	DropConnect float64 `json:"dropconnect"`
	// DiceWeight mixes a soft Dice loss into the cross-entropy:
	// (1-w)·CE + w·(1 - Dice). The reference's default is 0.
	DiceWeight float64 `json:"dice_weight"`
	// Optimizer is OptAdadelta (the reference's, learning rate 1, ρ 0.9)
	// or OptAdam.
	Optimizer string `json:"optimizer"`
	// LearningRate is the initial rate; Rho is Adadelta's ρ; Beta1 and
	// Beta2 are Adam's.
	LearningRate float64 `json:"learning_rate"`
	Rho          float64 `json:"rho"`
	Beta1        float64 `json:"beta1"`
	Beta2        float64 `json:"beta2"`
	// DecayFrom is the fraction of the steps after which the learning rate
	// decays linearly to 0 (the toolkit's schedule, as the U-Net's).
	DecayFrom float64 `json:"decay_from"`
	// Batch is the number of slices per step (paper: 4).
	Batch int `json:"batch"`
	// PathologicalFraction of each batch is drawn from pathological slices.
	PathologicalFraction float64 `json:"pathological_fraction"`
	// Augment applies the paper's augmentation to image and label together.
	Augment bool `json:"augment"`
	// Seed drives initialisation, DropConnect and batch sampling.
	Seed uint64 `json:"seed"`
	// Threshold turns probabilities into masks for evaluation.
	Threshold float64 `json:"threshold"`
}

// Presets have the names and image sizes of PathoGAN's presets. paper is
// the reference network and training. The smaller ones, for the CPU, halve
// (small) or quarter (mini, tiny) its widths, as the U-Net's presets narrow
// it, use kernels of 5 (small) and 3 (mini, tiny), and train with Adam at
// the U-Net's rate: Adadelta at rate 1 starts with steps of about 1e-4 and
// learns too slowly for runs of a few thousand steps (docs/model.md, "Other
// measurements behind defaults").
var Presets = map[string]func() Config{
	"paper": func() Config { return withDefaults("paper", 240, []int{16, 32, 64}, []int{25, 45}, 7) },
	"small": func() Config { return withAdam(withDefaults("small", 64, []int{8, 16, 32}, []int{13, 23}, 5)) },
	"mini":  func() Config { return withAdam(withDefaults("mini", 32, []int{4, 8, 16}, []int{7, 12}, 3)) },
	"tiny":  func() Config { return withAdam(withDefaults("tiny", 32, []int{4, 8}, []int{7}, 3)) },
}

func withDefaults(name string, size int, hidden, fc []int, k int) Config {
	return Config{Model: ModelName, Preset: name, Size: size, Channels: data.NumModalities, Hidden: hidden, FC: fc,
		FilterX: k, FilterH: k, DropConnect: 0.5, Optimizer: OptAdadelta, LearningRate: 1, Rho: 0.9,
		Beta1: 0.9, Beta2: 0.999, DecayFrom: 0.5, Batch: 4, PathologicalFraction: 0.5, Augment: true,
		Seed: 1, Threshold: 0.5}
}

func withAdam(c Config) Config {
	c.Optimizer, c.LearningRate = OptAdam, 2e-3
	return c
}

// Preset returns the named preset, or an error listing the known names.
func Preset(name string) (Config, error) { return supervised.Preset(Presets, "MDGRU", name) }

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Model != ModelName:
		return fmt.Errorf("model %q: want %q", c.Model, ModelName)
	case c.Size < 2 || c.Channels < 1:
		return fmt.Errorf("size %d, channels %d: want size >= 2, channels >= 1", c.Size, c.Channels)
	case len(c.Hidden) < 1 || len(c.FC) != len(c.Hidden)-1:
		return fmt.Errorf("hidden %v, fc %v: want at least one MD-GRU layer and one fc width fewer than layers", c.Hidden, c.FC)
	case c.FilterX < 1 || c.FilterH < 1 || c.FilterX%2 == 0 || c.FilterH%2 == 0:
		return fmt.Errorf("filter_x %d, filter_h %d: want odd sizes >= 1", c.FilterX, c.FilterH)
	case c.DropConnect < 0 || c.DropConnect >= 1:
		return fmt.Errorf("dropconnect %g: want [0, 1)", c.DropConnect)
	case c.DiceWeight < 0 || c.DiceWeight > 1:
		return fmt.Errorf("dice_weight %g: want [0, 1]", c.DiceWeight)
	case c.Optimizer != OptAdadelta && c.Optimizer != OptAdam:
		return fmt.Errorf("optimizer %q: want %q or %q", c.Optimizer, OptAdadelta, OptAdam)
	case c.LearningRate <= 0 || c.Rho <= 0 || c.Rho >= 1 || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("learning rate %g, rho %g, betas (%g, %g): want lr > 0, rho in (0, 1), betas in [0, 1)", c.LearningRate, c.Rho, c.Beta1, c.Beta2)
	case c.DecayFrom < 0 || c.DecayFrom > 1:
		return fmt.Errorf("decay_from %g: want [0, 1]", c.DecayFrom)
	case c.Batch < 1:
		return fmt.Errorf("batch %d: want >= 1", c.Batch)
	case c.PathologicalFraction < 0 || c.PathologicalFraction > 1:
		return fmt.Errorf("pathological_fraction %g: want [0, 1]", c.PathologicalFraction)
	case c.Threshold <= 0 || c.Threshold >= 1:
		return fmt.Errorf("threshold %g: want (0, 1)", c.Threshold)
	}
	for _, w := range append(append([]int{}, c.Hidden...), c.FC...) {
		if w < 1 {
			return fmt.Errorf("hidden %v, fc %v: widths must be >= 1", c.Hidden, c.FC)
		}
	}
	return nil
}

// Set changes one setting by its JSON key ("learning_rate", "1e-4"), as
// PathoGAN's --set does.
func (c *Config) Set(key, value string) error { return supervised.Set(c, key, value) }

// ReadConfig reads a run folder's config.json, or returns found = false
// when it is not an MDGRU config.
func ReadConfig(path string) (Config, bool, error) {
	return supervised.ReadConfig[Config](path, ModelName)
}

// ApplySettings applies "key=value;key=value" overrides (the --set flag).
func (c *Config) ApplySettings(s string) error { return training.ApplySettings(s, c.Set) }

// LossNames are the terms a training step returns, in order.
var LossNames = []string{"loss", "ce", "dice"}

// Settings returns the training settings the supervised package needs.
func (c Config) Settings() supervised.Settings {
	return supervised.Settings{Model: ModelName, Preset: c.Preset, Size: c.Size, Channels: c.Channels, Batch: c.Batch,
		PathologicalFraction: c.PathologicalFraction, Augment: c.Augment, Seed: c.Seed,
		LearningRate: c.LearningRate, DecayFrom: c.DecayFrom, Threshold: c.Threshold}
}

// LossNames returns LossNames.
func (c Config) LossNames() []string { return LossNames }

// Losses builds Loss on the network's logits.
func (c Config) Losses(ctx *context.Context, x, y *graph.Node) []*graph.Node {
	total, ce, dice := Loss(c, Network(ctx, c, x), y)
	return []*graph.Node{total, ce, dice}
}

// Probability is the softmax's tumour entry.
func (c Config) Probability(ctx *context.Context, x *graph.Node) *graph.Node {
	return Probability(Network(ctx, c, x))
}

// NewOptimizer returns Adadelta or Adam, as configured.
func (c Config) NewOptimizer() optimizers.Interface {
	if c.Optimizer == OptAdam {
		return optimizers.Adam().Scope("optimizer_adam").LearningRate(c.LearningRate).
			Betas(c.Beta1, c.Beta2).Epsilon(1e-8).Done()
	}
	return Adadelta{Rho: c.Rho, Epsilon: 1e-8}
}

// SameNetwork reports whether other is an MDGRU of the same shape.
func (c Config) SameNetwork(other supervised.Model) error {
	o, ok := other.(Config)
	if !ok {
		return fmt.Errorf("not an MDGRU config")
	}
	if o.Size != c.Size || o.Channels != c.Channels || fmt.Sprint(o.Hidden, o.FC) != fmt.Sprint(c.Hidden, c.FC) ||
		o.FilterX != c.FilterX || o.FilterH != c.FilterH || o.Optimizer != c.Optimizer {
		return fmt.Errorf("network %dpx hidden %v fc %v filters %d/%d (%s), the trainer's %dpx hidden %v fc %v filters %d/%d (%s)",
			o.Size, o.Hidden, o.FC, o.FilterX, o.FilterH, o.Optimizer, c.Size, c.Hidden, c.FC, c.FilterX, c.FilterH, c.Optimizer)
	}
	return nil
}

// Decode is the supervised.Decoder of MDGRU checkpoints.
var Decode = supervised.DecodeAs[Config](ModelName, "an MDGRU")

// Train trains MDGRU on the training split of a prepared slice set with the
// toolkit's run conventions (see supervised.Train).
func Train(b backends.Backend, set *data.Set, cfg Config, runDir string, opt training.RunOptions, progress func(training.Progress)) (*supervised.Trainer, error) {
	return supervised.Train(b, set, cfg, Decode, runDir, opt, progress)
}

// Inference segments images with a trained MDGRU; Cfg is its config.
type Inference = supervised.Typed[Config]

// LoadInference loads MDGRU from a checkpoint file or the newest intact
// checkpoint of a run folder.
func LoadInference(b backends.Backend, path string) (*Inference, error) {
	return supervised.LoadTyped[Config](b, path, Decode)
}
