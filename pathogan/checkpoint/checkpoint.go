// Package checkpoint saves and loads the variables of a GoMLX context, with a
// model's name, config and extra state, as one file, checkpoint-<step>.ckpt:
//
//	"PGANCKP2" | uint64 header length (little-endian) | JSON header | raw tensors | uint32 CRC-32C
//
// The header holds the step, the model's name and config (so a model is
// rebuilt from its checkpoint alone), the total steps of the run's schedule,
// optional model state (PathoGAN's image pools) and, per variable, its
// scope/name, dtype, dimensions, trainable flag and byte range. The trailing
// CRC-32C (Castagnoli) covers every byte before it, header included, so a
// flipped bit or a truncated file is found on loading; loading also refuses
// NaN or infinite values. Files of the first format (magic "PGANCKPT", no
// checksum) still load, checked for finiteness only. Every variable of the
// context is saved: weights, optimiser moments, learning rates, the
// random-number state. Files are written under a temporary name, synced,
// renamed and the folder synced, so a checkpoint on disk is always complete.
// Checkpoints are ordered by the step stored inside them, not by file name.
// PathoGAN (package pathogan) and the supervised U-Net baseline (package
// unet) both use it.
package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// Magic numbers: magic starts every checkpoint written now (with a CRC-32C
// trailer); magicV1 starts files of the first format (no checksum).
const (
	magic   = "PGANCKP2"
	magicV1 = "PGANCKPT"
)

// crcTable is the Castagnoli polynomial's table (hardware-accelerated on
// amd64 and arm64).
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maxHeader bounds a header's declared length (a header of a few thousand
// variables takes well under a megabyte).
const maxHeader = 64 << 20

// Dir is the folder of a run that holds its checkpoints.
const Dir = "checkpoints"

// ErrDamaged is wrapped by the errors of a checkpoint whose bytes are not
// what was written: a checksum mismatch, a truncated file, a header that does
// not parse, NaN or infinite values.
var ErrDamaged = errors.New("damaged checkpoint")

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
	// Total is the number of steps the run's learning-rate schedule spans
	// (0 when unknown: exports, old checkpoints).
	Total int `json:"total,omitempty"`
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
// checkpoints in dir (by stored step) beyond keep (0: keep all). It returns
// the path written.
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
// when keep is nil) with header h to path, atomically: a temporary file in
// the same folder, synced, renamed, then the folder synced.
func WriteFile(path string, ctx *context.Context, h Header, keep func(*context.Variable) bool) error {
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
	return atomicfile.Write(path, TempPattern, func(f io.Writer) error {
		crc := crc32.New(crcTable)
		w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
		w.WriteString(magic)
		binary.Write(w, binary.LittleEndian, uint64(len(js)))
		w.Write(js)
		for _, v := range vars {
			t, err := v.Value()
			if err != nil {
				return err
			}
			var werr error
			if err := t.ConstBytes(func(b []byte) { _, werr = w.Write(b) }); err != nil {
				return err
			}
			if werr != nil {
				return werr
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return binary.Write(f, binary.LittleEndian, crc.Sum32())
	})
}

// TempPattern is the name pattern of checkpoints being written; a file of
// this name left in a checkpoints folder is the remnant of a killed save.
const TempPattern = ".checkpoint-*.tmp"

// RemoveTemps deletes the remnants of interrupted saves in dir and returns
// their paths. Call it only while owning the run folder.
func RemoveTemps(dir string) ([]string, error) {
	return atomicfile.RemoveTemps(dir, TempPattern)
}

// List returns the checkpoint files in dir, oldest first by the step stored
// in each (nil if dir does not exist). Files whose header cannot be read come
// first, by name, so that pruning removes them first and they are never the
// newest.
func List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	type entry struct {
		path string
		step int
	}
	var list []entry
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "checkpoint-") && strings.HasSuffix(e.Name(), ".ckpt") && !e.IsDir() {
			p := filepath.Join(dir, e.Name())
			step := -1
			if h, err := ReadHeader(p); err == nil {
				step = h.Step
			}
			list = append(list, entry{p, step})
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].step != list[j].step {
			return list[i].step < list[j].step
		}
		return list[i].path < list[j].path
	})
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.path
	}
	return out, nil
}

// Latest returns the newest intact checkpoint in dir ("" if there is none),
// by stored step, and an error for each newer one that failed Verify (each
// names its file and wraps ErrDamaged).
func Latest(dir string) (latest string, skipped []error, err error) {
	list, err := List(dir)
	if err != nil {
		return "", nil, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		if _, err := Verify(list[i]); err != nil {
			skipped = append(skipped, err)
			continue
		}
		return list[i], skipped, nil
	}
	return "", skipped, nil
}

