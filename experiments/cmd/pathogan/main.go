// Command pathogan is the PathoGAN-Go toolkit's command line: synthetic and
// BraTS data, training PathoGAN and its fully supervised baselines,
// evaluation and the paper's Table 1, inspection, whole-patient segmentation
// and benchmarks. Each verb parses its own flags:
//
//	pathogan phantom --out DIR [--patients N] [--seed S]        write synthetic BraTS-like patients (NIfTI)
//	pathogan prepare --brats DIR --out DIR [--size N]           prepare the slice set (paper section 2.5)
//	pathogan info FILE.nii[.gz] [--json]                        a NIfTI header summary and value range
//	pathogan train --data DIR --steps N --out RUNDIR            train PathoGAN
//	pathogan train-baseline --data DIR --steps N --out RUNDIR [--model unet|mdgru]
//	                                                            train the fully supervised U-Net or MDGRU
//	pathogan eval --run RUNDIR --data DIR                       per-slice Dice, HD95, AVD into RUNDIR/eval.csv
//	pathogan table --runs RUNDIR,RUNDIR                         Table 1 from evaluated runs
//	pathogan reproduce [--out DIR] [--brats DIR]                the main job: Table 1 and figures in one report
//	pathogan bench [--preset NAME] [--set K=V;...] [--compare-torch]
//	                                                            time training steps, Go against PyTorch
//	pathogan metrics --pred P.npy --truth T.npy                 Dice, HD95, AVD of two 2-D masks
//	pathogan export --run RUNDIR --out FILE                     the generators only, for inference
//	pathogan inspect --run RUNDIR --data DIR                    latent samples, sensitivity, active units, areas
//	pathogan segment --in PATIENT_DIR --out DIR                 NIfTI labelmaps and healthy volumes of a whole scan
//	pathogan ablate --data DIR --out DIR [--variants LIST]      PathoGAN variants over seeds, against the full model
//
// The verbs that build a model take --preset (default small, the main
// job's) and --set "key=value;..." overrides of its config.
//
// "pathogan VERB -h" lists a verb's flags on stdout. Exit statuses follow Go's
// conventions: 0 for success and for help asked for, 2 for a usage error
// (no verb, an unknown verb or flag, a flag's value out of range, a
// required flag missing), 1 for a failure, 130 for a run stopped by SIGINT
// or SIGTERM. PATHOGAN_DEBUG=1 prints the stack of an internal error (a
// recovered panic).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
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
	"train-baseline": {"train a fully supervised baseline (U-Net or MDGRU) on the same slices", runTrainBaseline},
	"eval":           {"score a trained PathoGAN or baseline: per-slice Dice, HD95, AVD (eval.csv)", runEval},
	"reproduce":      {"the main job: data, PathoGAN and the U-Net, evaluation, Table 1 and figures in one report", runReproduce},
	"table":          {"Table 1 (Markdown and CSV) from evaluated runs, the paper's rows beside", runTable},
	"bench":          {"time full training steps (and the PyTorch reference with --compare-torch)", runBench},
	"metrics":        {"Dice, HD95 and average surface distance of two 2-D .npy masks", runMetrics},
	"export":         {"write a trained PathoGAN's generators to one file, for inference", runExport},
	"inspect":        {"diagnose a trained PathoGAN: latent samples, sensitivity to δB, active units, areas", runInspect},
	"ablate":         {"train PathoGAN variants over several seeds and compare them with the full model", runAblate},
	"segment":        {"segment a whole patient: NIfTI probability, mask and healthy volumes on the input's grid", runSegment},
}

// usage writes the command list to w.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pathogan COMMAND [options]\n\ncommands:")
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'pathogan COMMAND -h' (or 'pathogan help COMMAND') for a command's options.")
}

// main runs the command line and exits with its status (see exitStatus).
func main() {
	os.Exit(exitStatus(os.Args[1:]))
}

// exitStatus runs the command line args (without the program name) and
// returns its exit status, following Go's conventions: 0 for success and
// for help asked for (-h, --help, help), 2 for a usage error (no command,
// an unknown command or flag, a flag value out of range, a required flag
// missing), 1 for a failure, and 130 for a run stopped by SIGINT or
// SIGTERM. It prints every error once, on stderr.
func exitStatus(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(os.Stdout)
		return 0
	case "help":
		if len(args) == 1 {
			usage(os.Stdout)
			return 0
		}
		args = []string{args[1], "-h"}
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "pathogan: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		return 2
	}
	err := safeRun(cmd.run, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		if !ue.printed {
			fmt.Fprintf(os.Stderr, "pathogan %s: %v\n", args[0], err)
		}
		return 2
	}
	fmt.Fprintf(os.Stderr, "pathogan %s: %v\n", args[0], err)
	if errors.Is(err, training.ErrInterrupted) {
		return 130 // 128 + SIGINT, as a shell reports an interrupted command
	}
	return 1
}

// usageError is a command line that does not ask for a valid run: a flag
// that did not parse (printed already by the flag package, with the usage),
// a required flag or argument missing (see usagef), or a flag's value that
// cannot be used (see badFlag and asUsage).
type usageError struct {
	error
	printed bool
}

func (e usageError) Unwrap() error { return e.error }

// usagef prints fs's usage and returns a usage error with the message.
func usagef(fs *flag.FlagSet, format string, args ...any) error {
	fs.Usage()
	return usageError{error: fmt.Errorf(format, args...)}
}

// badFlag returns a usage error for a flag's value, formatted as by
// fmt.Errorf; the message names the flag and says what it accepts.
func badFlag(format string, args ...any) error {
	return usageError{error: fmt.Errorf(format, args...)}
}

// asUsage returns err, an error about a flag's value, as a usage error; it
// returns nil for nil.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{error: err}
}

// debugEnv names the environment variable that makes an internal error
// print its stack.
const debugEnv = "PATHOGAN_DEBUG"

// safeRun turns a panic (a programmer mistake inside a library) into an
// error. With PATHOGAN_DEBUG=1 it first prints the panic's stack on stderr.
func safeRun(run func([]string) error, args []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if os.Getenv(debugEnv) == "1" {
				fmt.Fprintf(os.Stderr, "%s\n", debug.Stack())
				err = fmt.Errorf("internal error: %v", r)
				return
			}
			err = fmt.Errorf("internal error: %v (%s=1 prints its stack)", r, debugEnv)
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
		// The flag package prints the usage (after the error, if any) to
		// fs's output: help asked for goes to stdout, an error to stderr.
		var printed bytes.Buffer
		fs.SetOutput(&printed)
		err := fs.Parse(args)
		fs.SetOutput(nil)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				os.Stdout.Write(printed.Bytes())
				return nil, err
			}
			os.Stderr.Write(printed.Bytes())
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
