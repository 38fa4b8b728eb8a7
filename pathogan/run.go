package pathogan

import (
	"fmt"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/augment"
	"github.com/pathogan-go/pathogan/pathogan/runlog"
	"github.com/pathogan-go/pathogan/pathogan/training"
)

// Train trains PathoGAN on the training split of a prepared slice set:
// healthy and pathological batches are drawn independently (unpaired),
// augmented as in section 2.5 when cfg.Augment is set, and fed to
// Trainer.Step by the shared step loop (training.Loop). It writes
// runDir/config.json, appends every step's losses to runDir/losses.csv and
// saves checkpoints in runDir/checkpoints. A NaN or infinite loss stops
// training with an error that names the step and the term; the newest
// checkpoint on disk is then the last good state. progress, if not nil, is
// called after every step.
func Train(b backends.Backend, set *data.Set, cfg Config, runDir string, opt training.RunOptions, progress func(training.Progress)) (*Trainer, error) {
	run, err := training.OpenRun(runDir, ModelName, &opt)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	latest := run.Latest
	if latest != "" {
		// The checkpoint describes the networks being resumed: it must be
		// the run's and the one asked for.
		ckpt, err := headerConfig(latest, run.Header)
		if err != nil {
			return nil, err
		}
		if err := run.MatchConfig(ckpt, cfg); err != nil {
			return nil, err
		}
		cfg = ckpt
	}
	if err := training.CheckSetShape(set, cfg.Preset, cfg.Size, cfg.Channels); err != nil {
		return nil, err
	}
	healthy, patho := set.Select(data.Train, data.Healthy), set.Select(data.Train, data.Pathological)
	if len(healthy) == 0 || len(patho) == 0 {
		return nil, fmt.Errorf("slice set %s: the training split has %d healthy and %d pathological slices; both are needed", set.Dir, len(healthy), len(patho))
	}
	if err := training.WriteRunConfig(runDir, cfg); err != nil {
		return nil, err
	}
	tr, err := NewTrainer(b, cfg, opt.Steps)
	if err != nil {
		return nil, err
	}
	if latest != "" {
		if err := tr.Load(latest); err != nil {
			return nil, err
		}
	}
	hist, err := runlog.Open(filepath.Join(runDir, training.HistoryFile), LossNames, tr.Done)
	if err != nil {
		return nil, err
	}
	defer hist.Close()

	var aug *augment.Config
	if cfg.Augment {
		a := augment.DefaultConfig()
		aug = &a
	}
	n := cfg.Batch * cfg.Size * cfg.Size * cfg.Channels
	s := &stepper{tr: tr, set: set, healthy: healthy, patho: patho, aug: aug, ckptDir: run.CkptDir, keep: opt.Keep,
		xA: make([]float32, n), xB: make([]float32, n)}
	err = training.Loop(opt, hist, latest, s, progress)
	return tr, err
}

// stepper drives a Trainer from training.Loop: each step draws an unpaired
// healthy and pathological batch from the training split, with the step's
// own random source so that a resumed run draws what an uninterrupted one
// would have.
type stepper struct {
	tr             *Trainer
	set            *data.Set
	healthy, patho []int
	aug            *augment.Config
	ckptDir        string
	keep           int
	xA, xB         []float32
}

func (s *stepper) Done() int                     { return s.tr.Done }
func (s *stepper) LearningRate(step int) float64 { return s.tr.learningRate(step) }
func (s *stepper) Save() (string, error)         { return s.tr.Save(s.ckptDir, s.keep) }

// seedPathological is mixed into a step's seed for the pathological
// sampler, so that it draws independently of the healthy one.
const seedPathological = 0xb

func (s *stepper) Step() ([]float64, error) {
	cfg := s.tr.Cfg
	seed := training.StepRand(cfg.Seed, s.tr.Done).Uint64()
	sa, err := s.set.NewSampler(s.healthy, seed, s.aug)
	if err != nil {
		return nil, err
	}
	sb, err := s.set.NewSampler(s.patho, seed^seedPathological, s.aug)
	if err != nil {
		return nil, err
	}
	if _, err := sa.Next(cfg.Batch, s.xA, nil); err != nil {
		return nil, err
	}
	if _, err := sb.Next(cfg.Batch, s.xB, nil); err != nil {
		return nil, err
	}
	return s.tr.Step(s.xA, s.xB)
}
