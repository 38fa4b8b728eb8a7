package nifti

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// Image is a NIfTI image: its header and its voxels as stored (in the
// header's datatype and byte order, x fastest).
type Image struct {
	Header Header
	raw    []byte
}

// Shape returns the image's dimensions, e.g. [240 240 155].
func (im *Image) Shape() []int { return im.Header.Shape() }

// Len returns the number of voxels.
func (im *Image) Len() int { return len(im.raw) / im.Header.Datatype.Size() }

// Raw returns the stored voxel bytes (no copy), in the header's byte order.
func (im *Image) Raw() []byte { return im.raw }

// stored returns voxel i as stored, before scaling.
func (im *Image) stored(i int) float64 {
	o := im.Header.ByteOrder
	switch im.Header.Datatype {
	case Uint8:
		return float64(im.raw[i])
	case Int8:
		return float64(int8(im.raw[i]))
	case Int16:
		return float64(int16(o.Uint16(im.raw[2*i:])))
	case Uint16:
		return float64(o.Uint16(im.raw[2*i:]))
	case Int32:
		return float64(int32(o.Uint32(im.raw[4*i:])))
	case Uint32:
		return float64(o.Uint32(im.raw[4*i:]))
	case Float32:
		return float64(math.Float32frombits(o.Uint32(im.raw[4*i:])))
	case Float64:
		return math.Float64frombits(o.Uint64(im.raw[8*i:]))
	}
	panic(fmt.Sprintf("nifti: unsupported datatype %d", im.Header.Datatype))
}

// At returns voxel i (in stored order) with the scl_slope/scl_inter scaling
// applied.
func (im *Image) At(i int) float64 {
	v := im.stored(i)
	if im.Header.Scaled() {
		v = im.Header.SclSlope*v + im.Header.SclInter
	}
	return v
}

// Float64s returns all voxels, scaled, in stored order.
func (im *Image) Float64s() []float64 {
	out := make([]float64, im.Len())
	for i := range out {
		out[i] = im.At(i)
	}
	return out
}

// Float32s returns all voxels, scaled, in stored order, as float32: the
// values of At, with the header read once rather than per voxel and
// BraTS's datatypes (little-endian int16, uint8, float32) decoded inline.
func (im *Image) Float32s() []float32 {
	out := make([]float32, im.Len())
	h := &im.Header
	le := h.ByteOrder == binary.LittleEndian
	raw := im.raw
	switch {
	case h.Datatype == Int16 && le:
		for i := range out {
			out[i] = float32(int16(binary.LittleEndian.Uint16(raw[2*i:])))
		}
	case h.Datatype == Uint8:
		for i := range out {
			out[i] = float32(raw[i])
		}
	case h.Datatype == Float32 && le:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	default:
		for i := range out {
			out[i] = float32(im.At(i))
		}
		return out
	}
	// The stored values above are exact in float32, so scaling them now
	// gives At's values.
	if h.Scaled() {
		for i, v := range out {
			out[i] = float32(h.SclSlope*float64(v) + h.SclInter)
		}
	}
	return out
}

// Stats returns the minimum, maximum and mean of the scaled voxel values.
// NaN voxels are skipped; an image with no finite voxel gives NaNs.
func (im *Image) Stats() (lo, hi, mean float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	var sum float64
	var n int
	for i := range im.Len() {
		v := im.At(i)
		if math.IsNaN(v) {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
		sum += v
		n++
	}
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return lo, hi, sum / float64(n)
}

// ReadFile reads a .nii or .nii.gz file (compression is detected from the
// content). It reads the header first and then exactly the voxel data the
// header describes, so a file far longer than its header says is not read
// whole, and a header describing more than MaxDataBytes is refused before
// anything is allocated. Errors name the file.
func ReadFile(path string) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return read(f, path, size)
}

