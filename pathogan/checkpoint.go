package pathogan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
)

// ModelName is the model name PathoGAN's checkpoints carry.
const ModelName = "pathogan"

// CheckpointsDir is the folder of a run that holds its checkpoints.
const CheckpointsDir = checkpoint.Dir

// SaveCheckpoint writes ctx's variables, the config, the step, the
// schedule's total steps and the image pools as one checkpoint file in dir
// (see package checkpoint), keeping the newest keep checkpoints (0: all).
func SaveCheckpoint(dir string, ctx *context.Context, cfg Config, step, total int, pools *poolState, keep int) (string, error) {
	h := checkpoint.Header{Step: step, Total: total, Model: ModelName}
	var err error
	if h.Config, err = json.Marshal(cfg); err != nil {
		return "", err
	}
	if pools != nil {
		if h.State, err = json.Marshal(pools); err != nil {
			return "", err
		}
	}
	return checkpoint.Save(dir, ctx, h, keep)
}

// headerConfig returns a PathoGAN checkpoint header's config, checked.
func headerConfig(path string, h *checkpoint.Header) (Config, error) {
	if h.Model != "" && h.Model != ModelName {
		return Config{}, fmt.Errorf("%s: a %q checkpoint, not a PathoGAN one", path, h.Model)
	}
	cfg, err := decodeConfig(h.Config)
	if err != nil {
		return Config{}, fmt.Errorf("%s: config: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// headerPools returns the image pools a checkpoint header carries (nil
// when none: exports, the first checkpoints' format). Only a resumed
// training needs them, and they are most of a training checkpoint's header,
// so inference does not decode them.
func headerPools(path string, h *checkpoint.Header) (*poolState, error) {
	if len(h.State) == 0 {
		return nil, nil
	}
	pools := &poolState{}
	if err := json.Unmarshal(h.State, pools); err != nil {
		return nil, fmt.Errorf("%s: pools: %w", path, err)
	}
	return pools, nil
}

// ReadCheckpointConfig returns the config and step stored in a checkpoint.
func ReadCheckpointConfig(path string) (Config, int, error) {
	h, err := checkpoint.ReadHeader(path)
	if err != nil {
		return Config{}, 0, err
	}
	cfg, err := headerConfig(path, h)
	return cfg, h.Step, err
}

// LoadCheckpoint reads a checkpoint into ctx: every stored variable is set
// (created when missing). It returns the config, the step and the pools.
// Nothing is set when the file is damaged or not a PathoGAN checkpoint.
func LoadCheckpoint(path string, ctx *context.Context) (Config, int, *poolState, error) {
	return loadCheckpoint(path, ctx, true)
}

// loadCheckpoint is LoadCheckpoint, decoding the pools only when withPools.
func loadCheckpoint(path string, ctx *context.Context, withPools bool) (Config, int, *poolState, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return Config{}, 0, nil, err
	}
	return fromFile(f, path, ctx, withPools)
}

// loadCheckpointBytes is LoadCheckpoint on a checkpoint in memory, without
// the pools.
func loadCheckpointBytes(b []byte, name string, ctx *context.Context) (Config, int, error) {
	f, err := checkpoint.ReadBytes(b, name)
	if err != nil {
		return Config{}, 0, err
	}
	cfg, step, _, err := fromFile(f, name, ctx, false)
	return cfg, step, err
}

// fromFile checks that a checkpoint read into memory is a valid PathoGAN
// one, then sets its variables in ctx; it decodes the pools when withPools.
func fromFile(f *checkpoint.File, name string, ctx *context.Context, withPools bool) (Config, int, *poolState, error) {
	cfg, err := headerConfig(name, f.Header)
	if err != nil {
		return Config{}, 0, nil, err
	}
	var pools *poolState
	if withPools {
		if pools, err = headerPools(name, f.Header); err != nil {
			return Config{}, 0, nil, err
		}
	}
	if err := f.Into(ctx); err != nil {
		return Config{}, 0, nil, err
	}
	return cfg, f.Header.Step, pools, nil
}

// Export writes the model's generators (ΓA, ∆B, EA, ZB; no discriminator,
// optimiser state or image pool) with its config and step to path as a
// checkpoint file, atomically: all inference needs, about a third of a
// training checkpoint. LoadInference reads it like any checkpoint.
func (m *Inference) Export(path string) error {
	h := checkpoint.Header{Step: m.Step, Model: ModelName}
	var err error
	if h.Config, err = json.Marshal(m.Cfg); err != nil {
		return err
	}
	return checkpoint.WriteFile(path, m.Ctx, h, func(v *context.Variable) bool {
		for _, s := range GeneratorScopes {
			if strings.HasPrefix(v.Scope(), "/"+s+"/") || v.Scope() == "/"+s {
				return true
			}
		}
		return false
	})
}
