// Package checkpoint saves and loads the variables of a GoMLX context, with a
// model's name, config and extra state, as one file, checkpoint-<step>.ckpt:
//
//	"PGANCKPT" | uint64 header length (little-endian) | JSON header | raw tensors
//
// The header holds the step, the model's name and config (so a model is
// rebuilt from its checkpoint alone), optional model state (PathoGAN's image
// pools) and, per variable, its scope/name, dtype, dimensions, trainable flag
// and byte range. Every variable of the context is saved: weights, optimiser
// moments, learning rates, the random-number state. Files are written under a
// temporary name, synced and renamed, so a checkpoint on disk is always
// complete. PathoGAN (package pathogan) and the supervised U-Net baseline
// (package unet) both use it.
package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// magic starts every checkpoint file.
const magic = "PGANCKPT"

// Dir is the folder of a run that holds its checkpoints.
const Dir = "checkpoints"

// Var describes one stored variable.
type Var struct {
	Name      string `json:"name"` // Variable.ParameterName(): "/scope/.../name"
	DType     string `json:"dtype"`
	Dims      []int  `json:"dims"`
	Offset    int64  `json:"offset"` // from the start of the tensor data
	Length    int64  `json:"length"`
	Trainable bool   `json:"trainable"`
}

// Header is a checkpoint's JSON header.
type Header struct {
	Step int `json:"step"`
	// Model names the model the variables belong to ("unet"; empty or
	// "pathogan" for PathoGAN).
	Model string `json:"model,omitempty"`
	// Config is the model's config as JSON.
	Config json.RawMessage `json:"config"`
	// State is extra model state as JSON (PathoGAN: its image pools).
	State json.RawMessage `json:"pools,omitempty"`
	// Variables are filled in by Save.
	Variables []Var `json:"variables"`
}

// Name is the file name of the checkpoint of a step.
func Name(step int) string { return fmt.Sprintf("checkpoint-%08d.ckpt", step) }

// Save writes every variable of ctx with header h (its Variables are filled
// in) to dir/Name(h.Step), atomically, and then deletes the oldest
// checkpoints in dir beyond keep (0: keep all). It returns the path written.
func Save(dir string, ctx *context.Context, h Header, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, Name(h.Step))
	if err := WriteFile(path, ctx, h, nil); err != nil {
		return "", err
	}
	if keep > 0 {
		list, _ := List(dir)
		for len(list) > keep {
			os.Remove(list[0])
			list = list[1:]
		}
	}
	return path, nil
}

// WriteFile writes the variables of ctx for which keep returns true (all
// when keep is nil) with header h to path, atomically (a temporary file in
// the same folder, synced, then renamed).
func WriteFile(path string, ctx *context.Context, h Header, keep func(*context.Variable) bool) error {
	dir := filepath.Dir(path)
	h.Variables = nil
	var vars []*context.Variable
	var off int64
	ctx.EnumerateVariables(func(v *context.Variable) {
		if keep != nil && !keep(v) {
			return
		}
		s := v.Shape()
		n := int64(s.Memory())
		h.Variables = append(h.Variables, Var{Name: v.ParameterName(), DType: s.DType.String(), Dims: s.Dimensions,
			Offset: off, Length: n, Trainable: v.Trainable})
		vars = append(vars, v)
		off += n
	})
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".checkpoint-*.tmp")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("saving %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(magic)
	binary.Write(w, binary.LittleEndian, uint64(len(js)))
	w.Write(js)
	for _, v := range vars {
		t, err := v.Value()
		if err != nil {
			return fail(err)
		}
		var werr error
		if err := t.ConstBytes(func(b []byte) { _, werr = w.Write(b) }); err != nil {
			return fail(err)
		}
		if werr != nil {
			return fail(werr)
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// List returns the checkpoint files in dir, oldest first (nil if dir does
// not exist).
func List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "checkpoint-") && strings.HasSuffix(e.Name(), ".ckpt") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Latest returns the newest checkpoint in dir, or "" if there is none.
func Latest(dir string) (string, error) {
	list, err := List(dir)
	if err != nil || len(list) == 0 {
		return "", err
	}
	return list[len(list)-1], nil
}

// Find resolves a checkpoint file, or the newest checkpoint of a run folder
// (in its checkpoints folder) or of a checkpoints folder.
func Find(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return path, nil
	}
	if p, _ := Latest(filepath.Join(path, Dir)); p != "" {
		return p, nil
	}
	if p, _ := Latest(path); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%s: no checkpoint-*.ckpt in it or in its %s folder", path, Dir)
}

// readHeader reads the header of a checkpoint and returns it with the
// offset of the tensor data.
func readHeader(r io.Reader, path string) (*Header, int64, error) {
	m := make([]byte, len(magic)+8)
	if _, err := io.ReadFull(r, m); err != nil || string(m[:len(magic)]) != magic {
		return nil, 0, fmt.Errorf("%s: not a PathoGAN-Go checkpoint", path)
	}
	n := binary.LittleEndian.Uint64(m[len(magic):])
	if n > 1<<30 {
		return nil, 0, fmt.Errorf("%s: corrupt header length %d", path, n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, 0, fmt.Errorf("%s: truncated header: %w", path, err)
	}
	var h Header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return &h, int64(len(m)) + int64(n), nil
}

// ReadHeader returns a checkpoint's header without reading its tensors.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, _, err := readHeader(bufio.NewReader(f), path)
	return h, err
}

// Load reads a checkpoint into ctx: every stored variable is set (created
// when missing; a shape that differs from an existing variable's is an
// error) with its trainable flag. It returns the header.
func Load(path string, ctx *context.Context) (*Header, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return LoadBytes(b, path, ctx)
}

// LoadBytes is Load on a checkpoint held in memory (an embedded one, say);
// name stands for the file in errors.
func LoadBytes(b []byte, name string, ctx *context.Context) (*Header, error) {
	path := name
	h, start, err := readHeader(bytes.NewReader(b), path)
	if err != nil {
		return nil, err
	}
	ctx = ctx.Checked(false)
	for _, v := range h.Variables {
		dt, err := dtypes.DTypeString(v.DType)
		if err != nil {
			return nil, fmt.Errorf("%s: variable %s: dtype %q: %w", path, v.Name, v.DType, err)
		}
		shape := shapes.Make(dt, v.Dims...)
		if int64(shape.Memory()) != v.Length || start+v.Offset+v.Length > int64(len(b)) || v.Offset < 0 {
			return nil, fmt.Errorf("%s: variable %s: %d bytes at %d do not fit shape %s in a %d-byte file (truncated?)", path, v.Name, v.Length, v.Offset, shape, len(b))
		}
		t := tensors.FromShape(shape)
		raw := b[start+v.Offset : start+v.Offset+v.Length]
		t.MutableBytes(func(dst []byte) { copy(dst, raw) })
		scope, name := context.VariableScopeAndNameFromParameterName(v.Name)
		if existing := ctx.GetVariableByScopeAndName(scope, name); existing != nil {
			if !existing.Shape().Equal(shape) {
				return nil, fmt.Errorf("%s: variable %s has shape %s, the model has %s", path, v.Name, shape, existing.Shape())
			}
			if err := existing.SetValue(t); err != nil {
				return nil, err
			}
			existing.SetTrainable(v.Trainable)
			continue
		}
		ctx.InAbsPath(scope).VariableWithValue(name, t).SetTrainable(v.Trainable)
	}
	return h, nil
}
