package pathogan

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
)

// Inference runs a trained PathoGAN at test time (ε = 0, encodings at their
// means): segmentation, healthy inpainting, translation both ways, encoding,
// decoding and sampling of pathologies. Images are float32 in NHWC order,
// [n][size][size][channels]; labelmaps are [n][size][size]. It is safe for
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

	mu    sync.Mutex
	execs map[string]*context.Exec
}

// Translation is a generator's output at test time.
type Translation struct {
	// Labelmap is lX, [n][h][w] in [0, 1].
	Labelmap []float32
	// Inpainting is pX, [n][h][w][c].
	Inpainting []float32
	// Output is ŷY = lX ⊙ pX + (1 - lX) ⊙ xX, [n][h][w][c].
	Output []float32
}

// LoadInference loads a model from a checkpoint file, or from the newest
// intact checkpoint of a folder (a run's checkpoints folder or the run
// folder; see checkpoint.Find). When the checkpoint holds moving averages
// of the generators' weights (Config.EMADecay), the model uses them.
func LoadInference(b backends.Backend, path string) (*Inference, error) {
	path, skipped, err := checkpoint.Find(path)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	cfg, step, _, err := loadCheckpoint(path, ctx, false)
	if err != nil {
		return nil, err
	}
	if _, err := useAverages(ctx, cfg.EMADecay); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Inference{Cfg: cfg, Backend: b, Ctx: ctx, Step: step, Path: path, Skipped: skipped, execs: map[string]*context.Exec{}}, nil
}

// LoadInferenceBytes is LoadInference on a checkpoint held in memory (an
// embedded model); name stands for the file in errors.
func LoadInferenceBytes(b backends.Backend, raw []byte, name string) (*Inference, error) {
	ctx := context.New()
	cfg, step, err := loadCheckpointBytes(raw, name, ctx)
	if err != nil {
		return nil, err
	}
	if _, err := useAverages(ctx, cfg.EMADecay); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Inference{Cfg: cfg, Backend: b, Ctx: ctx, Step: step, execs: map[string]*context.Exec{}}, nil
}

// run builds (once per name) and runs a graph on the model's variables.
func (m *Inference) run(name string, fn func(ctx *context.Context, in []*graph.Node) []*graph.Node, args ...*tensors.Tensor) ([]*tensors.Tensor, error) {
	m.mu.Lock()
	e, ok := m.execs[name]
	if !ok {
		var err error
		e, err = context.NewExec(m.Backend, m.Ctx.Reuse(), fn)
		if err != nil {
			m.mu.Unlock()
			return nil, err
		}
		m.execs[name] = e
	}
	m.mu.Unlock()
	in := make([]any, len(args))
	for i, a := range args {
		in[i] = a
	}
	return e.Exec(in...)
}

// images checks a batch of images and returns it as a tensor and its count.
func (m *Inference) images(x []float32) (*tensors.Tensor, int, error) {
	c := m.Cfg
	per := c.Size * c.Size * c.Channels
	if len(x) == 0 || len(x)%per != 0 {
		return nil, 0, fmt.Errorf("images: %d values is not a whole number of %dx%dx%d images", len(x), c.Size, c.Size, c.Channels)
	}
	n := len(x) / per
	return tensors.FromFlatDataAndDimensions(x, n, c.Size, c.Size, c.Channels), n, nil
}

func (m *Inference) vectors(v []float32, n int) (*tensors.Tensor, error) {
	if len(v) != n*m.Cfg.Z {
		return nil, fmt.Errorf("encodings: %d values for %d images of z = %d", len(v), n, m.Cfg.Z)
	}
	return tensors.FromFlatDataAndDimensions(v, n, m.Cfg.Z), nil
}

func translationOf(out []*tensors.Tensor) Translation {
	return Translation{
		Labelmap:   tensors.MustCopyFlatData[float32](out[0]),
		Inpainting: tensors.MustCopyFlatData[float32](out[1]),
		Output:     tensors.MustCopyFlatData[float32](out[2]),
	}
}

func genNodes(g Generated) []*graph.Node { return []*graph.Node{g.Labelmap, g.Inpainting, g.Output} }

// ToHealthy runs GB on pathological images: the labelmap l̂B segments the
// pathology, the output ŷA is the healthy inpainting.
func (m *Inference) ToHealthy(x []float32) (Translation, error) {
	t, _, err := m.images(x)
	if err != nil {
		return Translation{}, err
	}
	out, err := m.run("to_healthy", func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		return genNodes(NewModel(ctx, m.Cfg).GeneratorB(in[0], false))
	}, t)
	if err != nil {
		return Translation{}, err
	}
	return translationOf(out), nil
}

