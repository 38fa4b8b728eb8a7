package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pathogan-go/pathogan/pathogan/training"
)

// interrupts catches SIGINT and SIGTERM for a command that trains. The first
// signal closes the returned channel (RunOptions.Stop), so training ends
// after its current step with a checkpoint; a second signal exits at once
// with status 130, which leaves the folder resumable from its newest
// checkpoint (saves are atomic, log rows whole). release stops catching.
func interrupts(resume string) (stop <-chan struct{}, release func()) {
	sig := make(chan os.Signal, 2)
	ch := make(chan struct{})
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for {
			select {
			case s := <-sig:
				n++
				if n == 1 {
					fmt.Fprintf(os.Stderr, "\npathogan: %v: stopping after the current step with a checkpoint (send it again to quit at once)\n", s)
					close(ch)
					continue
				}
				fmt.Fprintf(os.Stderr, "\npathogan: %v again: quitting now; %s\n", s, resume)
				os.Exit(130)
			case <-done:
				return
			}
		}
	}()
	return ch, func() {
		signal.Stop(sig)
		close(done)
	}
}

// interrupted turns the error of a training that a signal stopped into a
// message that says how to resume.
func interrupted(err error, resume string) error {
	if errors.Is(err, training.ErrInterrupted) {
		return fmt.Errorf("%w; %s", err, resume)
	}
	return err
}

// noteStderr prints a training run's notes (training.RunOptions.Note).
func noteStderr(msg string) { fmt.Fprintf(os.Stderr, "note: %s\n", msg) }

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// maxSteps bounds --steps and --epochs: beyond it a run would not end in a
// lifetime on any machine, and the value is a typo.
const maxSteps = 100_000_000
