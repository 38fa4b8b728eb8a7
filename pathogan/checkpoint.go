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

// decodeHeader returns a PathoGAN checkpoint header's config and pools.
func decodeHeader(path string, h *checkpoint.Header) (Config, *poolState, error) {
	if h.Model != "" && h.Model != ModelName {
		return Config{}, nil, fmt.Errorf("%s: a %q checkpoint, not a PathoGAN one", path, h.Model)
	}
	cfg, err := decodeConfig(h.Config)
	if err != nil {
		return Config{}, nil, fmt.Errorf("%s: config: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	var pools *poolState
	if len(h.State) > 0 {
		pools = &poolState{}
		if err := json.Unmarshal(h.State, pools); err != nil {
			return Config{}, nil, fmt.Errorf("%s: pools: %w", path, err)
		}
	}
	return cfg, pools, nil
}

// ReadCheckpointConfig returns the config and step stored in a checkpoint.
func ReadCheckpointConfig(path string) (Config, int, error) {
	h, err := checkpoint.ReadHeader(path)
	if err != nil {
		return Config{}, 0, err
	}
	cfg, _, err := decodeHeader(path, h)
	return cfg, h.Step, err
}

// LoadCheckpoint reads a checkpoint into ctx: every stored variable is set
// (created when missing). It returns the config, the step and the pools.
func LoadCheckpoint(path string, ctx *context.Context) (Config, int, *poolState, error) {
	h, err := checkpoint.ReadHeader(path)
	if err != nil {
		return Config{}, 0, nil, err
	}
	cfg, _, err := decodeHeader(path, h)
	if err != nil {
		return Config{}, 0, nil, err
	}
	if h, err = checkpoint.Load(path, ctx); err != nil {
		return Config{}, 0, nil, err
	}
	_, pools, err := decodeHeader(path, h)
	return cfg, h.Step, pools, err
}

// loadCheckpointBytes is LoadCheckpoint on a checkpoint in memory.
func loadCheckpointBytes(b []byte, name string, ctx *context.Context) (Config, int, error) {
	h, err := checkpoint.LoadBytes(b, name, ctx)
	if err != nil {
		return Config{}, 0, err
	}
	cfg, _, err := decodeHeader(name, h)
	return cfg, h.Step, err
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
