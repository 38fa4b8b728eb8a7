// Package crashtest interrupts the toolkit's training commands at random
// moments and checks that resuming them ends where an uninterrupted run
// ends. For each target command it first runs the command once without
// interruption (the reference), then runs it again in a fresh folder,
// interrupting it over and over and starting it again each time, until the
// wanted number of interruptions has been delivered and a final start runs
// to the end. The interruptions are drawn from a seeded source:
//
//   - kill: SIGKILL after a random delay;
//   - kill-save: SIGKILL as soon as a checkpoint is being written (its
//     temporary file exists);
//   - kill-row: SIGKILL right after a losses.csv row is written;
//   - int, term: SIGINT or SIGTERM after a random delay (the command saves a
//     checkpoint and exits);
//   - int-int: two SIGINTs in a row (the command quits at once).
//
// The final state must equal the reference byte for byte: in every run
// folder, each checkpoint that both have and the newest one, and losses.csv
// without its wall-time column (seconds), which no two runs share.
package crashtest

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pathogan-go/pathogan/pathogan/checkpoint"
)

// Target is a command whose runs are interrupted.
type Target struct {
	// Name labels the target in results and folder names.
	Name string
	// Args is the command line (without the binary) that starts the command
	// into out and, run again, resumes it.
	Args func(out string) []string
	// Runs are the run folders to compare, relative to out ("." for out
	// itself).
	Runs []string
}

// Options control a harness run.
type Options struct {
	// Binary is the pathogan command to run, Env extra environment entries.
	Binary string
	Env    []string
	// Dir is a work folder; each target gets folders in it.
	Dir string
	// Seed draws the interruptions.
	Seed uint64
	// Interruptions is how many to deliver to each target.
	Interruptions int
	// Timeout bounds each start of the command.
	Timeout time.Duration
	// Log, if not nil, receives one line per start.
	Log func(string)
}

// Result counts what a harness run did to one target.
type Result struct {
	Target string
	// Interruptions delivered while the command was running, by kind.
	Interruptions int
	Kinds         map[string]int
	// Starts of the command, the final uninterrupted one included.
	Starts int
	// Compared is the number of files found equal to the reference.
	Compared int
}

var kinds = []string{"kill", "kill", "kill-save", "kill-row", "int", "term", "int-int"}

// Run runs the harness on one target.
func Run(opt Options, t Target) (Result, error) {
	res := Result{Target: t.Name, Kinds: map[string]int{}}
	rng := rand.New(rand.NewPCG(opt.Seed, 0xc4a5))
	ref := filepath.Join(opt.Dir, t.Name+"-reference")
	start := time.Now()
	if _, err := opt.start(ref, t, "", 0, nil); err != nil {
		return res, fmt.Errorf("%s: reference run: %w", t.Name, err)
	}
	refTime := time.Since(start)
	out := filepath.Join(opt.Dir, t.Name+"-interrupted")
	for res.Interruptions < opt.Interruptions {
		kind := kinds[rng.IntN(len(kinds))]
		delay := time.Duration(rng.Float64() * float64(refTime))
		hit, err := opt.start(out, t, kind, delay, rng)
		res.Starts++
		if err != nil {
			return res, fmt.Errorf("%s: start %d (%s after %v): %w", t.Name, res.Starts, kind, delay, err)
		}
		if hit {
			res.Interruptions++
			res.Kinds[kind]++
		} else if res.Starts > 4*opt.Interruptions+10 {
			return res, fmt.Errorf("%s: %d starts delivered only %d interruptions", t.Name, res.Starts, res.Interruptions)
		}
		if !hit {
			// The command finished before the interruption: start afresh.
			if err := os.RemoveAll(out); err != nil {
				return res, err
			}
		}
	}
	if _, err := opt.start(out, t, "", 0, nil); err != nil {
		return res, fmt.Errorf("%s: final resume: %w", t.Name, err)
	}
	res.Starts++
	n, err := compare(ref, out, t.Runs)
	res.Compared = n
	return res, err
}

