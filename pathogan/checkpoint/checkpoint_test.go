package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
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
	if found, _, err := Find(dir); err != nil || found != paths[2] {
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
	// Read parses the same header, and its Into sets the same values.
	f, err := Read(paths[2])
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.Step != 12 || string(f.Header.State) != `{"A":[[1]]}` || len(f.Header.Variables) != 2 {
		t.Errorf("Read: header %+v", f.Header)
	}
	fresh := context.New()
	if err := f.Into(fresh); err != nil {
		t.Fatal(err)
	}
	fw := fresh.GetVariableByScopeAndName("/net/layer", "weights")
	if fw == nil || fw.MustValue().Value().([][]float32)[1][0] != 3 {
		t.Error("Read then Into: weights not restored")
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
	if _, _, err := Find(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
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

// TestDamageIsFound: a flipped bit anywhere (header or data), a NaN or an
// infinity in the weights, a cut or an appended byte each make Load and
// Verify fail with ErrDamaged and the file's name. Before checksums, a
// flipped data bit and NaN weights loaded silently.
func TestDamageIsFound(t *testing.T) {
	dir := t.TempDir()
	p, err := Save(dir, newContext(), Header{Step: 3, Config: json.RawMessage(`{"a":1}`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(p)
	if _, err := Verify(p); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	_, start, _, err := readHeader(bytes.NewReader(good), p)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		return b
	}
	withFloat := func(f float32) []byte { // the first weight, data offset 0
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[start:], math.Float32bits(f))
		// Recompute the checksum, as a writer of bad values would.
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crcTable))
		return b
	}
	cases := map[string][]byte{
		"data bit":   flip(int(start) + 5),
		"header bit": flip(20),
		"crc bit":    flip(len(good) - 1),
		"nan":        withFloat(float32(math.NaN())),
		"inf":        withFloat(float32(math.Inf(-1))),
		"cut":        good[:len(good)-1],
		"appended":   append(bytes.Clone(good), 0),
	}
	for name, b := range cases {
		path := filepath.Join(dir, name+".ckpt")
		os.WriteFile(path, b, 0o644)
		_, lerr := Load(path, context.New())
		_, verr := Verify(path)
		for _, err := range []error{lerr, verr} {
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: %v, want an error naming the file", name, err)
			} else if name != "header bit" && !errors.Is(err, ErrDamaged) {
				t.Errorf("%s: %v does not wrap ErrDamaged", name, err)
			}
		}
		if _, err := LoadBytes(b, name, context.New()); err == nil {
			t.Errorf("%s: LoadBytes accepted it", name)
		}
	}
}

// TestLayoutIsChecked: a header whose variables overlap, or that names a
// variable twice, is damage even when the lengths add up to the file's and
// the checksum is right.
func TestLayoutIsChecked(t *testing.T) {
	dir := t.TempDir()
	p, err := Save(dir, newContext(), Header{Step: 3, Config: json.RawMessage(`{}`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(p)
	h, start, _, err := readHeader(bytes.NewReader(good), p)
	if err != nil || len(h.Variables) != 2 || h.Variables[0].Length != 16 || h.Variables[1].Length != 8 {
		t.Fatalf("unexpected layout %+v: %v", h, err)
	}
	data := good[start : len(good)-4]
	// rebuild writes a checkpoint with header h and tensor data d, as a
	// writer with another layout would, checksum included.
	rebuild := func(h Header, d []byte) []byte {
		js, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString(magic)
		binary.Write(&b, binary.LittleEndian, uint64(len(js)))
		b.Write(js)
		b.Write(d)
		return binary.LittleEndian.AppendUint32(b.Bytes(), crc32.Checksum(b.Bytes(), crcTable))
	}
	if _, err := LoadBytes(rebuild(*h, data), "same", context.New()); err != nil {
		t.Fatalf("rebuilt intact file: %v", err)
	}
	overlap := *h
	overlap.Variables = slices.Clone(h.Variables)
	overlap.Variables[1].Offset = 8 // the step read from the weights' last 8 bytes
	gap := *h
	gap.Variables = slices.Clone(h.Variables)
	gap.Variables[1].Offset = 24 // 8 unexplained bytes before the step
	twice := *h
	twice.Variables = slices.Clone(h.Variables)
	twice.Variables[1] = twice.Variables[0]
	twice.Variables[1].Offset = 16
	cases := map[string]struct {
		b    []byte
		want string
	}{
		"overlap": {rebuild(overlap, data[:16]), "overlapping"},
		"gap":     {rebuild(gap, append(append(bytes.Clone(data[:16]), make([]byte, 8)...), data[16:]...)), "gap"},
		"twice":   {rebuild(twice, append(bytes.Clone(data[:16]), data[:16]...)), "stored twice"},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name+".ckpt")
		os.WriteFile(path, c.b, 0o644)
		_, lerr := Load(path, context.New())
		_, verr := Verify(path)
		for _, err := range []error{lerr, verr} {
			if err == nil || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: %v, want damage naming the file and %q", name, err, c.want)
			}
		}
	}
}

// TestLatestPassesOverDamage: with the newest checkpoint damaged, Latest and
// Find return the one before and name the damaged file; checkpoints are
// ordered by the step inside them, not by their names; RemoveTemps clears
// the remnants of killed saves.
func TestLatestPassesOverDamage(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, step := range []int{10, 20, 30} {
		p, err := Save(dir, newContext(), Header{Step: step, Config: json.RawMessage(`{}`)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	b, _ := os.ReadFile(paths[2])
	b[len(b)/2] ^= 1
	os.WriteFile(paths[2], b, 0o644)
	got, skipped, err := Latest(dir)
	if err != nil || got != paths[1] || len(skipped) != 1 || !strings.Contains(skipped[0].Error(), paths[2]) {
		t.Errorf("Latest = %q, %v, %v; want %s, passing over %s", got, skipped, err, paths[1], paths[2])
	}
	if got, skipped, err := Find(dir); err != nil || got != paths[1] || len(skipped) != 1 {
		t.Errorf("Find = %q, %v, %v", got, skipped, err)
	}
	// A file named to sort last but holding step 5 is the oldest.
	renamed := filepath.Join(dir, Name(99))
	p5, err := Save(t.TempDir(), newContext(), Header{Step: 5, Config: json.RawMessage(`{}`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p5)
	os.WriteFile(renamed, raw, 0o644)
	list, _ := List(dir)
	if len(list) != 4 || list[0] != renamed {
		t.Errorf("List = %v, want %s (step 5) first", list, renamed)
	}
	// Remnants of a killed save.
	tmp := filepath.Join(dir, ".checkpoint-123.tmp")
	os.WriteFile(tmp, []byte("half"), 0o644)
	if removed, err := RemoveTemps(dir); err != nil || len(removed) != 1 || removed[0] != tmp {
		t.Errorf("RemoveTemps = %v, %v", removed, err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("%s still there", tmp)
	}
	// A checkpoint written now is readable by everyone, like the run's other files.
	if st, _ := os.Stat(paths[0]); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
}
