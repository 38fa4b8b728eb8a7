// Package unet is a fully supervised baseline that PathoGAN is compared
// with: a U-Net trained on the pixel labels (whole tumour) of the same
// training slices. The paper's own comparator, MDGRU, is package mdgru.
//
// The network: Depth levels of two 3×3 convolutions (instance norm, ELU),
// each followed by a stride-2 3×3 convolution; a bottleneck block; Depth
// levels of a transposed convolution, concatenation with the skip
// connection and two 3×3 convolutions; a 1×1 convolution to one logit per
// pixel. The loss is binary cross-entropy plus DiceWeight·(1 - soft Dice).
// Runs follow PathoGAN's conventions through package supervised.
package unet

import (
	"fmt"

	"github.com/pathogan-go/pathogan/pathogan/supervised"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// ModelName is the model name the baseline's checkpoints and run configs carry.
const ModelName = "unet"

// Config holds the baseline's shape and training settings.
type Config struct {
	// Model is always ModelName; it tells a run folder's config.json apart
	// from PathoGAN's.
	Model string `json:"model"`
	// Preset is the name of the preset the config started from.
	Preset string `json:"preset"`
	// Size is the image height and width; a multiple of 2^Depth.
	Size int `json:"size"`
	// Channels is the number of image channels (4: FLAIR, T1, T1CE, T2).
	Channels int `json:"channels"`
	// Base is the width of the first level; level l has Base·2^l channels.
	Base int `json:"base"`
	// Depth is the number of downsamplings.
	Depth int `json:"depth"`
	// DiceWeight weights the soft Dice loss added to the cross-entropy.
	DiceWeight float64 `json:"dice_weight"`
	// PathologicalFraction of each batch is drawn from pathological slices,
	// the rest from healthy ones (empty labels).
	PathologicalFraction float64 `json:"pathological_fraction"`

	// LearningRate, Beta1 and Beta2 configure Adam.
	LearningRate float64 `json:"learning_rate"`
	Beta1        float64 `json:"beta1"`
	Beta2        float64 `json:"beta2"`
	// DecayFrom is the fraction of the steps after which the learning rate
	// decays linearly to 0 (as PathoGAN's schedule).
	DecayFrom float64 `json:"decay_from"`
	// Batch is the number of slices per step (paper: 4 for MDGRU).
	Batch int `json:"batch"`
	// Augment applies the paper's augmentation (section 2.5) to image and
	// label together.
	Augment bool `json:"augment"`
	// Seed drives initialisation and batch sampling.
	Seed uint64 `json:"seed"`
	// Threshold turns probabilities into masks for evaluation.
	Threshold float64 `json:"threshold"`
}

// Presets have the names and image sizes of PathoGAN's presets, so that one
// preset name configures both models of a comparison.
var Presets = map[string]func() Config{
	"paper": func() Config { return withDefaults("paper", 240, 32, 4) },
	"small": func() Config { return withDefaults("small", 64, 16, 3) },
	"mini":  func() Config { return withDefaults("mini", 32, 8, 3) },
	"tiny":  func() Config { return withDefaults("tiny", 32, 4, 2) },
}

func withDefaults(name string, size, base, depth int) Config {
	return Config{Model: ModelName, Preset: name, Size: size, Channels: 4, Base: base, Depth: depth,
		DiceWeight: 1, PathologicalFraction: 0.5, LearningRate: 2e-3, Beta1: 0.9, Beta2: 0.999,
		DecayFrom: 0.5, Batch: 4, Augment: true, Seed: 1, Threshold: 0.5}
}

// Preset returns the named preset, or an error listing the known names.
func Preset(name string) (Config, error) { return supervised.Preset(Presets, "U-Net", name) }

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Model != ModelName:
		return fmt.Errorf("model %q: want %q", c.Model, ModelName)
	case c.Depth < 1 || c.Size < 1 || c.Size%(1<<c.Depth) != 0:
		return fmt.Errorf("size %d, depth %d: the size must be a positive multiple of 2^depth", c.Size, c.Depth)
	case c.Channels < 1 || c.Base < 1:
		return fmt.Errorf("channels %d, base %d: want >= 1", c.Channels, c.Base)
	case c.Batch < 1:
		return fmt.Errorf("batch %d: want >= 1", c.Batch)
	case c.LearningRate <= 0 || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("learning rate %g, betas (%g, %g): want lr > 0 and betas in [0, 1)", c.LearningRate, c.Beta1, c.Beta2)
	case c.DecayFrom < 0 || c.DecayFrom > 1:
		return fmt.Errorf("decay_from %g: want [0, 1]", c.DecayFrom)
	case c.PathologicalFraction < 0 || c.PathologicalFraction > 1:
		return fmt.Errorf("pathological_fraction %g: want [0, 1]", c.PathologicalFraction)
	case c.DiceWeight < 0:
		return fmt.Errorf("dice_weight %g: want >= 0", c.DiceWeight)
	case c.Threshold <= 0 || c.Threshold >= 1:
		return fmt.Errorf("threshold %g: want (0, 1)", c.Threshold)
	}
	return nil
}

// Set changes one setting by its JSON key ("learning_rate", "1e-4"), as
// PathoGAN's --set does.
func (c *Config) Set(key, value string) error { return supervised.Set(c, key, value) }

// ReadConfig reads a run folder's config.json, or returns found = false
// when it is not a U-Net config.
func ReadConfig(path string) (Config, bool, error) {
	return supervised.ReadConfig[Config](path, ModelName)
}

// ApplySettings applies "key=value;key=value" overrides (the --set flag).
func (c *Config) ApplySettings(s string) error { return training.ApplySettings(s, c.Set) }
