// Command pathogan is the PathoGAN-Go toolkit's command line: it makes
// synthetic data, prepares BraTS slices, and inspects NIfTI files.
//
//	pathogan phantom --out DIR --patients N --seed S   write synthetic BraTS-like patients
//	pathogan prepare --brats DIR --out DIR             prepare the slice set (paper section 2.5)
//	pathogan info FILE.nii[.gz] [--json]               print a NIfTI header summary and value range
//	pathogan train --data DIR --preset NAME --steps N --out RUNDIR   train PathoGAN
//	pathogan train-baseline --data DIR --preset NAME --steps N --out RUNDIR   train the supervised U-Net
//	pathogan eval --run RUNDIR --data DIR              per-slice Dice, HD95, AVD into RUNDIR/eval.csv
//	pathogan table --runs RUNDIR,RUNDIR                Table 1 from evaluated runs
//	pathogan reproduce [--out DIR] [--preset NAME] [--brats DIR]   the whole Table 1 job, with a report
//	pathogan bench --preset NAME [--compare-torch] [--json]   time training steps, Go vs PyTorch
//	pathogan export --run RUNDIR --out FILE            the generators only, for inference
//	pathogan inspect --run RUNDIR --data DIR [--json]   latent samples, sensitivity, active units, areas
//	pathogan metrics --pred P.npy --truth T.npy [--json] [--empty skip|nan|worst]   Dice, HD95, AVD of two 2-D masks
//
// Run `pathogan COMMAND -h` for a command's options.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its one-line summary and its entry point, which
// parses its own flags from args.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"phantom":        {"write synthetic BraTS-like patients (NIfTI, BraTS layout)", runPhantom},
	"prepare":        {"prepare a BraTS copy into a cached slice set (paper section 2.5)", runPrepare},
	"info":           {"print a NIfTI file's header summary and value range", runInfo},
	"train":          {"train PathoGAN on a prepared slice set", runTrain},
	"train-baseline": {"train the fully supervised U-Net baseline on the same slices", runTrainBaseline},
	"eval":           {"score a trained PathoGAN or U-Net: per-slice Dice, HD95, AVD (eval.csv)", runEval},
	"reproduce":      {"the main job: data, PathoGAN and the U-Net, evaluation, Table 1 and figures in one report", runReproduce},
	"table":          {"Table 1 (Markdown and CSV) from evaluated runs, the paper's rows beside", runTable},
	"bench":          {"time full training steps (and the PyTorch reference with --compare-torch)", runBench},
	"metrics":        {"Dice, HD95 and average surface distance of two 2-D .npy masks", runMetrics},
	"export":         {"write a trained PathoGAN's generators to one file, for inference", runExport},
	"inspect":        {"diagnose a trained PathoGAN: latent samples, sensitivity to δB, active units, areas", runInspect},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pathogan COMMAND [options]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `pathogan COMMAND -h` for a command's options.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "pathogan: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := safeRun(cmd.run, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "pathogan %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// safeRun turns a panic (a programmer mistake inside a library) into an error.
func safeRun(run func([]string) error, args []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return run(args)
}

// newFlags returns a flag set for a subcommand that reports errors instead of
// exiting, with a usage line.
func newFlags(name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pathogan %s %s\n\noptions:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			continue
		}
	}
}