// start runs the command into out once. With a kind it interrupts it after
// delay (or at the moment the kind waits for) and reports whether the
// interruption reached a running command; a command that exits on its own
// must succeed.
func (opt Options) start(out string, t Target, kind string, delay time.Duration, rng *rand.Rand) (bool, error) {
	cmd := exec.Command(opt.Binary, t.Args(out)...)
	cmd.Env = append(os.Environ(), opt.Env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return false, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	timeout := time.After(cmp.Or(opt.Timeout, 10*time.Minute))
	if opt.Log != nil {
		opt.Log(fmt.Sprintf("%s: start into %s, %s after %v", t.Name, out, cmp.Or(kind, "no interruption"), delay.Round(time.Millisecond)))
	}
	wait := func() error {
		select {
		case err := <-exited:
			return err
		case <-timeout:
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("timed out; output:\n%s", stderr.String())
		}
	}
	if kind == "" {
		if err := wait(); err != nil {
			return false, fmt.Errorf("%w; output:\n%s", err, stderr.String())
		}
		return false, nil
	}
	// Wait for the moment, unless the command ends first.
	ready := moment(out, t.Runs, kind, delay)
	for {
		select {
		case err := <-exited:
			if err != nil {
				return false, fmt.Errorf("exited before the interruption: %w; output:\n%s", err, stderr.String())
			}
			return false, nil
		case <-timeout:
			cmd.Process.Kill()
			<-exited
			return false, fmt.Errorf("timed out waiting for %s", kind)
		case <-time.After(time.Millisecond):
		}
		if ready() {
			break
		}
	}
	var sig []syscall.Signal
	switch kind {
	case "int":
		sig = []syscall.Signal{syscall.SIGINT}
	case "term":
		sig = []syscall.Signal{syscall.SIGTERM}
	case "int-int":
		sig = []syscall.Signal{syscall.SIGINT, syscall.SIGINT}
	default:
		sig = []syscall.Signal{syscall.SIGKILL}
	}
	for i, s := range sig {
		if i > 0 {
			time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
		}
		if err := cmd.Process.Signal(s); err != nil {
			// Already gone: the command finished on its own.
			if err := wait(); err != nil && i == 0 {
				return false, fmt.Errorf("%w; output:\n%s", err, stderr.String())
			}
			return i > 0, nil
		}
	}
	err := wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		// It finished (the signal came after its last step); a clean exit.
		return true, nil
	case errors.As(err, &ee):
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && (st.Signaled() || st.ExitStatus() == 130 || st.ExitStatus() == 1) {
			if st.ExitStatus() == 1 && !strings.Contains(stderr.String(), "interrupted") {
				return false, fmt.Errorf("%s: exit 1 without an interruption message:\n%s", kind, stderr.String())
			}
			return true, nil
		}
		return false, fmt.Errorf("%s: %w; output:\n%s", kind, err, stderr.String())
	default:
		return false, err
	}
}

// moment returns a poll that becomes true when the interruption is due.
func moment(out string, runs []string, kind string, delay time.Duration) func() bool {
	t0 := time.Now()
	switch kind {
	case "kill-save":
		return func() bool {
			if time.Since(t0) < delay {
				return false
			}
			for _, r := range runs {
				if m, _ := filepath.Glob(filepath.Join(out, r, checkpoint.Dir, checkpoint.TempPattern)); len(m) > 0 {
					return true
				}
			}
			return time.Since(t0) > delay+30*time.Second // none came: kill anyway
		}
	case "kill-row":
		size := func() int64 {
			var n int64
			for _, r := range runs {
				if st, err := os.Stat(filepath.Join(out, r, "losses.csv")); err == nil {
					n += st.Size()
				}
			}
			return n
		}
		last := int64(-1)
		return func() bool {
			if time.Since(t0) < delay {
				last = size()
				return false
			}
			s := size()
			grew := last >= 0 && s > last
			last = s
			return grew || time.Since(t0) > delay+30*time.Second
		}
	default:
		return func() bool { return time.Since(t0) >= delay }
	}
}

