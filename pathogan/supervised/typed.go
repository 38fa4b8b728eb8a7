package supervised

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// modelName reads the "model" key of a config's JSON.
func modelName(config []byte) (string, error) {
	var head struct {
		Model string `json:"model"`
	}
	err := json.Unmarshal(config, &head)
	return head.Model, err
}

// DecodeAs returns the Decoder of checkpoints whose model is name, into
// config type M; title names the model in errors ("a U-Net", "an MDGRU").
func DecodeAs[M Model](name, title string) Decoder {
	return func(model string, config []byte) (Model, error) {
		if model != name {
			return nil, fmt.Errorf("not %s checkpoint (model %q)", title, model)
		}
		var cfg M
		if err := json.Unmarshal(config, &cfg); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return cfg, nil
	}
}

// ReadConfig reads a run folder's config.json into M, or returns found =
// false when it is another model's (its "model" is not name).
func ReadConfig[M Model](path, name string) (cfg M, found bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, false, err
	}
	model, err := modelName(b)
	if err == nil && model == name {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		return cfg, false, fmt.Errorf("%s: %w", path, err)
	}
	if model != name {
		return cfg, false, nil
	}
	return cfg, true, cfg.Validate()
}

// Set changes one setting of cfg by its JSON key ("learning_rate",
// "1e-4"), as PathoGAN's --set does; the model name cannot be changed.
func Set(cfg any, key, value string) error {
	if key == "model" {
		return fmt.Errorf("setting %q cannot be changed", key)
	}
	return training.SetField(cfg, key, value)
}

// Typed is an Inference with its config as the model's own type.
type Typed[M Model] struct {
	*Inference
	// Cfg is the loaded network's config.
	Cfg M
}

// LoadTyped loads a baseline of config type M (see LoadInference).
func LoadTyped[M Model](b backends.Backend, path string, decode Decoder) (*Typed[M], error) {
	m, err := LoadInference(b, path, decode)
	if err != nil {
		return nil, err
	}
	cfg, ok := m.Model.(M)
	if !ok {
		return nil, fmt.Errorf("%s: config of type %T, want %T", m.Path, m.Model, cfg)
	}
	return &Typed[M]{Inference: m, Cfg: cfg}, nil
}

// Preset returns the named preset of presets, or an error naming the model
// (title, "U-Net") and listing the known names.
func Preset[M any](presets map[string]func() M, title, name string) (M, error) {
	f, ok := presets[name]
	if !ok {
		var zero M
		names := make([]string, 0, len(presets))
		for n := range presets {
			names = append(names, n)
		}
		sort.Strings(names)
		return zero, fmt.Errorf("unknown %s preset %q (known: %s)", title, name, strings.Join(names, ", "))
	}
	return f(), nil
}
