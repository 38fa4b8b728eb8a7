package pathogan

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/data/augment"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/metrics"
	"github.com/pathogan-go/pathogan/pathogan/runlock"
	"github.com/pathogan-go/pathogan/pathogan/runlog"
)

// Files of a run folder.
const (
	ConfigFile  = "config.json"   // the Config the run trains with
	HistoryFile = runlog.FileName // step,lr,seconds, then one column per LossNames term
)

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
	run, err := OpenRun(runDir, ModelName, &opt)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	latest := run.Latest
	if latest != "" {
		// The checkpoint describes the networks being resumed: it must be
		// the run's and the one asked for.
		ckpt, _, err := decodeHeader(latest, run.Header)
		if err != nil {
			return nil, err
		}
		if err := run.MatchConfig(ckpt, cfg); err != nil {
			return nil, err
		}
		cfg = ckpt
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
	}, func() (string, error) { return tr.Save(run.CkptDir, opt.Keep) }, progress)
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

// RunOptions control a training run.
type RunOptions struct {
	// Steps is the total number of training steps (the learning-rate schedule
	// spans them).
	Steps int
	// CheckpointEvery saves a checkpoint every so many steps (and at the end).
	CheckpointEvery int
	// Keep is the number of checkpoints kept (0: all).
	Keep int
	// Resume continues from the newest intact checkpoint in the run folder;
	// without it, a run folder that already has checkpoints is an error.
	Resume bool
	// Extend lets a resumed run train to a Steps other than the total its
	// schedule was made for. The schedule is then recomputed for the new
	// total from the resumed step on (constant until DecayFrom·Steps, then
	// linear to 0 at Steps), so the learning rate can jump at the resumed
	// step. Without it such a resume is an error.
	Extend bool
	// Stop, once closed, ends training after the current step: a checkpoint
	// is saved and the log synced, and Train returns an error wrapping
	// ErrInterrupted.
	Stop <-chan struct{}
	// Note, if not nil, receives messages for the user that are not errors:
	// a stale lock taken over, damaged checkpoints passed over, remnants of
	// an interrupted save removed, a schedule extended.
	Note func(string)
}

// ErrInterrupted is wrapped by the error Train returns when RunOptions.Stop
// ended it; the run folder then holds a checkpoint of the last step.
var ErrInterrupted = errors.New("training interrupted")

// note passes a message to opt.Note, if set.
func (opt *RunOptions) note(format string, args ...any) {
	if opt.Note != nil {
		opt.Note(fmt.Sprintf(format, args...))
	}
}

// Run is a run folder owned by this process (see package runlock) for the
// time of a training: PathoGAN's Train and the U-Net's open one with
// OpenRun and close it when done.
type Run struct {
	// Dir is the run folder, CkptDir its checkpoints folder.
	Dir, CkptDir string
	// Latest is the newest intact checkpoint to resume from ("" for a fresh
	// run), Header its header.
	Latest string
	Header *checkpoint.Header

	lock    *runlock.Lock
	created bool
}