// Segment returns the labelmaps l̂B (probabilities, ε = 0) of images.
func (m *Inference) Segment(x []float32) ([]float32, error) {
	tr, err := m.ToHealthy(x)
	return tr.Labelmap, err
}

// Inpaint returns the healthy versions ŷA of pathological images.
func (m *Inference) Inpaint(x []float32) ([]float32, error) {
	tr, err := m.ToHealthy(x)
	return tr.Output, err
}

// ToPathological runs GA on healthy images with the given pathology codes
// δB ([n][z]); γA is ΓA's mean.
func (m *Inference) ToPathological(x, delta []float32) (Translation, error) {
	t, n, err := m.images(x)
	if err != nil {
		return Translation{}, err
	}
	d, err := m.vectors(delta, n)
	if err != nil {
		return Translation{}, err
	}
	out, err := m.run("to_pathological", func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		g, _, _ := NewModel(ctx, m.Cfg).GeneratorA(in[0], in[1], false)
		return genNodes(g)
	}, t, d)
	if err != nil {
		return Translation{}, err
	}
	return translationOf(out), nil
}

// EncodeGamma returns ΓA's mean and log-variance for images ([n][z] each).
func (m *Inference) EncodeGamma(x []float32) (mean, logVar []float32, err error) {
	t, _, err := m.images(x)
	if err != nil {
		return nil, nil, err
	}
	out, err := m.run("encode_gamma", func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		mu, lv := NewModel(ctx, m.Cfg).EncodeGammaA(in[0])
		return []*graph.Node{mu, lv}
	}, t)
	if err != nil {
		return nil, nil, err
	}
	return tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]), nil
}

// EncodeDelta returns ∆B's mean and log-variance for pathological images,
// encoding the pathology that GB segments: δB = ∆B(l̂B ⊙ xB).
func (m *Inference) EncodeDelta(x []float32) (mean, logVar []float32, err error) {
	t, _, err := m.images(x)
	if err != nil {
		return nil, nil, err
	}
	out, err := m.run("encode_delta", func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		model := NewModel(ctx, m.Cfg)
		l := model.GeneratorB(in[0], false).Labelmap
		mu, lv := model.EncodeDeltaB(l, in[0])
		return []*graph.Node{mu, lv}
	}, t)
	if err != nil {
		return nil, nil, err
	}
	return tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]), nil
}

// Decode runs EA on given codes γA and δB ([n][z] each) and composes the
// result with images x: GA with its encodings chosen by hand.
func (m *Inference) Decode(x, gamma, delta []float32) (Translation, error) {
	t, n, err := m.images(x)
	if err != nil {
		return Translation{}, err
	}
	g, err := m.vectors(gamma, n)
	if err != nil {
		return Translation{}, err
	}
	d, err := m.vectors(delta, n)
	if err != nil {
		return Translation{}, err
	}
	out, err := m.run("decode", func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		return genNodes(NewModel(ctx, m.Cfg).DecodeA(in[0], in[1], in[2], false))
	}, t, g, d)
	if err != nil {
		return Translation{}, err
	}
	return translationOf(out), nil
}

// saltDeltas is the second word of SampleDeltas' random stream, so its codes
// are independent of other streams drawn from the same seed.
const saltDeltas = 0xde17a

// SampleDeltas draws n pathology codes δB ~ N(0, I), [n][z], from seed.
func (m *Inference) SampleDeltas(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, saltDeltas))
	d := make([]float32, n*m.Cfg.Z)
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return d
}

// SamplePathologies draws n codes δB ~ N(0, I) and adds each to the one
// healthy image x: n pathological versions of the same anatomy.
func (m *Inference) SamplePathologies(x []float32, n int, seed uint64) (Translation, error) {
	per := m.Cfg.Size * m.Cfg.Size * m.Cfg.Channels
	if len(x) != per {
		return Translation{}, fmt.Errorf("SamplePathologies: want one %dx%dx%d image, got %d values", m.Cfg.Size, m.Cfg.Size, m.Cfg.Channels, len(x))
	}
	xs := make([]float32, 0, n*per)
	for range n {
		xs = append(xs, x...)
	}
	return m.ToPathological(xs, m.SampleDeltas(n, seed))
}
