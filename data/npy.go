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

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// The slice cache is stored as NumPy .npy files (format version 1.0), so that
// numpy.load reads it as it is. The writer streams rows and fills in the shape
// when it is closed; the reader reads rows on demand with ReadAt, so a cache far
// larger than memory can be used.
//
// This file is the .npy code that codeberg.org/sbinet/npyio (v0.14.0) cannot
// replace; ReadMaskNpy decodes whole arrays through npyio. npyio writes whole
// arrays of a known shape, always with a version 2.0 header, and reads whole
// arrays from an io.Reader: it can neither stream rows of a count known only
// at the end, nor keep the cache's fixed 128-byte version 1.0 header (which
// the tests and old caches rely on), nor read one row at an offset. Its
// header parser panics on some malformed dicts (no trailing ", ", keys in
// another order, no final '\n'), reads "(2, 3)}" as shape (2,), allocates
// whatever header length a file claims and refuses format 3.0; so the header
// reader below is ours too, bounded and fuzzed (FuzzNpy).

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
// npyio cannot do this job: it writes whole arrays of a known shape, and the
// row count of the slice cache is known only once the last patient is done.
type npyWriter struct {
	f        *atomicfile.File
	descr    string
	rowShape []int
	rowBytes int
	rows     int
	buf      []byte
}

// newNpyWriter creates path (through internal/atomicfile, renamed into place
// by close) for an array of shape [rows, rowShape...] with the given numpy
// dtype descr ('<f4', '|u1').
func newNpyWriter(path, descr string, itemSize int, rowShape []int) (*npyWriter, error) {
	f, err := atomicfile.Create(path, "")
	if err != nil {
		return nil, err
	}
	w := &npyWriter{f: f, descr: descr, rowShape: rowShape, rowBytes: itemSize}
	for _, d := range rowShape {
		w.rowBytes *= d
	}
	if _, err := f.Write(make([]byte, npyHeaderLen)); err != nil {
		w.abort()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
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
		return fmt.Errorf("%s: %w", w.f.Path(), err)
	}
	w.rows++
	return nil
}

// close writes the header with the final row count and commits the file
// (synced, 0644, renamed into place).
func (w *npyWriter) close() error {
	shape := append([]int{w.rows}, w.rowShape...)
	if _, err := w.f.WriteAt(npyHeader(w.descr, shape), 0); err != nil {
		w.abort()
		return fmt.Errorf("%s: %w", w.f.Path(), err)
	}
	return w.f.Commit()
}

// abort removes the temporary file.
func (w *npyWriter) abort() { w.f.Abort() }

// npyArray is an open .npy file read row by row.
type npyArray struct {
	r        io.ReaderAt
	c        io.Closer // nil when there is nothing to close
	path     string
	descr    string
	shape    []int
	offset   int64
	rowBytes int
}

// Limits of the .npy reader: a header longer than maxNpyHeader or a row (one
// slice) longer than maxNpyRowBytes is refused before anything is allocated.
const (
	maxNpyHeader   = 1 << 16
	maxNpyRowBytes = 256 << 20
)

var (
	npyDescrRe = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	npyOrderRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShapeRe = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// openNpy opens a C-ordered .npy file and checks that its dtype is descr and
// that the file is exactly as long as its header's shape says.
func openNpy(path, descr string, itemSize int) (*npyArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	a, err := newNpyArray(f, st.Size(), path, descr, itemSize)
	if err != nil {
		f.Close()
		return nil, err
	}
	a.c = f
	return a, nil
}

// newNpyArray reads the header of the .npy data in r (size bytes long) and
// checks its dtype (descr, of itemSize bytes), its shape (at least one
// dimension, a row of 1 to maxNpyRowBytes bytes) and the length: exactly the
// header and shape[0] rows, no more, no less. Errors name path.
func newNpyArray(r io.ReaderAt, size int64, path, descr string, itemSize int) (*npyArray, error) {
	d, shape, offset, err := readNpyHeader(io.NewSectionReader(r, 0, size), path)
	if err != nil {
		return nil, err
	}
	if len(shape) == 0 {
		return nil, fmt.Errorf("%s: a scalar .npy cannot be read by rows", path)
	}
	if d != descr {
		return nil, fmt.Errorf("%s: dtype %q, want %q", path, d, descr)
	}
	row, ok := npySize(shape[1:], itemSize)
	if !ok || row > maxNpyRowBytes {
		return nil, fmt.Errorf("%s: shape %v: a row of more than %d bytes (256 MiB) is not supported", path, shape, maxNpyRowBytes)
	}
	if row == 0 {
		return nil, fmt.Errorf("%s: shape %v: rows of no element cannot be read", path, shape)
	}
	if err := checkNpyLength(path, shape, descr, itemSize, size-offset); err != nil {
		return nil, err
	}
	return &npyArray{r: r, path: path, descr: d, shape: shape, offset: offset, rowBytes: int(row)}, nil
}

// npySize returns the size in bytes of an array of the given shape and item
// size, and false when it does not fit an int64.
func npySize(shape []int, itemSize int) (int64, bool) {
	n := int64(itemSize)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/int64(d)) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// checkNpyLength checks that have, the bytes after the header, are exactly
// the data of shape.
func checkNpyLength(path string, shape []int, descr string, itemSize int, have int64) error {
	want, ok := npySize(shape, itemSize)
	switch {
	case !ok:
		return fmt.Errorf("%s: shape %v of %s describes more bytes than any file holds", path, shape, descr)
	case have < want:
		return fmt.Errorf("%s: shape %v of %s needs %d data bytes, file has %d (truncated)", path, shape, descr, want, max(have, 0))
	case have > want:
		return fmt.Errorf("%s: %d bytes after the data of shape %v %s (damaged file or wrong shape)", path, have-want, shape, descr)
	}
	return nil
}

// readNpyHeader reads the magic, version, header length and dict of a .npy
// file from r and returns the dtype descr, the shape and the offset of the
// data. It reads at most the header (maxNpyHeader bytes) and never panics.
func readNpyHeader(r io.Reader, path string) (descr string, shape []int, offset int64, err error) {
	pre := make([]byte, 10)
	if _, err := io.ReadFull(r, pre); err != nil || !bytes.Equal(pre[:6], npyMagic) {
		return "", nil, 0, fmt.Errorf("%s: not a .npy file", path)
	}
	var hlen, start int
	switch pre[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(pre[8:])), 10
	case 2, 3:
		rest := make([]byte, 2)
		if _, err := io.ReadFull(r, rest); err != nil {
			return "", nil, 0, fmt.Errorf("%s: truncated .npy header", path)
		}
		n := binary.LittleEndian.Uint32(append(pre[8:10:10], rest...))
		if n > maxNpyHeader {
			return "", nil, 0, fmt.Errorf("%s: .npy header of %d bytes, more than the %d this reader accepts", path, n, maxNpyHeader)
		}
		hlen, start = int(n), 12
	default:
		return "", nil, 0, fmt.Errorf("%s: .npy version %d.%d not supported", path, pre[6], pre[7])
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return "", nil, 0, fmt.Errorf("%s: truncated .npy header", path)
	}
	descr, shape, err = parseNpyDict(path, string(h))
	if err != nil {
		return "", nil, 0, err
	}
	return descr, shape, int64(start + hlen), nil
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
	if _, err := a.r.ReadAt(b[:a.rowBytes], a.offset+int64(i)*int64(a.rowBytes)); err != nil {
		return fmt.Errorf("%s: row %d: %w", a.path, i, err)
	}
	return nil
}

func (a *npyArray) close() error {
	if a.c == nil {
		return nil
	}
	return a.c.Close()
}