// OpenRun takes ownership of a run folder for training model ("pathogan",
// "unet": the name its checkpoints carry). It fills in opt's defaults, locks
// the folder (another process training into it is an error that names it),
// removes remnants of interrupted checkpoint saves and log rewrites, and finds the newest
// intact checkpoint, passing over damaged newer ones with a note. A folder
// with checkpoints is an error unless opt.Resume is set; so is a resumed
// checkpoint of another model, or of a schedule of other than opt.Steps
// total steps without opt.Extend. Close releases the folder.
func OpenRun(runDir, model string, opt *RunOptions) (_ *Run, err error) {
	if opt.Steps < 1 {
		return nil, fmt.Errorf("steps %d: want >= 1", opt.Steps)
	}
	if opt.CheckpointEvery < 1 {
		opt.CheckpointEvery = max(1, opt.Steps/10)
	}
	_, statErr := os.Stat(runDir)
	lock, stale, err := runlock.Acquire(runDir)
	if err != nil {
		return nil, err
	}
	run := &Run{Dir: runDir, CkptDir: filepath.Join(runDir, checkpoint.Dir), lock: lock, created: os.IsNotExist(statErr)}
	defer func() {
		if err != nil {
			run.Close()
		}
	}()
	if stale != "" {
		opt.note("%s", stale)
	}
	removed, err := checkpoint.RemoveTemps(run.CkptDir)
	if err != nil {
		return nil, err
	}
	logTemps, err := runlog.RemoveTemps(runDir)
	if err != nil {
		return nil, err
	}
	removed = append(removed, logTemps...)
	for _, p := range removed {
		opt.note("removed %s, left by an interrupted write", p)
	}
	latest, skipped, err := checkpoint.Latest(run.CkptDir)
	if err != nil {
		return nil, err
	}
	if latest == "" && len(skipped) > 0 {
		return nil, fmt.Errorf("%s has checkpoints but none is intact (newest: %v); move them away to start afresh", runDir, skipped[0])
	}
	if latest != "" && !opt.Resume {
		return nil, fmt.Errorf("%s already has checkpoints (newest %s): resume it, or train into a new folder", runDir, filepath.Base(latest))
	}
	for _, e := range skipped {
		opt.note("passing over a damaged checkpoint: %v", e)
	}
	if latest == "" {
		return run, nil
	}
	h, err := checkpoint.ReadHeader(latest)
	if err != nil {
		return nil, err
	}
	if got := cmp.Or(h.Model, ModelName); got != model {
		return nil, fmt.Errorf("%s holds a %s run (%s), not a %s one", runDir, got, filepath.Base(latest), model)
	}
	switch {
	case h.Total > 0 && h.Total != opt.Steps && !opt.Extend:
		return nil, fmt.Errorf("steps: the run in %s was scheduled for %d steps, this command asks for %d; "+
			"pass --extend to train to %d (the learning-rate schedule is then recomputed for %d steps from step %d on)",
			runDir, h.Total, opt.Steps, opt.Steps, opt.Steps, h.Step)
	case opt.Steps < h.Step:
		return nil, fmt.Errorf("steps %d: the run in %s is already at step %d", opt.Steps, runDir, h.Step)
	}
	if h.Total > 0 && opt.Steps != h.Total {
		opt.note("extending the schedule of %s from %d to %d steps at step %d", runDir, h.Total, opt.Steps, h.Step)
	}
	run.Latest, run.Header = latest, h
	return run, nil
}

// MatchConfig checks, for a resumed run, that the checkpoint's config
// (ckpt) agrees with the run's config.json and with the config the caller
// asked for (asked), key by key of their JSON forms. The error names the
// first key that differs and both values.
func (r *Run) MatchConfig(ckpt, asked any) error {
	have, err := jsonMap(ckpt)
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(r.Dir, ConfigFile)); err == nil {
		var file map[string]any
		if err := json.Unmarshal(b, &file); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(r.Dir, ConfigFile), err)
		}
		if k, a, b, ok := firstDiff(have, file); ok {
			return fmt.Errorf("%s: the checkpoint %s has %s=%v, the run's %s %s=%v: the folder mixes two runs; train into a new folder",
				r.Dir, filepath.Base(r.Latest), k, a, ConfigFile, k, b)
		}
	}
	want, err := jsonMap(asked)
	if err != nil {
		return err
	}
	if k, a, b, ok := firstDiff(have, want); ok {
		return fmt.Errorf("%s=%v asked, but the run in %s has %s=%v; a resumed run keeps its config (train into a new folder to change it)",
			k, b, r.Dir, k, a)
	}
	return nil
}

// jsonMap is v's JSON form as a map.
func jsonMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// firstDiff returns the first key whose values differ between a and b (a
// key missing on one side counts): the model's identity first (model,
// preset, size, channels), then the rest in sorted order.
func firstDiff(a, b map[string]any) (key string, va, vb any, found bool) {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	first := []string{"model", "preset", "size", "channels"}
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(rank(first, x), rank(first, y)), cmp.Compare(x, y))
	})
	for _, k := range keys {
		if !reflect.DeepEqual(a[k], b[k]) {
			return k, a[k], b[k], true
		}
	}
	return "", nil, nil, false
}

// rank is k's index in first, or len(first) when it is not there.
func rank(first []string, k string) int {
	if i := slices.Index(first, k); i >= 0 {
		return i
	}
	return len(first)
}

// Close releases the run folder, and removes the folder when OpenRun
// created it and nothing was written into it.
func (r *Run) Close() error {
	if r == nil {
		return nil
	}
	err := r.lock.Release()
	if r.created {
		os.Remove(r.Dir) // fails, as it should, once the run wrote something
	}
	return err
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
// checkpoint (lastCkpt before any save). When opt.Stop is closed it saves
// after the current step and returns an error wrapping ErrInterrupted. It
// syncs hist before each save and at the end.
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
		stop := false
		select {
		case <-opt.Stop:
			stop = true
		default:
		}
		if stop || *done%opt.CheckpointEvery == 0 || *done == opt.Steps {
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
		if stop && *done < opt.Steps {
			return fmt.Errorf("%w at step %d of %d; saved %s", ErrInterrupted, *done, opt.Steps, lastCkpt)
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
