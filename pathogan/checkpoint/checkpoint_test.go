package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// newContext holds two variables in nested scopes, one not trainable.
func newContext() *context.Context {
	ctx := context.New()
	ctx.In("net").In("layer").VariableWithValue("weights", tensors.FromValue([][]float32{{1, 2}, {3, 4}}))
	ctx.In("opt").VariableWithValue("step", tensors.FromValue(int64(7))).SetTrainable(false)
	return ctx
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	h := Header{Step: 12, Model: "unet", Config: json.RawMessage(`{"size":32}`), State: json.RawMessage(`{"A":[[1]]}`)}
	var paths []string
	for step := 10; step <= 12; step++ {
		h.Step = step
		p, err := Save(dir, newContext(), h, 2)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	list, _ := List(dir)
	if len(list) != 2 || list[0] != paths[1] || list[1] != paths[2] {
		t.Fatalf("kept %v, want the newest two of %v", list, paths)
	}
	if found, err := Find(dir); err != nil || found != paths[2] {
		t.Errorf("Find(dir) = %q, %v; want %q", found, err, paths[2])
	}
	ctx := context.New()
	got, err := Load(paths[2], ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != 12 || got.Model != "unet" || string(got.Config) != `{"size":32}` || string(got.State) != `{"A":[[1]]}` || len(got.Variables) != 2 {
		t.Errorf("header %+v", got)
	}
	w := ctx.GetVariableByScopeAndName("/net/layer", "weights")
	s := ctx.GetVariableByScopeAndName("/opt", "step")
	if w == nil || s == nil {
		t.Fatal("variables not restored")
	}
	wv, _ := w.Value()
	if v := wv.Value().([][]float32); v[1][0] != 3 || v[0][1] != 2 || !w.Trainable {
		t.Errorf("weights %v trainable %v", v, w.Trainable)
	}
	sv, _ := s.Value()
	if sv.Value().(int64) != 7 || s.Trainable {
		t.Errorf("step %v trainable %v; want 7, false", sv.Value(), s.Trainable)
	}
	// Loading into a context whose variable has another shape fails, naming it.
	other := context.New()
	other.In("net").In("layer").VariableWithValue("weights", tensors.FromValue([]float32{1, 2, 3}))
	if _, err := Load(paths[2], other); err == nil || !strings.Contains(err.Error(), "/net/layer/weights") {
		t.Errorf("shape mismatch: %v", err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	p, err := Save(dir, newContext(), Header{Step: 1, Config: json.RawMessage(`{}`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	for name, content := range map[string][]byte{
		"truncated.ckpt": b[:len(b)-3],
		"magic.ckpt":     append([]byte("NOTACKPT"), b[8:]...),
		"header.ckpt":    b[:30],
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, content, 0o644)
		if _, err := Load(path, context.New()); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
	if _, err := Find(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("Find of an empty folder: %v", err)
	}
	// No temporary file is left behind by Save.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}
}