// ReadHeaderFile reads only the header of a .nii or .nii.gz file.
func ReadHeaderFile(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := maybeGunzip(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := make([]byte, sizeofHdr2)
	n, err := io.ReadFull(r, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	h, err := ParseHeader(b[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// maybeGunzip returns a reader of the uncompressed stream, looking at the
// first two bytes for the gzip magic.
func maybeGunzip(br *bufio.Reader) (io.Reader, error) {
	head, _ := br.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

// Read reads a NIfTI image from r; name is used in error messages. Like
// ReadFile it reads the header first and then at most the bytes it
// describes.
func Read(r io.Reader, name string) (*Image, error) {
	return read(r, name, -1)
}

// maxTrailing is how much of a gzip stream Read drains after the voxel data
// to reach its end and so check its CRC; a longer remainder is an error.
const maxTrailing = 1 << 20

// read implements Read; size is the length of r when known (a plain file),
// -1 otherwise.
func read(r io.Reader, name string, size int64) (*Image, error) {
	zr, err := maybeGunzip(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	_, gz := zr.(*gzip.Reader)
	fail := func(err error) (*Image, error) {
		if gz && !errors.Is(err, errTruncated) {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// The header: up to 540 bytes (fewer when the whole file is shorter);
	// readCapped tells the end of the stream (io.EOF) from a broken gzip
	// stream (io.ErrUnexpectedEOF and others).
	hb, err := readCapped(zr, nil, sizeofHdr2)
	if err != nil {
		return fail(err)
	}
	h, err := ParseHeader(hb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := h.checkReadable(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	need := h.DataBytes()
	if !gz && size >= 0 && size-h.VoxOffset < need {
		return nil, fmt.Errorf("%s: %w", name, truncated(h, size-h.VoxOffset))
	}
	// The voxel data starts at VoxOffset: part of it may already be in hb
	// (a small NIfTI-1 image), or extension bytes may lie before it.
	var prefix []byte
	if int64(len(hb)) > h.VoxOffset {
		prefix = hb[h.VoxOffset:]
		prefix = prefix[:min(int64(len(prefix)), need)]
	} else if skip := h.VoxOffset - int64(len(hb)); skip > 0 {
		m, err := io.CopyN(io.Discard, zr, skip)
		if err != nil && !errors.Is(err, io.EOF) {
			return fail(err)
		}
		if m < skip {
			return nil, fmt.Errorf("%s: %w", name, truncated(h, 0))
		}
	}
	var raw []byte
	if !gz && size >= 0 {
		// The file is long enough (checked above): read exactly need bytes.
		raw = make([]byte, need)
		copy(raw, prefix)
		if _, err := io.ReadFull(zr, raw[len(prefix):]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: %w", name, truncated(h, -1))
			}
			return fail(err)
		}
	} else {
		// Unknown length (gzip, a stream): grow the buffer as data comes,
		// never past need, so a short stream with a large header costs
		// only what it holds.
		raw, err = readCapped(zr, prefix, need)
		if err != nil {
			return fail(err)
		}
		if int64(len(raw)) < need {
			return nil, fmt.Errorf("%s: %w", name, truncated(h, int64(len(raw))))
		}
	}
	if gz {
		// Drain the rest of the stream (bounded) so that gzip checks its CRC.
		m, err := io.CopyN(io.Discard, zr, maxTrailing+1)
		if err != nil && !errors.Is(err, io.EOF) {
			return fail(err)
		}
		if m > maxTrailing {
			return nil, fmt.Errorf("%s: more than %d bytes follow the %d bytes of voxel data that dims %v of %s describe (wrong dims?)",
				name, maxTrailing, need, h.Shape(), h.Datatype)
		}
	}
	return &Image{Header: *h, raw: raw}, nil
}

// errTruncated marks the errors of a file shorter than its header says.
var errTruncated = errors.New("truncated file or wrong dims")

// truncated returns the error for a file with only have bytes of voxel data
// after the offset (have < 0: unknown).
func truncated(h *Header, have int64) error {
	if have < 0 {
		return fmt.Errorf("dims %v of %s need %d bytes of voxel data after offset %d, the file has fewer (%w)",
			h.Shape(), h.Datatype, h.DataBytes(), h.VoxOffset, errTruncated)
	}
	return fmt.Errorf("dims %v of %s need %d bytes of voxel data after offset %d, file has %d (%w)",
		h.Shape(), h.Datatype, h.DataBytes(), h.VoxOffset, have, errTruncated)
}

// readCapped appends what r yields to a copy of prefix, growing the buffer
// by doubling, until it holds limit bytes or r reports io.EOF; it never
// reads past limit. Any other error of r is returned.
func readCapped(r io.Reader, prefix []byte, limit int64) ([]byte, error) {
	const first = 64 << 10
	if int64(len(prefix)) >= limit {
		return prefix[:limit:limit], nil
	}
	buf := make([]byte, len(prefix), min(limit, max(first, int64(len(prefix)))))
	copy(buf, prefix)
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(limit, 2*int64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// Decode parses an uncompressed NIfTI file held in b. The image keeps a
// reference to b's voxel bytes. A header that describes more than
// MaxDataBytes is refused.
func Decode(b []byte) (*Image, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if err := h.checkReadable(); err != nil {
		return nil, err
	}
	need := h.DataBytes()
	have := int64(len(b)) - h.VoxOffset
	if have < need {
		return nil, truncated(h, max(have, 0))
	}
	return &Image{Header: *h, raw: b[h.VoxOffset : h.VoxOffset+need]}, nil
}

// New returns an image of the given shape and datatype with all voxels zero,
// NIfTI-1, little-endian, 1 mm voxels, identity sform (code 1, scanner).
func New(shape []int, dt Datatype) (*Image, error) {
	if len(shape) < 1 || len(shape) > 7 {
		return nil, fmt.Errorf("nifti: shape %v: want 1 to 7 dimensions", shape)
	}
	if dt.Size() == 0 {
		return nil, fmt.Errorf("nifti: datatype %d is not supported", int16(dt))
	}
	h := Header{Version: 1, ByteOrder: binary.LittleEndian, Datatype: dt, Bitpix: 8 * dt.Size(),
		VoxOffset: sizeofHdr1 + 4, XYZTUnits: 2, SformCode: 1}
	h.Dim[0] = int64(len(shape))
	n := int64(1)
	for i, s := range shape {
		if s < 1 {
			return nil, fmt.Errorf("nifti: shape %v: dimension %d is %d, want >= 1", shape, i, s)
		}
		h.Dim[i+1] = int64(s)
		n *= int64(s)
		if n > maxVoxels {
			return nil, fmt.Errorf("nifti: shape %v: too many voxels", shape)
		}
	}
	for i := range h.Pixdim {
		h.Pixdim[i] = 1
	}
	h.Srow = [3][4]float64{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}
	return &Image{Header: h, raw: make([]byte, n*int64(dt.Size()))}, nil
}

// Set stores value v at voxel i, converting it to the image's datatype (and
// undoing the scaling if the header has one). Integer types round to nearest;
// a value outside the datatype's range, or a NaN for an integer type, is an
// error.
func (im *Image) Set(i int, v float64) error {
	h := &im.Header
	if h.Scaled() {
		v = (v - h.SclInter) / h.SclSlope
	}
	o := h.ByteOrder
	if h.Datatype != Float32 && h.Datatype != Float64 {
		r := math.Round(v)
		lo, hi := intRange(h.Datatype)
		if math.IsNaN(v) || r < lo || r > hi {
			return doesNotFit(v, i, h.Datatype)
		}
		v = r
	}
	switch h.Datatype {
	case Uint8:
		im.raw[i] = byte(v)
	case Int8:
		im.raw[i] = byte(int8(v))
	case Int16:
		o.PutUint16(im.raw[2*i:], uint16(int16(v)))
	case Uint16:
		o.PutUint16(im.raw[2*i:], uint16(v))
	case Int32:
		o.PutUint32(im.raw[4*i:], uint32(int32(v)))
	case Uint32:
		o.PutUint32(im.raw[4*i:], uint32(v))
	case Float32:
		o.PutUint32(im.raw[4*i:], math.Float32bits(float32(v)))
	case Float64:
		o.PutUint64(im.raw[8*i:], math.Float64bits(v))
	}
	return nil
}

// doesNotFit is the error of Set and FromFloat32 for a value v that an
// integer datatype dt cannot hold at voxel i (NaN or out of range).
func doesNotFit(v float64, i int, dt Datatype) error {
	return fmt.Errorf("nifti: value %g at voxel %d does not fit %s", v, i, dt)
}

// intRange returns the representable range of an integer datatype.
func intRange(dt Datatype) (lo, hi float64) {
	switch dt {
	case Uint8:
		return 0, math.MaxUint8
	case Int8:
		return math.MinInt8, math.MaxInt8
	case Int16:
		return math.MinInt16, math.MaxInt16
	case Uint16:
		return 0, math.MaxUint16
	case Int32:
		return math.MinInt32, math.MaxInt32
	case Uint32:
		return 0, math.MaxUint32
	}
	return math.Inf(-1), math.Inf(1)
}

// FromFloat32 returns a new image (see New) of the given shape and datatype
// holding values, which are in NIfTI order (x fastest). Integer datatypes
// round to nearest; out-of-range values are an error naming the voxel.
func FromFloat32(shape []int, dt Datatype, values []float32) (*Image, error) {
	im, err := New(shape, dt)
	if err != nil {
		return nil, err
	}
	if len(values) != im.Len() {
		return nil, fmt.Errorf("nifti: shape %v holds %d voxels, got %d values", shape, im.Len(), len(values))
	}
	// New's images are little-endian and unscaled, so the datatypes the
	// toolkit writes are stored without going through Set's per-voxel
	// checks of the header; the bytes and errors are Set's.
	raw := im.raw
	switch dt {
	case Uint8, Int16:
		lo, hi := intRange(dt)
		for i, v := range values {
			r := math.Round(float64(v))
			if v != v || r < lo || r > hi {
				return nil, doesNotFit(float64(v), i, dt)
			}
			if dt == Uint8 {
				raw[i] = byte(r)
			} else {
				binary.LittleEndian.PutUint16(raw[2*i:], uint16(int16(r)))
			}
		}
	case Float32:
		for i, v := range values {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	default:
		for i, v := range values {
			if err := im.Set(i, float64(v)); err != nil {
				return nil, err
			}
		}
	}
	return im, nil
}

// Encode returns the uncompressed file contents of im: the header in its
// version and byte order (VoxOffset is set to the header size plus the
// 4-byte extension flag), then the voxels.
func (im *Image) Encode() ([]byte, error) {
	h := im.Header
	if h.Version != 1 && h.Version != 2 {
		return nil, fmt.Errorf("nifti: version %d: want 1 or 2", h.Version)
	}
	if h.ByteOrder == nil {
		h.ByteOrder = binary.LittleEndian // New and Decode always set it; a zero Header means little-endian
	}
	if h.Version == 1 {
		for i, d := range h.Dim {
			if d > math.MaxInt16 {
				return nil, fmt.Errorf("nifti: dim[%d] = %d does not fit NIfTI-1's int16; write NIfTI-2", i, d)
			}
		}
	}
	h.Bitpix = 8 * h.Datatype.Size()
	h.VoxOffset = int64(headerSize(h.Version) + 4)
	if err := h.check(); err != nil {
		return nil, fmt.Errorf("nifti: %w", err)
	}
	if int64(len(im.raw)) != h.NumVoxels()*int64(h.Datatype.Size()) {
		return nil, fmt.Errorf("nifti: dims %v do not match %d bytes of voxel data", h.Shape(), len(im.raw))
	}
	raw := im.raw
	var buf bytes.Buffer
	buf.Grow(int(h.VoxOffset) + len(raw))
	buf.Write(h.encode())
	buf.Write(raw)
	return buf.Bytes(), nil
}

// SetByteOrder changes the byte order the image is stored (and written) in.
func (im *Image) SetByteOrder(o binary.ByteOrder) {
	if o == im.Header.ByteOrder {
		return
	}
	im.raw = swapBytes(im.raw, im.Header.Datatype.Size())
	im.Header.ByteOrder = o
}

func swapBytes(raw []byte, size int) []byte {
	out := make([]byte, len(raw))
	for i := 0; i+size <= len(raw); i += size {
		for j := range size {
			out[i+j] = raw[i+size-1-j]
		}
	}
	return out
}

// WriteFile writes im to path, gzip-compressed when the name ends in ".gz".
// The file is written under a temporary name in the same folder and renamed
// into place. The gzip stream carries no name or time, so the same image
// always gives the same bytes.
func WriteFile(path string, im *Image) error {
	b, err := im.Encode()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, "", func(w io.Writer) error {
		if !strings.HasSuffix(path, ".gz") {
			_, err := w.Write(b)
			return err
		}
		zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return err
		}
		if _, err := zw.Write(b); err != nil {
			return err
		}
		return zw.Close()
	})
}
