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
//	pathogan segment --in PATIENT_DIR --out DIR [--model RUNDIR]   NIfTI labelmaps and healthy volumes of a whole scan
//	pathogan ablate --data DIR --out DIR [--variants LIST] [--seeds 1,2,3]   PathoGAN variants over seeds, against the full model
//	pathogan metrics --pred P.npy --truth T.npy [--json] [--empty skip|nan|worst]   Dice, HD95, AVD of two 2-D masks
//
// Run `pathogan COMMAND -h` for a command's options.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/pathogan-go/pathogan/pathogan/training"
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
	"segment":        {"segment a whole patient: NIfTI probability, mask and healthy volumes on the input's grid", runSegment},
	"ablate":         {"train PathoGAN variants over several seeds and compare them with the full model", runAblate},
}

// usage writes the command list to w.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pathogan COMMAND [options]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `pathogan COMMAND -h` (or `pathogan help COMMAND`) for a command's options.")
}

// main follows Go's conventions for exit statuses: 0 for success and for
// help asked for (-h, --help, help), 2 for a usage error (no command, an
// unknown command or flag), 1 for a failure, and 130 for a run stopped by
// SIGINT or SIGTERM.
func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		usage(os.Stderr)
		os.Exit(2)
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(os.Stdout)
		os.Exit(0)
	case "help":
		if len(args) == 1 {
			usage(os.Stdout)
			os.Exit(0)
		}
		args = []string{args[1], "-h"}
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "pathogan: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		os.Exit(2)
	}
	err := safeRun(cmd.run, args[1:])
	var ue usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &ue):
		if !ue.printed {
			fmt.Fprintf(os.Stderr, "pathogan %s: %v\n", args[0], err)
		}
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "pathogan %s: %v\n", args[0], err)
		if errors.Is(err, training.ErrInterrupted) {
			os.Exit(130) // 128 + SIGINT, as a shell reports an interrupted command
		}
		os.Exit(1)
	}
}

// usageError is a command line that does not ask for a valid run: a flag
// that did not parse (printed already by the flag package, with the usage),
// or a required flag or argument missing (see usagef).
type usageError struct {
	error
	printed bool
}

// usagef prints fs's usage and returns a usage error with the message.
func usagef(fs *flag.FlagSet, format string, args ...any) error {
	fs.Usage()
	return usageError{error: fmt.Errorf(format, args...)}
}

func (e usageError) Unwrap() error { return e.error }

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
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{error: err, printed: true}
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
