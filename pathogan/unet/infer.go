package unet

import (
	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/pathogan/supervised"
)

// Inference segments images with a trained U-Net; Cfg is its config. It is
// safe for concurrent use.
type Inference = supervised.Typed[Config]

// LoadInference loads the baseline from a checkpoint file or the newest
// intact checkpoint of a run folder (see checkpoint.Find).
func LoadInference(b backends.Backend, path string) (*Inference, error) {
	return supervised.LoadTyped[Config](b, path, Decode)
}
