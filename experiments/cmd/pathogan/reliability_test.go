package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pathogan-go/pathogan/experiments/crashtest"
	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
	"github.com/pathogan-go/pathogan/pathogan/runlock"
)

// runMainEnv, set to 1, makes the test binary run the pathogan command
// instead of the tests, so tests can start it as a process and signal it.
const runMainEnv = "PATHOGAN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// self returns this test binary and the environment that makes it the
// pathogan command.
func self(t *testing.T) (string, []string) {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin, []string{runMainEnv + "=1"}
}

// tinySet writes 3 phantom patients and prepares them at 32 px.
func tinySet(t *testing.T, dir string) string {
	t.Helper()
	brats, set := filepath.Join(dir, "brats"), filepath.Join(dir, "set")
	capture(t, func() error {
		return runPhantom([]string{"--out", brats, "--patients", "3", "--seed", "2", "--shape", "64,64,155"})
	})
	capture(t, func() error {
		return runPrepare([]string{"--brats", brats, "--out", set, "--size", "32", "--test-fraction", "0.34"})
	})
	return set
}

// withoutSeconds drops losses.csv's wall-time column.
func withoutSeconds(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ",")
		if len(f) > 3 {
			f = append(f[:2], f[3:]...)
		}
		out = append(out, strings.Join(f, ","))
	}
	return strings.Join(out, "\n")
}

// TestDamagedNewestCheckpoint: for PathoGAN, the U-Net and MDGRU, a run whose newest
// checkpoint is damaged resumes from the one before, with a note naming the
// damaged file, and ends byte-identical to the uninterrupted run. Before,
// the U-Net could not resume at all ("variable ... already exists") and a
// damaged checkpoint loaded silently.
func TestDamagedNewestCheckpoint(t *testing.T) {
	dir := t.TempDir()
	set := tinySet(t, dir)
	for _, c := range []struct {
		name  string
		train func([]string) error
	}{{"train", runTrain}, {"train-baseline", runTrainBaseline}, {"train-baseline-mdgru", func(args []string) error {
		return runTrainBaseline(append([]string{"--model", "mdgru"}, args...))
	}}} {
		run := filepath.Join(dir, c.name)
		args := []string{"--data", set, "--preset", "tiny", "--set", "batch=2", "--steps", "6", "--checkpoint-every", "3", "--keep", "0", "--out", run}
		capture(t, func() error { return c.train(args) })
		last := filepath.Join(run, checkpoint.Dir, checkpoint.Name(6))
		want, _ := os.ReadFile(last)
		wantLog := withoutSeconds(t, filepath.Join(run, "losses.csv"))
		bad := bytes.Clone(want)
		bad[len(bad)/2] ^= 0x04
		os.WriteFile(last, bad, 0o644)
		// eval passes over it too.
		if _, skipped, err := checkpoint.Find(run); err != nil || len(skipped) != 1 || !strings.Contains(skipped[0].Error(), last) {
			t.Errorf("%s: Find: %v %v", c.name, skipped, err)
		}
		stderr := captureStderr(t, func() error { return c.train(append(args, "--resume")) })
		if !strings.Contains(stderr, "passing over a damaged checkpoint") || !strings.Contains(stderr, last) {
			t.Errorf("%s: resume said:\n%s", c.name, stderr)
		}
		got, _ := os.ReadFile(last)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: resumed from step 3, the step-6 checkpoint differs from the uninterrupted run's", c.name)
		}
		if gotLog := withoutSeconds(t, filepath.Join(run, "losses.csv")); gotLog != wantLog {
			t.Errorf("%s: losses.csv\n%s\nwant\n%s", c.name, gotLog, wantLog)
		}
	}
}

// captureStderr runs f with os.Stderr redirected and returns what it wrote.
func captureStderr(t *testing.T, f func() error) string {
	t.Helper()
	var err error
	out, _ := redirect(&os.Stderr, func() error {
		capture(t, func() error { err = f(); return nil })
		return nil
	})
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, out)
	}
	return out
}

