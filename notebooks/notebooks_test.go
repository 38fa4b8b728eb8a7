// Package notebooks holds the GoNB notebooks and the test that executes
// them headlessly with Jupyter.
package notebooks

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// jupyter is Debian's Jupyter (the pyenv python3 on PATH may lack it).
const jupyter = "/usr/bin/jupyter"

// requirements reports what is missing to execute the notebooks: Jupyter's
// nbconvert, the GoNB kernel, goimports (GoNB fixes imports with it).
func requirements() []string {
	var missing []string
	if _, err := os.Stat(jupyter); err != nil {
		missing = append(missing, jupyter+" (apt-get install jupyter-nbconvert python3-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core)")
	} else if out, err := exec.Command(jupyter, "kernelspec", "list").CombinedOutput(); err != nil || !strings.Contains(string(out), "gonb") {
		missing = append(missing, "the GoNB kernel (build github.com/janpfeifer/gonb v0.11.1, then `gonb --install`)")
	}
	if _, err := exec.LookPath("goimports"); err != nil {
		missing = append(missing, "goimports on PATH (go install golang.org/x/tools/cmd/goimports@v0.52.0)")
	}
	return missing
}

// cell is the part of a notebook cell the test reads.
type cell struct {
	CellType string `json:"cell_type"`
	Source   any    `json:"source"`
	Outputs  []struct {
		OutputType string         `json:"output_type"`
		Name       string         `json:"name"`
		Text       any            `json:"text"`
		Data       map[string]any `json:"data"`
		EName      string         `json:"ename"`
		EValue     string         `json:"evalue"`
	} `json:"outputs"`
	// Metadata.Execution holds the times nbclient records for the cell
	// (record_timing): "shell.execute_reply" is when it finished.
	Metadata struct {
		Execution map[string]string `json:"execution"`
	} `json:"metadata"`
}

// TestNotebooks executes every notebook top to bottom with `jupyter nbconvert
// --execute` (which fails when a cell fails) and checks that each shows at
// least one picture and no error output. The notebooks' data and models go
// to a temporary folder; the explorer runs its headless branch. With
// PATHOGAN_NOTEBOOKS_UPDATE=1 the executed notebooks replace the committed
// ones, outputs included. Each notebook's log line gives the time from the
// start of the run (kernel start included) to the end of the first cell that
// shows a picture, and the whole run's time: printed, not asserted. Outside CI,
// missing Jupyter or GoNB skips with what to install; in CI it fails.
func TestNotebooks(t *testing.T) {
	if testing.Short() {
		t.Skip("executes every notebook")
	}
	if missing := requirements(); len(missing) > 0 {
		msg := "cannot execute the notebooks; missing: " + strings.Join(missing, "; ") + " (see docs/notebooks.md)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	names, err := filepath.Glob("*.ipynb")
	if err != nil || len(names) == 0 {
		t.Fatalf("no notebooks found: %v", err)
	}
	sort.Strings(names)
	work, out := t.TempDir(), t.TempDir()
	if os.Getenv("PATHOGAN_NOTEBOOKS_UPDATE") != "" {
		out = "." // write the executed notebooks (with their outputs) over the committed ones
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			cmd := exec.Command(jupyter, "nbconvert", "--to", "notebook", "--execute",
				"--ExecutePreprocessor.timeout=1800", "--ExecutePreprocessor.record_timing=True", "--output-dir", out, name)
			start := time.Now()
			cmd.Env = append(os.Environ(), "PATHOGAN_HEADLESS=1", "PATHOGAN_NOTEBOOK_WORK="+work, "PATHOGAN_BRATS=")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s failed: %v\n%s", name, err, b)
			}
			total := time.Since(start)
			b, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			var nb struct{ Cells []cell }
			if err := json.Unmarshal(b, &nb); err != nil {
				t.Fatalf("executed %s: %v", name, err)
			}
			pictures, firstCell := 0, -1
			for i, c := range nb.Cells {
				if firstCell < 0 && shows(c) {
					firstCell = i
				}
				for _, o := range c.Outputs {
					if o.OutputType == "error" {
						t.Errorf("cell %d: %s: %s", i, o.EName, o.EValue)
					}
					if o.Name == "stderr" && strings.Contains(textOf(o.Text), "panic:") {
						t.Errorf("cell %d panicked: %s", i, textOf(o.Text))
					}
					if _, ok := o.Data["image/png"]; ok {
						pictures++
					} else if strings.Contains(textOf(o.Data["text/html"]), "<img") {
						pictures++
					}
				}
			}
			// 05 needs a BraTS copy, which the test does not have.
			if !strings.HasPrefix(name, "05-") {
				if pictures == 0 {
					t.Errorf("%s shows no picture", name)
				}
				for i, c := range nb.Cells {
					if meantToShow(c) && !shows(c) {
						t.Errorf("cell %d calls a show function but shows no picture", i)
					}
				}
			}
			first := "no picture"
			if firstCell >= 0 {
				first = "first picture: no timing recorded"
				if end, err := time.Parse(time.RFC3339Nano, nb.Cells[firstCell].Metadata.Execution["shell.execute_reply"]); err == nil {
					first = fmt.Sprintf("first picture %.1f s after Run all (cell %d)", end.Sub(start).Seconds(), firstCell)
				}
			}
			t.Logf("%s: %d pictures; %s; all cells %.1f s", name, pictures, first, total.Seconds())
		})
	}
}

// shows reports whether a cell's outputs include a picture (a PNG, or HTML
// with an image).
func shows(c cell) bool {
	for _, o := range c.Outputs {
		if _, ok := o.Data["image/png"]; ok || strings.Contains(textOf(o.Data["text/html"]), "<img") {
			return true
		}
	}
	return false
}

// meantToShow reports whether a code cell runs (has a %% block) and calls
// one of gonbviz's show functions or showAblation, so that it should end with
// a picture in its output; a cell that says it "shows nothing until" something
// is there is exempt.
func meantToShow(c cell) bool {
	src := textOf(c.Source)
	_, body, ok := strings.Cut(src, "%%")
	return c.CellType == "code" && ok && !strings.Contains(body, "shows nothing until") &&
		(strings.Contains(body, "gonbviz.Show") || strings.Contains(body, "showAblation("))
}

// textOf joins a notebook text field (a string or a list of strings).
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, s := range x {
			if str, ok := s.(string); ok {
				b.WriteString(str)
			}
		}
		return b.String()
	}
	return ""
}
