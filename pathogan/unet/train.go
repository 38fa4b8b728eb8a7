package unet

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/supervised"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// LossNames are the terms a training step returns, in order.
var LossNames = []string{"loss", "bce", "dice"}

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
	total, bce, dice := Loss(c, Network(ctx, c, x), y)
	return []*graph.Node{total, bce, dice}
}

// Probability is the sigmoid of the network's logit.
func (c Config) Probability(ctx *context.Context, x *graph.Node) *graph.Node {
	return graph.Sigmoid(Network(ctx, c, x))
}

// NewOptimizer is Adam with the config's betas.
func (c Config) NewOptimizer() optimizers.Interface {
	return optimizers.Adam().Scope("optimizer_adam").LearningRate(c.LearningRate).
		Betas(c.Beta1, c.Beta2).Epsilon(1e-8).Done()
}

// SameNetwork reports whether other is a U-Net of the same shape.
func (c Config) SameNetwork(other supervised.Model) error {
	o, ok := other.(Config)
	if !ok {
		return fmt.Errorf("not a U-Net config")
	}
	if o.Size != c.Size || o.Base != c.Base || o.Depth != c.Depth || o.Channels != c.Channels {
		return fmt.Errorf("network %dpx base %d depth %d, the trainer's %dpx base %d depth %d",
			o.Size, o.Base, o.Depth, c.Size, c.Base, c.Depth)
	}
	return nil
}

// Decode is the supervised.Decoder of U-Net checkpoints.
var Decode = supervised.DecodeAs[Config](ModelName, "a U-Net")

// Trainer runs the baseline's training step (see supervised.Trainer).
type Trainer = supervised.Trainer

// NewTrainer prepares training for total steps on backend b.
func NewTrainer(b backends.Backend, cfg Config, total int) (*Trainer, error) {
	return supervised.NewTrainer(b, cfg, total)
}

// ReadCheckpointConfig returns a U-Net checkpoint's config and step.
func ReadCheckpointConfig(path string) (Config, int, error) {
	m, step, err := supervised.ReadCheckpoint(path, Decode)
	if err != nil {
		return Config{}, 0, err
	}
	return m.(Config), step, nil
}

// Train trains the baseline on the training split of a prepared slice set
// with PathoGAN's run conventions (see supervised.Train).
func Train(b backends.Backend, set *data.Set, cfg Config, runDir string, opt training.RunOptions, progress func(training.Progress)) (*Trainer, error) {
	return supervised.Train(b, set, cfg, Decode, runDir, opt, progress)
}
