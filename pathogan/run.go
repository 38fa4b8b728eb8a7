package pathogan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/augment"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/runlog"
)

// Files of a run folder.
const (
	ConfigFile  = "config.json"   // the Config the run trains with
	HistoryFile = runlog.FileName // step,lr,seconds, then one column per LossNames term
)

// RunOptions control a training run.
type RunOptions struct {
	// Steps is the total number of training steps (the learning-rate schedule
	// spans them).
	Steps int
	// CheckpointEvery saves a checkpoint every so many steps (and at the end).
	CheckpointEvery int
	// Keep is the number of checkpoints kept (0: all).
	Keep int
	// Resume continues from the newest checkpoint in the run folder; without
	// it, a run folder that already has checkpoints is an error.
	Resume bool
}

// Progress is what Train reports after each step.
type Progress struct {
	Step, Total int
	// Losses are the step's loss terms in LossNames order; Smoothed their
	// exponential moving averages (over about 20 steps).
	Losses, Smoothed []float64
	// StepTime is the wall time of the step.
	StepTime time.Duration
	// Checkpoint is the path saved after this step, if any.
	Checkpoint string
}

// Train trains PathoGAN on the training split of a prepared slice set:
// healthy and pathological batches are drawn independently (unpaired),
// augmented as in section 2.5 when cfg.Augment is set, and fed to
// Trainer.Step. It writes runDir/config.json, appends every step's losses to
// runDir/losses.csv and saves checkpoints in runDir/checkpoints. A NaN or
// infinite loss stops training with an error that names the step and the
// term; the newest checkpoint on disk is then the last good state.
// progress, if not nil, is called after every step.
func Train(b backends.Backend, set *data.Set, cfg Config, runDir string, opt RunOptions, progress func(Progress)) (*Trainer, error) {
	ckptDir, latest, err := StartRun(runDir, &opt)
	if err != nil {
		return nil, err
	}
	if latest != "" {
		// The checkpoint's config wins: it describes the networks being resumed.
		if cfg, _, err = ReadCheckpointConfig(latest); err != nil {
			return nil, err
		}
	}
	if err := CheckSetShape(set, cfg.Preset, cfg.Size, cfg.Channels); err != nil {
		return nil, err
	}
	healthy, patho := set.Select(data.Train, data.Healthy), set.Select(data.Train, data.Pathological)
	if len(healthy) == 0 || len(patho) == 0 {
		return nil, fmt.Errorf("slice set %s: the training split has %d healthy and %d pathological slices; both are needed", set.Dir, len(healthy), len(patho))
	}
	if err := WriteRunConfig(runDir, cfg); err != nil {
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
	hist, err := runlog.Open(filepath.Join(runDir, HistoryFile), LossNames, tr.Done)
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
	xA, xB := make([]float32, n), make([]float32, n)
	err = RunSteps(opt, hist, latest, &tr.Done, tr.learningRate, func() ([]float64, error) {
		seed := StepRand(cfg.Seed, tr.Done).Uint64()
		sa, err := set.NewSampler(healthy, seed, aug)
		if err != nil {
			return nil, err
		}
		sb, err := set.NewSampler(patho, seed^0xb, aug)
		if err != nil {
			return nil, err
		}
		if _, err := sa.Next(cfg.Batch, xA, nil); err != nil {
			return nil, err
		}
		if _, err := sb.Next(cfg.Batch, xB, nil); err != nil {
			return nil, err
		}
		return tr.Step(xA, xB)
	}, func() (string, error) { return tr.Save(ckptDir, opt.Keep) }, progress)
	return tr, err
}

// CheckSetShape reports a slice set whose slices are not size×size×channels,
// the shape the named config needs, with the prepare flag that fixes it.
func CheckSetShape(set *data.Set, config string, size, channels int) error {
	if set.Height != size || set.Width != size || set.Channels != channels {
		return fmt.Errorf("slice set %s holds %dx%dx%d slices, the %q config needs %dx%dx%d: prepare it with --size %d",
			set.Dir, set.Height, set.Width, set.Channels, config, size, size, channels, size)
	}
	return nil
}

// StartRun checks a run folder before training (PathoGAN's and the U-Net's):
// it fills in opt's defaults and returns the checkpoints folder and its
// newest checkpoint ("" when none), or an error when there is one and
// opt.Resume is off. It creates nothing.
func StartRun(runDir string, opt *RunOptions) (ckptDir, latest string, err error) {
	if opt.Steps < 1 {
		return "", "", fmt.Errorf("steps %d: want >= 1", opt.Steps)
	}
	if opt.CheckpointEvery < 1 {
		opt.CheckpointEvery = max(1, opt.Steps/10)
	}
	ckptDir = filepath.Join(runDir, checkpoint.Dir)
	if latest, err = checkpoint.Latest(ckptDir); err != nil {
		return "", "", err
	}
	if latest != "" && !opt.Resume {
		return "", "", fmt.Errorf("%s already has checkpoints (newest %s): resume it, or train into a new folder", runDir, filepath.Base(latest))
	}
	return ckptDir, latest, nil
}

// WriteRunConfig creates runDir's checkpoints folder and writes cfg (any
// JSON-encodable config) as runDir/config.json; training calls it once the
// config and the data have been checked.
func WriteRunConfig(runDir string, cfg any) error {
	if err := os.MkdirAll(filepath.Join(runDir, checkpoint.Dir), 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(runDir, ConfigFile), append(js, '\n'), 0o644)
}

// RunSteps is the training loop PathoGAN's Train and the U-Net's share. While
// *done < opt.Steps it calls step (which draws a batch, trains on it and
// increments *done), appends the losses to hist (with lr(step - 1), the rate
// the step used), keeps moving averages, saves through save every
// opt.CheckpointEvery steps and at the last, and reports to progress. A
// non-finite loss (ErrNotFinite) stops it with an error naming the last good
// checkpoint (lastCkpt before any save). It flushes hist before each save and
// at the end.
func RunSteps(opt RunOptions, hist *runlog.History, lastCkpt string, done *int, lr func(step int) float64,
	step func() ([]float64, error), save func() (string, error), progress func(Progress)) error {
	var smoothed []float64
	for *done < opt.Steps {
		start := time.Now()
		losses, err := step()
		if err != nil {
			if errors.Is(err, ErrNotFinite) {
				where := "no checkpoint was saved yet"
				if lastCkpt != "" {
					where = "the last good checkpoint is " + lastCkpt
				}
				return fmt.Errorf("training stopped: %w; %s", err, where)
			}
			return err
		}
		elapsed := time.Since(start)
		if smoothed == nil {
			smoothed = make([]float64, len(losses))
		}
		for i, v := range losses {
			if *done == 1 || smoothed[i] == 0 {
				smoothed[i] = v
			} else {
				smoothed[i] = 0.95*smoothed[i] + 0.05*v
			}
		}
		if err := hist.Add(*done, lr(*done-1), elapsed, losses); err != nil {
			return err
		}
		p := Progress{Step: *done, Total: opt.Steps, Losses: losses, Smoothed: smoothed, StepTime: elapsed}
		if *done%opt.CheckpointEvery == 0 || *done == opt.Steps {
			if err := hist.Flush(); err != nil {
				return err
			}
			if p.Checkpoint, err = save(); err != nil {
				return err
			}
			lastCkpt = p.Checkpoint
		}
		if progress != nil {
			progress(p)
		}
	}
	return hist.Flush()
}

// SegmentationScore holds the per-slice Dice of an evaluation.
type SegmentationScore struct {
	// Dice is the per-slice Dice, in the order of the slices evaluated (NaN
	// where prediction and truth are both empty).
	Dice []float64
	// Summary summarises the non-NaN values: mean ± std (median).
	Summary metrics.Summary
}

// EvaluateDice segments the given slices of a set with GB (labelmap at
// ε = 0, thresholded at cfg.Threshold) and scores them with the Dice
// coefficient against the whole tumour (label > 0). Slices whose prediction
// and truth are both empty score NaN and are left out of the summary.
func EvaluateDice(m *Inference, set *data.Set, indices []int, batch int) (*SegmentationScore, error) {
	c := m.Cfg
	if set.Height != c.Size || set.Width != c.Size {
		return nil, fmt.Errorf("slice set %s is %dx%d, the model %dx%d", set.Dir, set.Height, set.Width, c.Size, c.Size)
	}
	per := c.Size * c.Size * c.Channels
	score := &SegmentationScore{}
	for lo := 0; lo < len(indices); lo += batch {
		hi := min(lo+batch, len(indices))
		x := make([]float32, (hi-lo)*per)
		var labels [][]uint8
		for k, idx := range indices[lo:hi] {
			if _, err := set.Image(idx, x[k*per:(k+1)*per]); err != nil {
				return nil, err
			}
			l, err := set.Label(idx, nil)
			if err != nil {
				return nil, err
			}
			labels = append(labels, l)
		}
		lm, err := m.Segment(x)
		if err != nil {
			return nil, err
		}
		px := c.Size * c.Size
		for k := range labels {
			d := metrics.Dice(metrics.Threshold(lm[k*px:(k+1)*px], c.Threshold), labels[k])
			score.Dice = append(score.Dice, d)
			score.Summary.Add(d)
		}
	}
	return score, nil
}
