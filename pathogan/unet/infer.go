package unet

import (
	"fmt"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
)

// Inference segments images with a trained baseline. It is safe for
// concurrent use.
type Inference struct {
	Cfg     Config
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

// LoadInference loads the baseline from a checkpoint file or the newest
// intact checkpoint of a run folder (see checkpoint.Find).
func LoadInference(b backends.Backend, path string) (*Inference, error) {
	path, skipped, err := checkpoint.Find(path)
	if err != nil {
		return nil, err
	}
	cfg, _, err := ReadCheckpointConfig(path)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	h, err := checkpoint.Load(path, ctx)
	if err != nil {
		return nil, err
	}
	return &Inference{Cfg: cfg, Backend: b, Ctx: ctx, Step: h.Step, Path: path, Skipped: skipped}, nil
}

// Segment returns the tumour probability of every pixel, [n][size][size],
// for images x [n][size][size][channels].
func (m *Inference) Segment(x []float32) ([]float32, error) {
	c := m.Cfg
	per := c.Size * c.Size * c.Channels
	if len(x) == 0 || len(x)%per != 0 {
		return nil, fmt.Errorf("segment: %d values is not a whole number of %dx%dx%d images", len(x), c.Size, c.Size, c.Channels)
	}
	m.mu.Lock()
	if m.exec == nil {
		e, err := context.NewExec(m.Backend, m.Ctx.Reuse(), func(ctx *context.Context, x *graph.Node) *graph.Node {
			return graph.Sigmoid(Network(ctx, m.Cfg, x))
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
