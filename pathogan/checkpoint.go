package pathogan

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

// A checkpoint is one file, checkpoint-<step>.ckpt:
//
//	"PGANCKPT" | uint64 header length (little-endian) | JSON header | raw tensors
//
// The header holds the step, the Config (so the model is rebuilt from the
// checkpoint alone) and, per variable, its scope/name, dtype, dimensions and
// byte range. Every variable of the context is saved: weights, Adam moments,
// learning rates, the random-number state. Files are written under a
// temporary name and renamed, so a checkpoint on disk is always complete.

const checkpointMagic = "PGANCKPT"

type ckptVar struct {
	Name   string `json:"name"` // Variable.ParameterName(): "/scope/.../name"
	DType  string `json:"dtype"`
	Dims   []int  `json:"dims"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	// Trainable is the variable's trainable flag (Adam's moments, the
	// learning rates and the step counters are not).
	Trainable bool `json:"trainable"`
}

type ckptHeader struct {
	Step      int       `json:"step"`
	Config    Config    `json:"config"`
	Variables []ckptVar `json:"variables"`
	// Pools holds the image pools' contents (nil when empty).
	Pools *poolState `json:"pools,omitempty"`
}

// CheckpointName returns the file name of the checkpoint of a step.
func CheckpointName(step int) string { return fmt.Sprintf("checkpoint-%08d.ckpt", step) }

// SaveCheckpoint writes every variable of ctx, the config and the step (and
// the pools when not nil) to dir/CheckpointName(step), atomically, and then
// removes all but the newest keep checkpoints (keep <= 0 keeps all).
func SaveCheckpoint(dir string, ctx *context.Context, cfg Config, step int, pools *poolState, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	h := ckptHeader{Step: step, Config: cfg, Pools: pools}
	var vars []*context.Variable
	var off int64
	ctx.EnumerateVariables(func(v *context.Variable) {
		s := v.Shape()
		n := int64(s.Memory())
		h.Variables = append(h.Variables, ckptVar{Name: v.ParameterName(), DType: s.DType.String(), Dims: s.Dimensions, Offset: off, Length: n, Trainable: v.Trainable})
		vars = append(vars, v)
		off += n
	})
	js, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, CheckpointName(step))
	f, err := os.CreateTemp(dir, ".checkpoint-*.tmp")
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("saving %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(checkpointMagic)
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
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	if keep > 0 {
		list, _ := ListCheckpoints(dir)
		for len(list) > keep {
			os.Remove(list[0])
			list = list[1:]
		}
	}
	return path, nil
}

// ListCheckpoints returns the checkpoint files in dir, oldest first.
func ListCheckpoints(dir string) ([]string, error) {
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

// LatestCheckpoint returns the newest checkpoint in dir, or "" when none.
func LatestCheckpoint(dir string) (string, error) {
	list, err := ListCheckpoints(dir)
	if err != nil || len(list) == 0 {
		return "", err
	}
	return list[len(list)-1], nil
}

// readCheckpointHeader reads the header of a checkpoint file and returns it
// with the offset of the tensor data.
func readCheckpointHeader(r io.Reader, path string) (*ckptHeader, int64, error) {
	magic := make([]byte, len(checkpointMagic)+8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic[:8]) != checkpointMagic {
		return nil, 0, fmt.Errorf("%s: not a PathoGAN checkpoint", path)
	}
	n := binary.LittleEndian.Uint64(magic[8:])
	if n > 1<<30 {
		return nil, 0, fmt.Errorf("%s: corrupt header length %d", path, n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, 0, fmt.Errorf("%s: truncated header: %w", path, err)
	}
	var h ckptHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return &h, int64(len(magic)) + int64(n), nil
}

// ReadCheckpointConfig returns the config and step stored in a checkpoint.
func ReadCheckpointConfig(path string) (Config, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, 0, err
	}
	defer f.Close()
	h, _, err := readCheckpointHeader(bufio.NewReader(f), path)
	if err != nil {
		return Config{}, 0, err
	}
	return h.Config, h.Step, nil
}

// LoadCheckpoint reads a checkpoint into ctx: every stored variable is set
// (created when missing). It returns the config, the step and the pools.
func LoadCheckpoint(path string, ctx *context.Context) (Config, int, *poolState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, 0, nil, err
	}
	h, start, err := readCheckpointHeader(bytes.NewReader(b), path)
	if err != nil {
		return Config{}, 0, nil, err
	}
	if err := h.Config.Validate(); err != nil {
		return Config{}, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	ctx = ctx.Checked(false)
	for _, v := range h.Variables {
		dt, err := dtypes.DTypeString(v.DType)
		if err != nil {
			return Config{}, 0, nil, fmt.Errorf("%s: variable %s: dtype %q: %w", path, v.Name, v.DType, err)
		}
		shape := shapes.Make(dt, v.Dims...)
		if int64(shape.Memory()) != v.Length || start+v.Offset+v.Length > int64(len(b)) || v.Offset < 0 {
			return Config{}, 0, nil, fmt.Errorf("%s: variable %s: %d bytes at %d do not fit shape %s in a %d-byte file (truncated?)", path, v.Name, v.Length, v.Offset, shape, len(b))
		}
		t := tensors.FromShape(shape)
		raw := b[start+v.Offset : start+v.Offset+v.Length]
		t.MutableBytes(func(dst []byte) { copy(dst, raw) })
		scope, name := context.VariableScopeAndNameFromParameterName(v.Name)
		if existing := ctx.GetVariableByScopeAndName(scope, name); existing != nil {
			if !existing.Shape().Equal(shape) {
				return Config{}, 0, nil, fmt.Errorf("%s: variable %s has shape %s, the model has %s", path, v.Name, shape, existing.Shape())
			}
			if err := existing.SetValue(t); err != nil {
				return Config{}, 0, nil, err
			}
			existing.SetTrainable(v.Trainable)
			continue
		}
		ctx.InAbsPath(scope).VariableWithValue(name, t).SetTrainable(v.Trainable)
	}
	return h.Config, h.Step, h.Pools, nil
}
