package unet

import (
	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/pathogan/supervised"
)

// Inference segments images with a trained U-Net. It is safe for
// concurrent use.
type Inference struct {
	*supervised.Inference
	// Cfg is the loaded network's config.
	Cfg Config
}

// LoadInference loads the baseline from a checkpoint file or the newest
// intact checkpoint of a run folder (see checkpoint.Find).
func LoadInference(b backends.Backend, path string) (*Inference, error) {
	m, err := supervised.LoadInference(b, path, Decode)
	if err != nil {
		return nil, err
	}
	return &Inference{Inference: m, Cfg: m.Model.(Config)}, nil
}
