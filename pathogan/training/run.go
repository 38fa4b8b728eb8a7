package training

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

	"github.com/pathogan-go/pathogan/data"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/runlock"
	"github.com/pathogan-go/pathogan/pathogan/runlog"
)

// Files of a run folder.
const (
	ConfigFile  = "config.json"   // the Config the run trains with
	HistoryFile = runlog.FileName // step,lr,seconds, then one column per loss term
)

// legacyModel is the model of checkpoints whose header names none: they
// were written before the header had the field, when PathoGAN was the only
// model.
const legacyModel = "pathogan"

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
	// is saved and the log synced, and the loop returns an error wrapping
	// ErrInterrupted.
	Stop <-chan struct{}
	// Note, if not nil, receives messages for the user that are not errors:
	// a stale lock taken over, damaged checkpoints passed over, remnants of
	// an interrupted save removed, a schedule extended.
	Note func(string)
}

// ErrInterrupted is wrapped by the error the step loop returns when RunOptions.Stop
// ended it; the run folder then holds a checkpoint of the last step.
var ErrInterrupted = errors.New("training interrupted")

// note passes a message to opt.Note, if set.
func (opt *RunOptions) note(format string, args ...any) {
	if opt.Note != nil {
		opt.Note(fmt.Sprintf(format, args...))
	}
}

// Run is a run folder owned by this process (see package runlock) for the
// time of a training: each model's Train opens one with OpenRun and closes
// it when done.
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
	if got := cmp.Or(h.Model, legacyModel); got != model {
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

// CheckSetShape reports a slice set whose slices are not size×size×channels,
// the shape the named config needs, with the prepare flag that fixes it.
func CheckSetShape(set *data.Set, config string, size, channels int) error {
	if set.Height != size || set.Width != size || set.Channels != channels {
		return fmt.Errorf("slice set %s holds %dx%dx%d slices, the %q config needs %dx%dx%d: prepare it with --size %d",
			set.Dir, set.Height, set.Width, set.Channels, config, size, size, channels, size)
	}
	return nil
}
