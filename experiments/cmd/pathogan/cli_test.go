package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestExitStatuses: the command follows Go's conventions. Help that was
// asked for exits 0 (the command list on stdout), a usage error exits 2
// and prints its message once, and a failure exits 1. Before, help exited 2,
// a bad flag exited 1 and printed its error twice.
func TestExitStatuses(t *testing.T) {
	bin, env := self(t)
	for _, c := range []struct {
		args       []string
		status     int
		stdout     string // substring of stdout
		stderr     string // substring of stderr, which must appear exactly once
		stderrNone bool
	}{
		{args: nil, status: 2, stderr: "usage: pathogan COMMAND"},
		{args: []string{"--help"}, status: 0, stdout: "usage: pathogan COMMAND", stderrNone: true},
		{args: []string{"-h"}, status: 0, stdout: "train-baseline"},
		{args: []string{"help"}, status: 0, stdout: "reproduce"},
		{args: []string{"help", "train"}, status: 0, stderr: "usage: pathogan train"},
		{args: []string{"train", "-h"}, status: 0, stderr: "usage: pathogan train"},
		{args: []string{"train", "--bogus"}, status: 2, stderr: "flag provided but not defined: -bogus"},
		{args: []string{"eval", "--split"}, status: 2, stderr: "flag needs an argument: -split"},
		{args: []string{"train", "--data", "x"}, status: 2, stderr: "--data, --out and --steps (or --epochs) are required"},
		{args: []string{"frobnicate"}, status: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"info", "/nonexistent/scan.nii.gz"}, status: 1, stderr: "/nonexistent/scan.nii.gz"},
		{args: []string{"segment", "--in", "x"}, status: 2, stderr: "--out is required"},
		{args: []string{"segment", "--out", "o", "--flair", "f.nii.gz"}, status: 2, stderr: "missing --t1, --t1ce, --t2"},
		{args: []string{"segment", "--out", "o", "--in", "x", "--slices", "9..3"}, status: 2, stderr: `--slices: "9..3"`},
		{args: []string{"segment", "--out", "/nonexistent/o", "--in", "/nonexistent/P7"}, status: 1, stderr: "cannot read /nonexistent/P7"},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Env = append(cmd.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		status := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if status != c.status {
			t.Errorf("pathogan %v: exit status %d, want %d\nstderr:\n%s", c.args, status, c.status, stderr.String())
		}
		if !strings.Contains(stdout.String(), c.stdout) {
			t.Errorf("pathogan %v: stdout lacks %q:\n%s", c.args, c.stdout, stdout.String())
		}
		if n := strings.Count(stderr.String(), c.stderr); c.stderr != "" && n != 1 {
			t.Errorf("pathogan %v: stderr has %q %d times, want once:\n%s", c.args, c.stderr, n, stderr.String())
		}
		if c.stderrNone && stderr.Len() > 0 {
			t.Errorf("pathogan %v: stderr not empty:\n%s", c.args, stderr.String())
		}
		if strings.Contains(stderr.String(), "goroutine ") {
			t.Errorf("pathogan %v printed a Go stack:\n%s", c.args, stderr.String())
		}
	}
}