// Find resolves a checkpoint file, or the newest intact checkpoint of a run
// folder (in its checkpoints folder) or of a checkpoints folder, with the
// damaged newer checkpoints it passed over (see Latest). A file named
// directly is returned as it is; loading it checks it.
func Find(path string) (string, []error, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	if !st.IsDir() {
		return path, nil, nil
	}
	var skipped []error
	for _, dir := range []string{filepath.Join(path, Dir), path} {
		p, sk, err := Latest(dir)
		if err != nil {
			return "", nil, err
		}
		skipped = append(skipped, sk...)
		if p != "" {
			return p, skipped, nil
		}
	}
	if len(skipped) > 0 {
		return "", skipped, fmt.Errorf("%s: no intact checkpoint (%d damaged; the newest: %v)", path, len(skipped), skipped[0])
	}
	return "", nil, fmt.Errorf("%s: no checkpoint-*.ckpt in it or in its %s folder", path, Dir)
}

// damaged wraps ErrDamaged with the file and what is wrong.
func damaged(path, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", path, ErrDamaged, fmt.Sprintf(format, args...))
}

// readHeader reads the header of a checkpoint and returns it with the
// offset of the tensor data and whether the file carries a checksum.
func readHeader(r io.Reader, path string) (*Header, int64, bool, error) {
	m := make([]byte, len(magic)+8)
	if _, err := io.ReadFull(r, m); err != nil || (string(m[:len(magic)]) != magic && string(m[:len(magic)]) != magicV1) {
		return nil, 0, false, fmt.Errorf("%s: not a PathoGAN-Go checkpoint", path)
	}
	summed := string(m[:len(magic)]) == magic
	n := binary.LittleEndian.Uint64(m[len(magic):])
	if n > maxHeader {
		return nil, 0, false, damaged(path, "header length %d (limit %d)", n, maxHeader)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, 0, false, damaged(path, "truncated header: %v", err)
	}
	var h Header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, 0, false, damaged(path, "header: %v", err)
	}
	return &h, int64(len(m)) + int64(n), summed, nil
}

// ReadHeader returns a checkpoint's header without reading its tensors (and
// so without checking its checksum: Verify does).
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, _, _, err := readHeader(bufio.NewReader(f), path)
	return h, err
}

// Verify reads a whole checkpoint file and checks it as Load does (checksum,
// every variable inside the file, finite values) without loading it
// anywhere. It returns the header.
func Verify(path string) (*Header, error) {
	f, err := Read(path)
	if err != nil {
		return nil, err
	}
	return f.Header, nil
}

// File is a checkpoint read into memory and checked (see Verify): its
// header, parsed once, and its tensors, which Into sets in a context.
type File struct {
	Header *Header
	name   string
	data   []byte
	start  int64 // offset of the tensor data
}

// Read reads and checks a whole checkpoint file (see Verify), parsing its
// header once, so that a caller can look at the header before setting any
// variable.
func Read(path string) (*File, error) {
	b, h, start, summed, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	if err := check(b, path, h, start, summed); err != nil {
		return nil, err
	}
	return &File{Header: h, name: path, data: b, start: start}, nil
}

// ReadBytes is Read on a checkpoint held in memory (an embedded one, say);
// name stands for the file in errors.
func ReadBytes(b []byte, name string) (*File, error) {
	h, start, err := decode(b, name)
	if err != nil {
		return nil, err
	}
	return &File{Header: h, name: name, data: b, start: start}, nil
}

// readCapped reads a checkpoint file after checking its header: the file
// may not be longer than its header says. It returns the bytes with the
// parsed header, the data's offset and whether the file has a checksum.
func readCapped(path string) ([]byte, *Header, int64, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, 0, false, err
	}
	// The header is parsed from the bytes returned: read once, in order.
	var head bytes.Buffer
	h, start, summed, err := readHeader(io.TeeReader(f, &head), path)
	if err != nil {
		return nil, nil, 0, false, err
	}
	want, err := fileSize(h, start, summed, st.Size(), path)
	if err != nil {
		return nil, nil, 0, false, err
	}
	b := make([]byte, want)
	copy(b, head.Bytes())
	if _, err := io.ReadFull(f, b[start:]); err != nil {
		return nil, nil, 0, false, damaged(path, "reading: %v", err)
	}
	return b, h, start, summed, nil
}

// fileSize is the length of the file a header describes (start: the data's
// offset; summed: with a checksum trailer), or an error when the file of
// size bytes does not have that length.
func fileSize(h *Header, start int64, summed bool, size int64, path string) (int64, error) {
	// The writer stores the variables one after another in the header's
	// order; anything else (overlapping, reordered or with gaps) would let
	// one variable's bytes be read as another's.
	var off int64
	seen := make(map[string]bool, len(h.Variables))
	for _, v := range h.Variables {
		if v.Length < 0 || v.Length > size || v.Offset != off {
			return 0, damaged(path, "variable %s: %d bytes at %d, where the variables before it end at %d (overlapping, out of order or with a gap)", v.Name, v.Length, v.Offset, off)
		}
		if seen[v.Name] {
			return 0, damaged(path, "variable %s is stored twice", v.Name)
		}
		seen[v.Name] = true
		if off += v.Length; off > size {
			return 0, damaged(path, "the variables take %d bytes, more than the %d-byte file", off, size)
		}
	}
	want := start + off
	if summed {
		want += 4
	}
	if size != want {
		return 0, damaged(path, "%d bytes, the header describes %d (truncated or appended to)", size, want)
	}
	return want, nil
}

