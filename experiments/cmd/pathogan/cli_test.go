package main

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
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
		{args: []string{"help", "train"}, status: 0, stdout: "usage: pathogan train ", stderrNone: true},
		{args: []string{"train", "--help"}, status: 0, stdout: "usage: pathogan train ", stderrNone: true},
		{args: []string{"train", "-h"}, status: 0, stdout: "usage: pathogan train", stderrNone: true},
		{args: []string{"train", "--bogus"}, status: 2, stderr: "flag provided but not defined: -bogus"},
		{args: []string{"eval", "--split"}, status: 2, stderr: "flag needs an argument: -split"},
		{args: []string{"train", "--data", "x"}, status: 2, stderr: "--data, --out and --steps (or --epochs) are required"},
		{args: []string{"train", "--steps=-1"}, status: 2, stderr: "--steps -1: want 1 to"},
		{args: []string{"train", "--data", "x", "--out", "y", "--steps", "3", "--preset", "huge"}, status: 2, stderr: `unknown preset "huge"`},
		{args: []string{"train", "--data", "x", "--out", "y", "--steps", "3", "--set", "bogus=1"}, status: 2, stderr: `unknown setting "bogus"`},
		{args: []string{"train", "--steps", "many"}, status: 2, stderr: `invalid value "many" for flag -steps`},
		{args: []string{"train-baseline", "--data", "x", "--out", "y", "--steps", "3", "--model", "vit"}, status: 2, stderr: `--model "vit": want unet or mdgru`},
		{args: []string{"bench", "--set", "size=30"}, status: 2, stderr: "size 30: want a positive multiple of"},
		{args: []string{"bench", "--base", "8"}, status: 2, stderr: "flag provided but not defined: -base"},
		{args: []string{"metrics", "--pred", "p.npy", "--truth", "t.npy", "--empty", "zero"}, status: 2, stderr: `empty-mask policy "zero"`},
		{args: []string{"reproduce", "--empty", "zero"}, status: 2, stderr: `empty-mask policy "zero"`},
		{args: []string{"phantom", "--out", "/nonexistent/ph", "--patients", "0"}, status: 2, stderr: "--patients 0: want 1 to"},
		{args: []string{"prepare", "--brats", "/nonexistent/b", "--out", "/nonexistent/s", "--size", "-1"}, status: 2, stderr: "--size -1: want 0"},
		{args: []string{"help", "frobnicate"}, status: 2, stderr: `unknown command "frobnicate"`},
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

// helpFlag is one flag as a command's -h prints it.
type helpFlag struct {
	name, typ, usage, def string
}

// defaultRE matches the default that flag.PrintDefaults appends to a flag's
// usage.
var defaultRE = regexp.MustCompile(` \(default (.*)\)$`)

// parseHelp reads the flags out of flag.PrintDefaults' output: "  -name
// type" then the usage on the next line after "    \t", or for a one-letter
// boolean flag, "  -x\tusage" on one line.
func parseHelp(t *testing.T, help string) []helpFlag {
	t.Helper()
	var out []helpFlag
	lines := strings.Split(help, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		head, usage, oneLine := strings.Cut(line[2:], "\t")
		if !oneLine {
			if i+1 == len(lines) || !strings.HasPrefix(lines[i+1], "    \t") {
				t.Errorf("flag line %q is not followed by its usage", line)
				continue
			}
			usage = strings.TrimPrefix(lines[i+1], "    \t")
		}
		f := strings.Fields(head)
		h := helpFlag{name: strings.TrimPrefix(f[0], "-"), usage: usage}
		if len(f) > 1 {
			h.typ = f[1]
		}
		if m := defaultRE.FindStringSubmatch(usage); m != nil {
			h.def, h.usage = m[1], strings.TrimSuffix(usage, m[0])
		}
		out = append(out, h)
	}
	return out
}

// runMain runs the command line in this process and returns its exit
// status, stdout and stderr.
func runMain(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	stderr, _ = redirect(&os.Stderr, func() error {
		stdout, _ = redirect(&os.Stdout, func() error {
			status = exitStatus(args)
			return nil
		})
		return nil
	})
	return status, stdout, stderr
}