// compare checks the interrupted run folders against the reference ones
// and returns the number of files found equal.
func compare(ref, out string, runs []string) (int, error) {
	n := 0
	for _, r := range runs {
		a, b := filepath.Join(ref, r), filepath.Join(out, r)
		la, err := stepRows(filepath.Join(a, "losses.csv"))
		if err != nil {
			return n, err
		}
		lb, err := stepRows(filepath.Join(b, "losses.csv"))
		if err != nil {
			return n, err
		}
		if la != lb {
			return n, fmt.Errorf("%s/losses.csv differs from the reference (seconds column left out):\n%s\nreference:\n%s", b, clip(lb), clip(la))
		}
		n++
		ca, _ := checkpoint.List(filepath.Join(a, checkpoint.Dir))
		cb, _ := checkpoint.List(filepath.Join(b, checkpoint.Dir))
		if len(ca) == 0 || len(cb) == 0 || filepath.Base(ca[len(ca)-1]) != filepath.Base(cb[len(cb)-1]) {
			return n, fmt.Errorf("%s: newest checkpoint %v, the reference's %v", b, base(cb), base(ca))
		}
		for _, p := range ca {
			q := filepath.Join(b, checkpoint.Dir, filepath.Base(p))
			bq, err := os.ReadFile(q)
			if err != nil {
				if p == ca[len(ca)-1] {
					return n, err
				}
				continue // pruned in one run (keep) at another moment
			}
			bp, err := os.ReadFile(p)
			if err != nil {
				return n, err
			}
			if !bytes.Equal(bp, bq) {
				return n, fmt.Errorf("%s differs from the reference %s", q, p)
			}
			n++
		}
	}
	return n, nil
}

// stepRows returns a losses.csv without its seconds column.
func stepRows(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	var sb strings.Builder
	for _, r := range rows {
		if i := slices.Index(rows[0], "seconds"); i >= 0 && i < len(r) {
			r = slices.Delete(slices.Clone(r), i, i+1)
		}
		sb.WriteString(strings.Join(r, ",") + "\n")
	}
	return sb.String(), nil
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

func base(l []string) []string {
	out := make([]string, len(l))
	for i, p := range l {
		out[i] = filepath.Base(p)
	}
	return out
}

// Standard returns the harness's three targets at a tiny size: train and
// train-baseline on the prepared slice set dataDir (32 px, from Prepare),
// and reproduce from its own phantom data.
func Standard(dataDir string) []Target {
	return []Target{
		{Name: "train", Runs: []string{"."}, Args: func(out string) []string {
			return []string{"train", "--data", dataDir, "--preset", "tiny", "--set", "batch=2", "--steps", "40",
				"--checkpoint-every", "5", "--keep", "3", "--out", out, "--resume"}
		}},
		{Name: "train-baseline", Runs: []string{"."}, Args: func(out string) []string {
			return []string{"train-baseline", "--data", dataDir, "--preset", "tiny", "--set", "batch=2", "--steps", "40",
				"--checkpoint-every", "5", "--keep", "3", "--out", out, "--resume"}
		}},
		{Name: "reproduce", Runs: []string{"pathogan", "unet"}, Args: func(out string) []string {
			return []string{"reproduce", "--out", out, "--preset", "tiny", "--patients", "6", "--steps", "16",
				"--baseline-steps", "12", "--val-fraction", "0.3", "--set", "batch=2", "--baseline-set", "batch=2"}
		}},
	}
}

// Prepare writes 3 phantom patients and their 32-px slice set into dir with
// the binary and returns the slice set's folder.
func Prepare(opt Options, dir string) (string, error) {
	brats, set := filepath.Join(dir, "brats"), filepath.Join(dir, "slices32")
	for _, args := range [][]string{
		{"phantom", "--out", brats, "--patients", "3", "--seed", "2", "--shape", "64,64,155"},
		{"prepare", "--brats", brats, "--out", set, "--size", "32", "--test-fraction", "0.34"},
	} {
		cmd := exec.Command(opt.Binary, args...)
		cmd.Env = append(os.Environ(), opt.Env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, b)
		}
	}
	return set, nil
}
