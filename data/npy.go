package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// The slice cache is stored as NumPy .npy files (format version 1.0), so that
// numpy.load reads it as it is. The writer streams rows and fills in the shape
// when it is closed; the reader reads rows on demand with ReadAt, so a cache far
// larger than memory can be used.

// npyHeaderLen is the fixed size of the headers this package writes (magic,
// version, length, dict and padding). Every shape with up to 4 dimensions of
// up to 12 digits fits.
const npyHeaderLen = 128

// npyMagic is the first six bytes of every .npy file.
var npyMagic = []byte("\x93NUMPY")

// npyHeader renders a .npy version 1.0 header of exactly npyHeaderLen bytes.
func npyHeader(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	pad := npyHeaderLen - 10 - len(dict) - 1
	if pad < 0 {
		panic(fmt.Sprintf("data: npy header for shape %v too long", shape))
	}
	var b bytes.Buffer
	b.Write(npyMagic)
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(npyHeaderLen-10))
	b.WriteString(dict)
	b.WriteString(strings.Repeat(" ", pad))
	b.WriteByte('\n')
	return b.Bytes()
}

// npyWriter streams rows (the first axis) of a C-ordered array to a .npy file.
type npyWriter struct {
	f        *os.File
	tmp      string
	path     string
	descr    string
	rowShape []int
	rowBytes int
	rows     int
	buf      []byte
}

// newNpyWriter creates path (through a temporary file renamed on Close) for an
// array of shape [rows, rowShape...] with the given numpy dtype descr ('<f4',
// '|u1').
func newNpyWriter(path, descr string, itemSize int, rowShape []int) (*npyWriter, error) {
	f, err := os.CreateTemp(dirOf(path), ".npy-*.tmp")
	if err != nil {
		return nil, err
	}
	w := &npyWriter{f: f, tmp: f.Name(), path: path, descr: descr, rowShape: rowShape, rowBytes: itemSize}
	for _, d := range rowShape {
		w.rowBytes *= d
	}
	if _, err := f.Write(make([]byte, npyHeaderLen)); err != nil {
		w.abort()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// writeFloat32 appends one row of float32 values.
func (w *npyWriter) writeFloat32(row []float32) error {
	if len(row)*4 != w.rowBytes {
		panic(fmt.Sprintf("data: npy row of %d float32, want %d bytes", len(row), w.rowBytes))
	}
	w.buf = w.buf[:0]
	for _, v := range row {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, math.Float32bits(v))
	}
	return w.writeRow(w.buf)
}

// writeRow appends one row of raw little-endian bytes.
func (w *npyWriter) writeRow(b []byte) error {
	if len(b) != w.rowBytes {
		panic(fmt.Sprintf("data: npy row of %d bytes, want %d", len(b), w.rowBytes))
	}
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("%s: %w", w.path, err)
	}
	w.rows++
	return nil
}

// close writes the header with the final row count, syncs, and renames the
// file into place.
func (w *npyWriter) close() error {
	shape := append([]int{w.rows}, w.rowShape...)
	if _, err := w.f.WriteAt(npyHeader(w.descr, shape), 0); err != nil {
		w.abort()
		return fmt.Errorf("%s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		w.abort()
		return fmt.Errorf("%s: %w", w.path, err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("%s: %w", w.path, err)
	}
	os.Chmod(w.tmp, 0o644)
	return os.Rename(w.tmp, w.path)
}

// abort removes the temporary file.
func (w *npyWriter) abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

// npyArray is an open .npy file read row by row.
type npyArray struct {
	f        *os.File
	path     string
	descr    string
	shape    []int
	offset   int64
	rowBytes int
}

var (
	npyDescrRe = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	npyOrderRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShapeRe = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// openNpy opens a C-ordered .npy file and checks that its dtype is descr.
func openNpy(path, descr string, itemSize int) (*npyArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	a, err := readNpyHeader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	if a.descr != descr {
		f.Close()
		return nil, fmt.Errorf("%s: dtype %q, want %q", path, a.descr, descr)
	}
	a.rowBytes = itemSize
	for _, d := range a.shape[1:] {
		a.rowBytes *= d
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if want := a.offset + int64(a.shape[0])*int64(a.rowBytes); st.Size() < want {
		f.Close()
		return nil, fmt.Errorf("%s: shape %v needs %d bytes, file has %d (truncated)", path, a.shape, want, st.Size())
	}
	return a, nil
}

func readNpyHeader(f *os.File, path string) (*npyArray, error) {
	pre := make([]byte, 10)
	if _, err := io.ReadFull(f, pre); err != nil || !bytes.Equal(pre[:6], npyMagic) {
		return nil, fmt.Errorf("%s: not a .npy file", path)
	}
	var hlen, start int
	switch pre[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(pre[8:])), 10
	case 2, 3:
		rest := make([]byte, 2)
		if _, err := io.ReadFull(f, rest); err != nil {
			return nil, fmt.Errorf("%s: truncated .npy header", path)
		}
		hlen, start = int(binary.LittleEndian.Uint32(append(pre[8:10:10], rest...))), 12
	default:
		return nil, fmt.Errorf("%s: .npy version %d not supported", path, pre[6])
	}
	if hlen > 1<<16 {
		return nil, fmt.Errorf("%s: .npy header of %d bytes", path, hlen)
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(f, h); err != nil {
		return nil, fmt.Errorf("%s: truncated .npy header", path)
	}
	descr, shape, err := parseNpyDict(path, string(h))
	if err != nil {
		return nil, err
	}
	if len(shape) == 0 {
		return nil, fmt.Errorf("%s: a scalar .npy cannot be read by rows", path)
	}
	return &npyArray{f: f, path: path, descr: descr, shape: shape, offset: int64(start + hlen)}, nil
}

// parseNpyDict parses the dict of a .npy header: the dtype descr and the
// shape of a C-ordered array.
func parseNpyDict(path, dict string) (descr string, shape []int, err error) {
	m1, m2, m3 := npyDescrRe.FindStringSubmatch(dict), npyOrderRe.FindStringSubmatch(dict), npyShapeRe.FindStringSubmatch(dict)
	if m1 == nil || m2 == nil || m3 == nil {
		return "", nil, fmt.Errorf("%s: cannot parse .npy header %q", path, dict)
	}
	if m2[1] != "False" {
		return "", nil, fmt.Errorf("%s: Fortran-ordered arrays are not supported (save with np.ascontiguousarray)", path)
	}
	for _, s := range strings.Split(m3[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 {
			return "", nil, fmt.Errorf("%s: bad shape (%s)", path, m3[1])
		}
		shape = append(shape, d)
	}
	return m1[1], shape, nil
}

// readRow reads row i into b, which must hold rowBytes bytes.
func (a *npyArray) readRow(i int, b []byte) error {
	if i < 0 || i >= a.shape[0] {
		return fmt.Errorf("%s: row %d out of range [0, %d)", a.path, i, a.shape[0])
	}
	if _, err := a.f.ReadAt(b[:a.rowBytes], a.offset+int64(i)*int64(a.rowBytes)); err != nil {
		return fmt.Errorf("%s: row %d: %w", a.path, i, err)
	}
	return nil
}

func (a *npyArray) close() error { return a.f.Close() }