// Load reads a checkpoint into ctx: every stored variable is set (created
// when missing; a shape that differs from an existing variable's is an
// error) with its trainable flag. It checks the file first (see Verify) and
// returns the header.
func Load(path string, ctx *context.Context) (*Header, error) {
	f, err := Read(path)
	if err != nil {
		return nil, err
	}
	if err := f.Into(ctx); err != nil {
		return nil, err
	}
	return f.Header, nil
}

// decode checks a checkpoint held in memory: magic, header, checksum (when
// the format has one), every variable's bytes inside the data, and finite
// floating-point values. It returns the header and the data's offset.
func decode(b []byte, path string) (*Header, int64, error) {
	h, start, summed, err := readHeader(bytes.NewReader(b), path)
	if err != nil {
		return nil, 0, err
	}
	// The length the header describes, as Verify checks it before reading
	// a file (bytes appended after the data were accepted here before; the
	// fuzzer found it).
	if _, err := fileSize(h, start, summed, int64(len(b)), path); err != nil {
		return nil, 0, err
	}
	return h, start, check(b, path, h, start, summed)
}

// check is decode after the header is parsed (h, at data offset start,
// with a checksum trailer when summed) and the length checked.
func check(b []byte, path string, h *Header, start int64, summed bool) error {
	end := int64(len(b))
	if summed {
		if end < start+4 {
			return damaged(path, "no checksum (truncated)")
		}
		end -= 4
		if got, want := crc32.Checksum(b[:end], crcTable), binary.LittleEndian.Uint32(b[end:]); got != want {
			return damaged(path, "checksum %08x, the file says %08x", got, want)
		}
	}
	for _, v := range h.Variables {
		dt, err := dtypes.DTypeString(v.DType)
		if err != nil {
			return damaged(path, "variable %s: dtype %q", v.Name, v.DType)
		}
		n := int64(dt.Size())
		for _, d := range v.Dims {
			if d < 0 || (d > 0 && n > math.MaxInt64/int64(d)) {
				return damaged(path, "variable %s: dimensions %v do not fit a %d-byte file", v.Name, v.Dims, len(b))
			}
			n *= int64(d)
		}
		if n != v.Length || v.Offset < 0 || start+v.Offset+v.Length > end {
			return damaged(path, "variable %s: %d bytes at %d do not fit dimensions %v in a %d-byte file (truncated?)", v.Name, v.Length, v.Offset, v.Dims, len(b))
		}
		if i, ok := firstNonFinite(dt, b[start+v.Offset:start+v.Offset+v.Length]); !ok {
			return damaged(path, "variable %s: value %d is NaN or infinite", v.Name, i)
		}
	}
	return nil
}

// firstNonFinite reports whether raw values of dt are all finite, and the
// index of the first that is not. Non-float types are always finite.
func firstNonFinite(dt dtypes.DType, raw []byte) (int, bool) {
	switch dt {
	case dtypes.Float32:
		for i := 0; i+4 <= len(raw); i += 4 {
			if bits := binary.LittleEndian.Uint32(raw[i:]); bits&0x7f800000 == 0x7f800000 {
				return i / 4, false
			}
		}
	case dtypes.Float64:
		for i := 0; i+8 <= len(raw); i += 8 {
			f := math.Float64frombits(binary.LittleEndian.Uint64(raw[i:]))
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return i / 8, false
			}
		}
	}
	return 0, true
}

// LoadBytes is Load on a checkpoint held in memory (an embedded one, say);
// name stands for the file in errors.
func LoadBytes(b []byte, name string, ctx *context.Context) (*Header, error) {
	f, err := ReadBytes(b, name)
	if err != nil {
		return nil, err
	}
	if err := f.Into(ctx); err != nil {
		return nil, err
	}
	return f.Header, nil
}

// Into sets the file's variables in ctx: each is created when missing, and
// one whose shape differs from an existing variable's is an error.
func (f *File) Into(ctx *context.Context) error {
	ctx = ctx.Checked(false)
	for _, v := range f.Header.Variables {
		dt, _ := dtypes.DTypeString(v.DType)
		shape := shapes.Make(dt, v.Dims...)
		t := tensors.FromShape(shape)
		raw := f.data[f.start+v.Offset : f.start+v.Offset+v.Length]
		t.MutableBytes(func(dst []byte) { copy(dst, raw) })
		scope, name := context.VariableScopeAndNameFromParameterName(v.Name)
		if existing := ctx.GetVariableByScopeAndName(scope, name); existing != nil {
			if !existing.Shape().Equal(shape) {
				return fmt.Errorf("%s: variable %s has shape %s, the model has %s", f.name, v.Name, shape, existing.Shape())
			}
			if err := existing.SetValue(t); err != nil {
				return err
			}
			existing.SetTrainable(v.Trainable)
			continue
		}
		ctx.InAbsPath(scope).VariableWithValue(name, t).SetTrainable(v.Trainable)
	}
	return nil
}
