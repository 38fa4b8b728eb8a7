// Command crashtest is the long run of the crash-and-resume harness
// (package crashtest): it builds the pathogan command, interrupts train,
// train-baseline and reproduce at random moments (SIGKILL at random, during
// checkpoint writes and after log rows; SIGINT, SIGTERM, two SIGINTs),
// resumes each, and checks that every final state is byte-identical to an
// uninterrupted run.
//
//	go run ./experiments/cmd/crashtest [--interruptions 80,80,40] [--seed 1] [--dir DIR]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pathogan-go/pathogan/experiments/crashtest"
)

func main() {
	counts := flag.String("interruptions", "80,80,40", "interruptions for train, train-baseline and reproduce")
	seed := flag.Uint64("seed", 1, "seed of the interruptions' kinds and moments")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed when all pass)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./experiments/cmd/crashtest [--interruptions 80,80,40] [--seed 1] [--dir DIR]\n\noptions:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "crashtest: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := run(*counts, *seed, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "crashtest: %v\n", err)
		os.Exit(1)
	}
}

func run(counts string, seed uint64, dir string) error {
	var n []int
	for _, f := range strings.Split(counts, ",") {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return fmt.Errorf("--interruptions %q: want three counts >= 1", counts)
		}
		n = append(n, v)
	}
	if len(n) != 3 {
		return fmt.Errorf("--interruptions %q: want three counts (train, train-baseline, reproduce)", counts)
	}
	keep := dir != ""
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "crashtest-"); err != nil {
			return err
		}
	}
	bin := filepath.Join(dir, "pathogan")
	fmt.Fprintf(os.Stderr, "building %s\n", bin)
	if b, err := exec.Command("go", "build", "-o", bin, "./experiments/cmd/pathogan").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	opt := crashtest.Options{Binary: bin, Dir: dir, Seed: seed, Timeout: 10 * time.Minute,
		Log: func(s string) { fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), s) }}
	set, err := crashtest.Prepare(opt, dir)
	if err != nil {
		return err
	}
	start := time.Now()
	var results []crashtest.Result
	total := 0
	for i, t := range crashtest.Standard(set) {
		opt.Interruptions = n[i]
		res, err := crashtest.Run(opt, t)
		if err != nil {
			return fmt.Errorf("%v (work folder kept: %s)", err, dir)
		}
		results = append(results, res)
		total += res.Interruptions
		fmt.Fprintf(os.Stderr, "%s: %d interruptions %v in %d starts; %d files byte-identical to the uninterrupted run\n",
			res.Target, res.Interruptions, res.Kinds, res.Starts, res.Compared)
	}
	js, _ := json.MarshalIndent(map[string]any{"seed": seed, "interruptions": total, "minutes": time.Since(start).Minutes(), "targets": results}, "", "  ")
	fmt.Println(string(js))
	fmt.Fprintf(os.Stderr, "all %d interruptions resumed to the uninterrupted result\n", total)
	if !keep {
		return os.RemoveAll(dir)
	}
	return nil
}
