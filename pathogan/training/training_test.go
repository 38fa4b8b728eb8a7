package training

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathogan-go/pathogan/pathogan/runlog"
)

// fakeStepper counts steps, returns losses step·[1, 2] (NaN at nanAt), and
// records the steps it saved at.
type fakeStepper struct {
	done, nanAt int
	saved       []int
	onStep      func(done int)
}

func (f *fakeStepper) Done() int                     { return f.done }
func (f *fakeStepper) LearningRate(step int) float64 { return 1 / float64(step+1) }
func (f *fakeStepper) Save() (string, error) {
	f.saved = append(f.saved, f.done)
	return fmt.Sprintf("ckpt-%d", f.done), nil
}
func (f *fakeStepper) Step() ([]float64, error) {
	losses := []float64{float64(f.done + 1), 2 * float64(f.done+1)}
	if f.done+1 == f.nanAt {
		losses[1] = math.NaN()
	}
	if err := CheckFinite(f.done+1, []string{"a", "b"}, losses); err != nil {
		return losses, err
	}
	f.done++
	if f.onStep != nil {
		f.onStep(f.done)
	}
	return losses, nil
}

func openHistory(t *testing.T) (*runlog.History, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), HistoryFile)
	h, err := runlog.Open(path, []string{"a", "b"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, path
}

// TestLoopCadence: every step is logged with the rate it used, checkpoints
// fall every CheckpointEvery steps and at the last, progress sees them, and
// the moving average starts at the first loss.
func TestLoopCadence(t *testing.T) {
	h, path := openHistory(t)
	s := &fakeStepper{}
	var seen []Progress
	err := Loop(RunOptions{Steps: 7, CheckpointEvery: 3}, h, "", s, func(p Progress) {
		p.Smoothed = append([]float64(nil), p.Smoothed...)
		seen = append(seen, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s.saved) != "[3 6 7]" {
		t.Errorf("saved at %v, want [3 6 7]", s.saved)
	}
	if len(seen) != 7 || seen[2].Checkpoint != "ckpt-3" || seen[3].Checkpoint != "" || seen[6].Checkpoint != "ckpt-7" {
		t.Fatalf("progress: %+v", seen)
	}
	if seen[0].Smoothed[0] != 1 || math.Abs(seen[1].Smoothed[0]-(0.95*1+0.05*2)) > 1e-12 {
		t.Errorf("smoothed %v then %v, want 1 then 1.05", seen[0].Smoothed, seen[1].Smoothed)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 8 {
		t.Fatalf("losses.csv has %d lines, want a header and 7 rows:\n%s", len(lines), b)
	}
	// Step 1 trained with LearningRate(0) = 1, step 2 with LearningRate(1) = 0.5.
	if !strings.HasPrefix(lines[1], "1,1,") || !strings.HasPrefix(lines[2], "2,0.5,") {
		t.Errorf("rows %q, %q: want the rate each step used", lines[1], lines[2])
	}
}

// TestLoopNaNGuard: a non-finite loss stops the loop before anything is
// saved, with an error that names the step, the term and the last good
// checkpoint.
func TestLoopNaNGuard(t *testing.T) {
	h, _ := openHistory(t)
	s := &fakeStepper{nanAt: 5}
	err := Loop(RunOptions{Steps: 10, CheckpointEvery: 3}, h, "", s, nil)
	if !errors.Is(err, ErrNotFinite) {
		t.Fatalf("err = %v, want ErrNotFinite", err)
	}
	for _, want := range []string{"step 5", "b ", "ckpt-3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if fmt.Sprint(s.saved) != "[3]" {
		t.Errorf("saved at %v, want [3]", s.saved)
	}

	h2, _ := openHistory(t)
	err = Loop(RunOptions{Steps: 10, CheckpointEvery: 3}, h2, "", &fakeStepper{nanAt: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "no checkpoint was saved yet") {
		t.Errorf("NaN at the first step: %v", err)
	}
}

// TestLoopStop: closing Stop saves after the current step and returns
// ErrInterrupted; the loop does not train further.
func TestLoopStop(t *testing.T) {
	h, _ := openHistory(t)
	stop := make(chan struct{})
	s := &fakeStepper{onStep: func(done int) {
		if done == 4 {
			close(stop)
		}
	}}
	err := Loop(RunOptions{Steps: 10, CheckpointEvery: 100, Stop: stop}, h, "", s, nil)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if s.done != 4 || fmt.Sprint(s.saved) != "[4]" {
		t.Errorf("done %d, saved %v; want 4 and [4]", s.done, s.saved)
	}
}

// TestLinearDecay: constant until decayFrom·total, then linear to 0.
func TestLinearDecay(t *testing.T) {
	for _, c := range []struct {
		step int
		want float64
	}{{0, 2e-4}, {49, 2e-4}, {50, 2e-4}, {75, 1e-4}, {100, 0}, {120, 0}} {
		if got := LinearDecay(2e-4, 0.5, 100, c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("step %d: lr %g, want %g", c.step, got, c.want)
		}
	}
}

// TestStepRand: a step's source depends on the seed and the step only.
func TestStepRand(t *testing.T) {
	a, b := StepRand(1, 7).Uint64(), StepRand(1, 7).Uint64()
	if a != b {
		t.Errorf("same seed and step drew %d and %d", a, b)
	}
	if a == StepRand(1, 8).Uint64() || a == StepRand(2, 7).Uint64() {
		t.Error("another step or seed drew the same number")
	}
}

// TestSettings: ApplySettings sets fields by their JSON names and parses
// each type; bad input names the key and what is wrong.
func TestSettings(t *testing.T) {
	type cfg struct {
		N    int     `json:"n"`
		Seed uint64  `json:"seed"`
		X    float64 `json:"x,omitempty"`
		On   bool    `json:"on"`
		Name string  `json:"name"`
	}
	var c cfg
	set := func(k, v string) error { return SetField(&c, k, v) }
	if err := ApplySettings(" n=3; seed = 9;x=0.5;on=true;name=resize;", set); err != nil {
		t.Fatal(err)
	}
	if c != (cfg{3, 9, 0.5, true, "resize"}) {
		t.Errorf("got %+v", c)
	}
	for in, want := range map[string]string{
		"n=1.5":   `n="1.5": want an integer`,
		"seed=-1": "want a non-negative integer",
		"x=NaN":   "want a finite number",
		"on=yes":  "want true or false",
		"nope=1":  `unknown setting "nope"`,
		"n":       `setting "n": want key=value`,
	} {
		if err := ApplySettings(in, set); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
}