// TestOneWriterPerRunFolder: while a process owns a run folder, training
// into it fails at once with an error naming the holder, and leaves the
// owner's files alone; a lock left by a dead process is taken over with a
// note. Before, two trainings into one folder both ran and spliced
// losses.csv.
func TestOneWriterPerRunFolder(t *testing.T) {
	dir := t.TempDir()
	set := tinySet(t, dir)
	run := filepath.Join(dir, "run")
	args := []string{"--data", set, "--preset", "tiny", "--set", "batch=2", "--steps", "2", "--out", run}
	capture(t, func() error { return runTrain(args) })
	before, _ := os.ReadFile(filepath.Join(run, "losses.csv"))
	lock, _, err := runlock.Acquire(run)
	if err != nil {
		t.Fatal(err)
	}
	for _, train := range []func([]string) error{runTrain, runTrainBaseline} {
		err := train(append(args, "--resume"))
		if err == nil || !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
			t.Errorf("second writer: %v", err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(run, "losses.csv")); !bytes.Equal(before, after) {
		t.Error("the second writer changed losses.csv")
	}
	lock.Release()
	// A lock file of a dead process (no flock held on it).
	os.WriteFile(filepath.Join(run, runlock.FileName), []byte("pid 999999 on elsewhere since 2026-01-01T00:00:00Z\n"), 0o644)
	stderr := captureStderr(t, func() error {
		return runTrain(append(args[:len(args)-4], "--steps", "3", "--extend", "--out", run, "--resume"))
	})
	if !strings.Contains(stderr, "took over the lock of pid 999999") {
		t.Errorf("stale lock: stderr\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(run, runlock.FileName)); !os.IsNotExist(err) {
		t.Errorf("lock file left after a clean exit: %v", err)
	}
}

// TestBadValuesLeaveNothing: flag and setting values that cannot train are
// refused before anything is written. Before, --epochs NaN, Inf or 1e30
// trained one step and exited 0, and learning_rate=NaN left an empty run
// folder.
func TestBadValuesLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	set := tinySet(t, dir)
	run := filepath.Join(dir, "run")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--epochs", "NaN"}, "--epochs NaN"},
		{[]string{"--epochs", "+Inf"}, "--epochs +Inf"},
		{[]string{"--epochs", "1e30"}, "--epochs 1e+30"},
		{[]string{"--epochs", "-2"}, "--epochs -2"},
		{[]string{"--steps", "-1"}, "--steps -1: want 1 to"},
		{[]string{"--steps", "2", "--set", "learning_rate=NaN"}, `learning_rate="NaN": want a finite number`},
		{[]string{"--steps", "2", "--set", "lambda_r=Inf"}, `lambda_r="Inf": want a finite number`},
	} {
		err := runTrain(append([]string{"--data", set, "--preset", "tiny", "--out", run}, c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
		if _, err := os.Stat(run); !os.IsNotExist(err) {
			t.Errorf("%v left %s", c.args, run)
		}
	}
	// A data problem found after the folder was locked leaves no folder either.
	if err := runTrain([]string{"--data", set, "--preset", "small", "--steps", "1", "--out", run}); err == nil {
		t.Error("64-px preset on a 32-px set trained")
	}
	if _, err := os.Stat(run); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s", run)
	}
}

// TestSignalsSaveAndResume sends SIGINT and SIGTERM to a training process:
// it finishes its step, saves a checkpoint, says how to resume and exits
// with status 130; resuming then ends byte-identical to an uninterrupted
// run. Before, both signals killed the process with nothing saved. It also
// starts a second process training into a folder that a first one is
// training into: the second fails at once, naming the first.
func TestSignalsSaveAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts training processes")
	}
	dir := t.TempDir()
	set := tinySet(t, dir)
	bin, env := self(t)
	args := func(out string) []string {
		return []string{"train", "--data", set, "--preset", "tiny", "--set", "batch=2", "--steps", "200", "--checkpoint-every", "100", "--keep", "0", "--out", out, "--resume"}
	}
	ref := filepath.Join(dir, "ref")
	cmd := exec.Command(bin, args(ref)...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	// Two writers, as two processes: the second fails at once, naming the
	// first, whose run ends as if alone.
	{
		out := filepath.Join(dir, "two")
		first := exec.Command(bin, args(out)...)
		first.Env = append(os.Environ(), env...)
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if b, _ := os.ReadFile(filepath.Join(out, "losses.csv")); bytes.Count(b, []byte("\n")) > 5 {
				break
			}
		}
		second := exec.Command(bin, args(out)...)
		second.Env = append(os.Environ(), env...)
		b, err := second.CombinedOutput()
		if err == nil || !strings.Contains(string(b), fmt.Sprintf("in use by another process (pid %d on", first.Process.Pid)) {
			t.Errorf("second writer: %v\n%s", err, b)
		}
		if err := first.Wait(); err != nil {
			t.Fatalf("first writer: %v", err)
		}
		a, _ := os.ReadFile(filepath.Join(ref, checkpoint.Dir, checkpoint.Name(200)))
		if b, err := os.ReadFile(filepath.Join(out, checkpoint.Dir, checkpoint.Name(200))); err != nil || !bytes.Equal(a, b) {
			t.Errorf("the first writer's result differs from an undisturbed run's (%v)", err)
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		out := filepath.Join(dir, sig.String())
		cmd := exec.Command(bin, args(out)...)
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Signal once training has written a few rows.
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if b, _ := os.ReadFile(filepath.Join(out, "losses.csv")); bytes.Count(b, []byte("\n")) > 5 {
				break
			}
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		st, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if err == nil || st.ExitStatus() != 130 || !strings.Contains(stderr.String(), "resume with: pathogan train") {
			t.Fatalf("%v: exit %v, stderr:\n%s", sig, err, stderr.String())
		}
		list, _ := checkpoint.List(filepath.Join(out, checkpoint.Dir))
		if len(list) != 1 || strings.HasSuffix(list[0], checkpoint.Name(200)) {
			t.Fatalf("%v: checkpoints %v, want the one saved at the signal", sig, list)
		}
		cmd = exec.Command(bin, args(out)...)
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: resume: %v\n%s", sig, err, b)
		}
		for _, name := range []string{checkpoint.Name(100), checkpoint.Name(200)} {
			a, _ := os.ReadFile(filepath.Join(ref, checkpoint.Dir, name))
			b, err := os.ReadFile(filepath.Join(out, checkpoint.Dir, name))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%v: %s differs from the uninterrupted run's (%v)", sig, name, err)
			}
		}
		if a, b := withoutSeconds(t, filepath.Join(ref, "losses.csv")), withoutSeconds(t, filepath.Join(out, "losses.csv")); a != b {
			t.Errorf("%v: losses.csv differs from the uninterrupted run's", sig)
		}
	}
}

// TestCrashHarness is the short, seeded run of the crash-and-resume harness
// (package crashtest): a few interruptions of each kind-drawn at random for
// train, train-baseline and reproduce, each ending byte-identical to an
// uninterrupted run. `go run ./experiments/cmd/crashtest` is the long one.
func TestCrashHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many training processes")
	}
	dir := t.TempDir()
	bin, env := self(t)
	opt := crashtest.Options{Binary: bin, Env: env, Dir: dir, Seed: 7, Interruptions: 3, Timeout: 5 * time.Minute}
	set, err := crashtest.Prepare(opt, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range crashtest.Standard(set) {
		res, err := crashtest.Run(opt, target)
		if err != nil {
			t.Fatal(err)
		}
		if res.Interruptions != 3 || res.Compared < 2 {
			t.Errorf("%s: %+v", target.Name, res)
		}
		t.Logf("%s: %d interruptions %v in %d starts, %d files equal to the reference", target.Name, res.Interruptions, res.Kinds, res.Starts, res.Compared)
	}
}