// TestHelp runs every command's -h (and "pathogan help COMMAND"): it exits
// 0 with the help on stdout and nothing on stderr, and every flag has help that reads as prose: not empty, one default at
// most, no backquotes (flag.UnquoteUsage takes backquoted text as the
// placeholder, so "from `pathogan prepare`" printed as "-data pathogan
// prepare"), and a placeholder that is the flag's type. Flags that several
// commands share have one default: --preset small and --empty skip
// everywhere, and every command with --preset takes --set. Before, -h
// exited 2, -preview-slice and -workers gave two defaults, --empty was nan
// in metrics and --preset mini in train.
func TestHelp(t *testing.T) {
	types := []string{"", "string", "int", "uint", "float", "duration", "value"}
	shared := map[string]map[string][]string{} // flag, default, commands
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, args := range [][]string{{name, "-h"}, {"help", name}} {
			status, help, stderr := runMain(t, args...)
			if status != 0 || stderr != "" {
				t.Errorf("pathogan %v: exit status %d, stderr %q; want 0 and the help on stdout", args, status, stderr)
			}
			if !strings.HasPrefix(help, "usage: pathogan "+name+" ") {
				t.Errorf("pathogan %v: help does not start with the usage line:\n%s", args, help)
			}
			if strings.Contains(help, "`") {
				t.Errorf("pathogan %v: help has backquotes:\n%s", args, help)
			}
			flags := parseHelp(t, help)
			if len(flags) == 0 {
				t.Errorf("pathogan %v: no flags in the help:\n%s", args, help)
			}
			if args[0] == "help" {
				continue
			}
			has := map[string]bool{}
			for _, f := range flags {
				has[f.name] = true
				if strings.TrimSpace(f.usage) == "" {
					t.Errorf("pathogan %s -%s: empty help", name, f.name)
				}
				if !slices.Contains(types, f.typ) {
					t.Errorf("pathogan %s -%s: placeholder %q is not a type name (a backquoted word in the usage?)", name, f.name, f.typ)
				}
				if n := strings.Count(strings.ToLower(f.usage), "default"); n+min(len(f.def), 1) > 1 {
					t.Errorf("pathogan %s -%s: two defaults: %q (default %s)", name, f.name, f.usage, f.def)
				}
				if shared[f.name] == nil {
					shared[f.name] = map[string][]string{}
				}
				shared[f.name][f.def] = append(shared[f.name][f.def], name)
			}
			if has["preset"] && !has["set"] {
				t.Errorf("pathogan %s has --preset but no --set", name)
			}
		}
	}
	for flag, want := range map[string]string{"preset": `"small"`, "empty": `"skip"`, "set": ""} {
		for def, cmds := range shared[flag] {
			if def != want {
				t.Errorf("--%s defaults to %s in %v, want %s as everywhere else", flag, def, cmds, want)
			}
		}
	}
	if len(shared["preset"][`"small"`]) < 4 || len(shared["empty"][`"skip"`]) < 3 {
		t.Errorf("--preset in %v, --empty in %v: want train, train-baseline, reproduce, bench and eval, reproduce, metrics",
			shared["preset"], shared["empty"])
	}
}

// TestCommandList: "pathogan -h" lists every command with its summary, the
// summaries aligned in one column after at least two spaces. Before,
// "train-baseline" ran into its summary.
func TestCommandList(t *testing.T) {
	status, list, stderr := runMain(t, "-h")
	if status != 0 || stderr != "" {
		t.Fatalf("pathogan -h: status %d, stderr %q", status, stderr)
	}
	column := -1
	for name, c := range commands {
		line := "  " + name + "  "
		i := strings.Index(list, line)
		if i < 0 {
			t.Errorf("%q: not listed with two spaces after its name:\n%s", name, list)
			continue
		}
		rest := list[i+len(line):]
		rest = rest[:strings.IndexByte(rest, '\n')]
		col := len(line) + len(rest) - len(strings.TrimLeft(rest, " "))
		if strings.TrimSpace(rest) != c.summary {
			t.Errorf("%q: summary %q, want %q", name, strings.TrimSpace(rest), c.summary)
		}
		if column >= 0 && col != column {
			t.Errorf("%q: summary at column %d, others at %d:\n%s", name, col, column, list)
		}
		column = col
	}
}

// TestInternalError: a panic inside a command exits 1 with one line,
// "internal error: ...", that says how to see the stack; with
// PATHOGAN_DEBUG=1 the stack comes first. Before, the stack was lost.
func TestInternalError(t *testing.T) {
	commands["panic-test"] = command{"panics", func([]string) error { panic("boom") }}
	defer delete(commands, "panic-test")
	for _, debug := range []string{"", "1"} {
		t.Setenv(debugEnv, debug)
		status, _, stderr := runMain(t, "panic-test")
		if status != 1 {
			t.Errorf("%s=%s: exit status %d, want 1", debugEnv, debug, status)
		}
		if n := strings.Count(stderr, "internal error: boom"); n != 1 {
			t.Errorf("%s=%s: %q printed %d times, want once:\n%s", debugEnv, debug, "internal error: boom", n, stderr)
		}
		stack := strings.Contains(stderr, "goroutine ") && strings.Contains(stderr, "TestInternalError")
		if debug == "1" && !stack {
			t.Errorf("%s=1: no stack:\n%s", debugEnv, stderr)
		}
		if debug == "" && (stack || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, debugEnv+"=1")) {
			t.Errorf("without %s: want one line naming %s=1:\n%s", debugEnv, debugEnv, stderr)
		}
	}
}

// TestPackageDoc: the command's package doc lists every command, and only
// commands that exist. Before, it missed some and called train-baseline
// the U-Net's alone.
func TestPackageDoc(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\tpathogan ([a-z-]+)`).FindAllStringSubmatch(doc, -1) {
		listed[m[1]] = true
		if _, ok := commands[m[1]]; !ok {
			t.Errorf("the package doc lists %q, which is not a command", m[1])
		}
	}
	for name := range commands {
		if !listed[name] {
			t.Errorf("the package doc does not list %q", name)
		}
	}
	if !strings.Contains(doc, "U-Net or MDGRU") {
		t.Error("the package doc does not say train-baseline trains the U-Net or MDGRU")
	}
}
