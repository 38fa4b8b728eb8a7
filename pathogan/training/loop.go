package training

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pathogan-go/pathogan/pathogan/runlog"
)

// Progress is what the step loop reports after each step.
type Progress struct {
	Step, Total int
	// Losses are the step's loss terms in the model's order; Smoothed their
	// exponential moving averages (over about 20 steps).
	Losses, Smoothed []float64
	// StepTime is the wall time of the step.
	StepTime time.Duration
	// Checkpoint is the path saved after this step, if any.
	Checkpoint string
}

// ErrNotFinite is returned (wrapped) by a Stepper's Step when a loss is NaN
// or infinite: the step loop's NaN guard. The model's variables then hold
// the bad values and must not be saved.
var ErrNotFinite = errors.New("loss is not finite")

// CheckFinite returns an error wrapping ErrNotFinite that names step (1-based)
// and the first loss term that is NaN or infinite, or nil when all are finite.
// names are the terms' names, in the order of losses.
func CheckFinite(step int, names []string, losses []float64) error {
	for i, v := range losses {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			name := fmt.Sprintf("term %d", i)
			if i < len(names) {
				name = names[i]
			}
			return fmt.Errorf("step %d: %s %w (%v)", step, name, ErrNotFinite, v)
		}
	}
	return nil
}

// Stepper is a model's training as the step loop drives it.
type Stepper interface {
	// Done is the number of steps trained so far.
	Done() int
	// Step draws a batch, trains one step on it and returns the loss terms.
	// After it returns without error, Done has grown by one. A non-finite
	// loss is an error wrapping ErrNotFinite.
	Step() ([]float64, error)
	// LearningRate is the rate that step (0-based) trains with.
	LearningRate(step int) float64
	// Save writes a checkpoint of the current state and returns its path.
	Save() (string, error)
}

// Loop is the training loop every model shares. While s.Done() < opt.Steps
// it calls s.Step, appends the losses to hist (with the learning rate the
// step used), keeps moving averages, saves through s.Save every
// opt.CheckpointEvery steps and at the last, and reports to progress (if not
// nil). A non-finite loss (ErrNotFinite) stops it with an error naming the
// last good checkpoint (lastCkpt before any save). When opt.Stop is closed it
// saves after the current step and returns an error wrapping ErrInterrupted.
// It syncs hist before each save and at the end.
func Loop(opt RunOptions, hist *runlog.History, lastCkpt string, s Stepper, progress func(Progress)) error {
	var smoothed []float64
	for s.Done() < opt.Steps {
		start := time.Now()
		losses, err := s.Step()
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
		done := s.Done()
		if smoothed == nil {
			smoothed = make([]float64, len(losses))
		}
		for i, v := range losses {
			if done == 1 || smoothed[i] == 0 {
				smoothed[i] = v
			} else {
				smoothed[i] = 0.95*smoothed[i] + 0.05*v
			}
		}
		if err := hist.Add(done, s.LearningRate(done-1), elapsed, losses); err != nil {
			return err
		}
		p := Progress{Step: done, Total: opt.Steps, Losses: losses, Smoothed: smoothed, StepTime: elapsed}
		stop := false
		select {
		case <-opt.Stop:
			stop = true
		default:
		}
		if stop || done%opt.CheckpointEvery == 0 || done == opt.Steps {
			if err := hist.Flush(); err != nil {
				return err
			}
			if p.Checkpoint, err = s.Save(); err != nil {
				return err
			}
			lastCkpt = p.Checkpoint
		}
		if progress != nil {
			progress(p)
		}
		if stop && done < opt.Steps {
			return fmt.Errorf("%w at step %d of %d; saved %s", ErrInterrupted, done, opt.Steps, lastCkpt)
		}
	}
	return hist.Flush()
}
