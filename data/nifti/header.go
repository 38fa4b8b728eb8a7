package nifti

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Datatype is a NIfTI datatype code (the header's datatype field).
type Datatype int16

// The datatypes this package reads and writes, with their NIfTI codes.
const (
	Uint8   Datatype = 2
	Int16   Datatype = 4
	Int32   Datatype = 8
	Float32 Datatype = 16
	Float64 Datatype = 64
	Int8    Datatype = 256
	Uint16  Datatype = 512
	Uint32  Datatype = 768
)

// Size returns the number of bytes of one voxel of type d, or 0 when d is not
// a supported datatype.
func (d Datatype) Size() int {
	switch d {
	case Uint8, Int8:
		return 1
	case Int16, Uint16:
		return 2
	case Int32, Uint32, Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

// String returns the datatype's name as numpy spells it ("int16", "float32").
func (d Datatype) String() string {
	switch d {
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Uint16:
		return "uint16"
	case Int32:
		return "int32"
	case Uint32:
		return "uint32"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("datatype(%d)", int16(d))
}

// Header sizes and magics of the two versions.
const (
	sizeofHdr1 = 348
	sizeofHdr2 = 540
	// maxVoxels caps the voxel count the reader accepts (16 G voxels), so that a
	// corrupt header cannot ask for an absurd allocation.
	maxVoxels = 1 << 34
	// MaxDataBytes is the most voxel data Read, ReadFile and Decode accept
	// (2 GiB): a header that describes more is refused before anything is
	// read or allocated.
	MaxDataBytes = 2 << 30
	// MaxVoxOffset is the largest vox_offset Read, ReadFile and Decode accept
	// (256 MiB of header and extensions before the voxel data).
	MaxVoxOffset = 256 << 20
)

var (
	magic1 = []byte("n+1\x00")
	magic2 = []byte("n+2\x00\r\n\x1a\n")
)

// Header holds the fields of a NIfTI-1 or NIfTI-2 header that this package
// reads and writes. NIfTI-1's 32-bit fields are widened to the NIfTI-2 types.
type Header struct {
	// Version is 1 or 2.
	Version int
	// ByteOrder is binary.LittleEndian or binary.BigEndian.
	ByteOrder binary.ByteOrder
	// Dim is the header's dim array: Dim[0] is the number of dimensions,
	// Dim[1..Dim[0]] their sizes.
	Dim [8]int64
	// Pixdim is the header's pixdim: Pixdim[1..3] are the voxel sizes,
	// Pixdim[4] the time step; Pixdim[0] is qfac (the qform's handedness).
	Pixdim [8]float64
	// Datatype is the stored voxel type; Bitpix its size in bits.
	Datatype Datatype
	Bitpix   int
	// VoxOffset is the byte offset of the voxel data in the (uncompressed) file.
	VoxOffset int64
	// SclSlope and SclInter scale stored values: y = SclSlope*x + SclInter,
	// unless SclSlope is 0 or not finite.
	SclSlope, SclInter float64
	// CalMin and CalMax are the display range.
	CalMin, CalMax float64
	// QformCode and SformCode say what the qform and sform map to (0 = unset,
	// 1 = scanner, 2 = aligned, 3 = Talairach, 4 = MNI).
	QformCode, SformCode int
	// QuaternB, QuaternC, QuaternD and QOffset define the qform.
	QuaternB, QuaternC, QuaternD float64
	QOffset                      [3]float64
	// Srow holds the sform's three rows (x, y, z) of four values.
	Srow [3][4]float64
	// XYZTUnits is the xyzt_units field (2 = mm, 8 = s, ...).
	XYZTUnits int
	// IntentCode and IntentName describe what the values mean.
	IntentCode int
	IntentName string
	// Descrip is the free-text description (at most 80 bytes).
	Descrip string
}

// Shape returns the sizes of the image's dimensions, Dim[1..Dim[0]].
func (h *Header) Shape() []int {
	n := int(h.Dim[0])
	if n < 0 || n > 7 {
		return nil
	}
	s := make([]int, n)
	for i := range s {
		s[i] = int(h.Dim[i+1])
	}
	return s
}

// NumVoxels returns the product of the image's dimensions.
func (h *Header) NumVoxels() int64 {
	n := int64(1)
	for _, d := range h.Shape() {
		n *= int64(d)
	}
	return n
}

// DataBytes returns the size in bytes of the voxel data the header
// describes: the number of voxels times the datatype's size. It is only
// meaningful for a header ParseHeader accepted.
func (h *Header) DataBytes() int64 {
	return h.NumVoxels() * int64(h.Datatype.Size())
}

// checkReadable refuses a valid header that describes more data than the
// readers accept (MaxDataBytes, MaxVoxOffset), naming the limit.
func (h *Header) checkReadable() error {
	if need := h.DataBytes(); need > MaxDataBytes {
		return fmt.Errorf("dims %v of %s describe %d bytes of voxel data, more than this reader's limit of %d bytes (2 GiB)",
			h.Shape(), h.Datatype, need, int64(MaxDataBytes))
	}
	if h.VoxOffset > MaxVoxOffset {
		return fmt.Errorf("vox_offset is %d, more than this reader's limit of %d bytes (256 MiB) of header and extensions",
			h.VoxOffset, int64(MaxVoxOffset))
	}
	return nil
}

// VoxelSize returns the voxel sizes Pixdim[1..3] (or fewer for images with
// fewer spatial dimensions).
func (h *Header) VoxelSize() []float64 {
	n := min(int(h.Dim[0]), 3)
	if n < 0 {
		return nil
	}
	return append([]float64(nil), h.Pixdim[1:1+n]...)
}

// Scaled reports whether the scl_slope/scl_inter scaling is in effect.
func (h *Header) Scaled() bool {
	return h.SclSlope != 0 && !math.IsNaN(h.SclSlope) && !math.IsInf(h.SclSlope, 0) &&
		!math.IsNaN(h.SclInter) && !math.IsInf(h.SclInter, 0)
}

// ByteOrderName returns "little-endian" or "big-endian".
func (h *Header) ByteOrderName() string {
	if h.ByteOrder == binary.BigEndian {
		return "big-endian"
	}
	return "little-endian"
}

// headerSize returns the size in bytes of the header of the given version.
func headerSize(version int) int {
	if version == 2 {
		return sizeofHdr2
	}
	return sizeofHdr1
}

// ParseHeader decodes a NIfTI-1 or NIfTI-2 header from the start of b (the
// uncompressed file contents) and checks it: magic, byte order, dims, datatype
// and bitpix, voxel offset. It returns an error describing the first problem
// found; it never panics.
func ParseHeader(b []byte) (*Header, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("file is %d bytes long, too short for a NIfTI header", len(b))
	}
	var order binary.ByteOrder
	var version int
	le, be := binary.LittleEndian.Uint32(b), binary.BigEndian.Uint32(b)
	switch {
	case le == sizeofHdr1:
		order, version = binary.LittleEndian, 1
	case be == sizeofHdr1:
		order, version = binary.BigEndian, 1
	case le == sizeofHdr2:
		order, version = binary.LittleEndian, 2
	case be == sizeofHdr2:
		order, version = binary.BigEndian, 2
	default:
		return nil, fmt.Errorf("sizeof_hdr is %d, want 348 (NIfTI-1) or 540 (NIfTI-2): not a NIfTI file", le)
	}
	if len(b) < headerSize(version) {
		return nil, fmt.Errorf("truncated header: file is %d bytes long, a NIfTI-%d header needs %d", len(b), version, headerSize(version))
	}
	h := &Header{Version: version, ByteOrder: order}
	if version == 1 {
		parse1(b, h)
	} else {
		parse2(b, h)
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	return h, nil
}

// cstring returns the bytes of b up to the first NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "?")
}

func parse1(b []byte, h *Header) {
	o := h.ByteOrder
	i16 := func(off int) int64 { return int64(int16(o.Uint16(b[off:]))) }
	f32 := func(off int) float64 { return float64(math.Float32frombits(o.Uint32(b[off:]))) }
	magic := b[344:348]
	if !bytes.Equal(magic, magic1) {
		h.Version = -1 // reported by check
		if bytes.Equal(magic, []byte("ni1\x00")) {
			h.Version = -2
		}
	}
	for i := range 8 {
		h.Dim[i] = i16(40 + 2*i)
		h.Pixdim[i] = f32(76 + 4*i)
	}
	h.IntentCode = int(i16(68))
	h.Datatype = Datatype(i16(70))
	h.Bitpix = int(i16(72))
	h.VoxOffset = int64(f32(108))
	if v := f32(108); v != math.Trunc(v) || math.IsNaN(v) {
		h.VoxOffset = -1
	}
	h.SclSlope, h.SclInter = f32(112), f32(116)
	h.XYZTUnits = int(b[123])
	h.CalMax, h.CalMin = f32(124), f32(128)
	h.Descrip = cstring(b[148:228])
	h.QformCode, h.SformCode = int(i16(252)), int(i16(254))
	h.QuaternB, h.QuaternC, h.QuaternD = f32(256), f32(260), f32(264)
	h.QOffset = [3]float64{f32(268), f32(272), f32(276)}
	for r := range 3 {
		for c := range 4 {
			h.Srow[r][c] = f32(280 + 16*r + 4*c)
		}
	}
	h.IntentName = cstring(b[328:344])
}

func parse2(b []byte, h *Header) {
	o := h.ByteOrder
	i64 := func(off int) int64 { return int64(o.Uint64(b[off:])) }
	i32 := func(off int) int { return int(int32(o.Uint32(b[off:]))) }
	f64 := func(off int) float64 { return math.Float64frombits(o.Uint64(b[off:])) }
	magic := b[4:12]
	if !bytes.Equal(magic, magic2) {
		h.Version = -1
		if bytes.Equal(magic[:4], []byte("ni2\x00")) {
			h.Version = -2
		}
	}
	h.Datatype = Datatype(int16(o.Uint16(b[12:])))
	h.Bitpix = int(int16(o.Uint16(b[14:])))
	for i := range 8 {
		h.Dim[i] = i64(16 + 8*i)
		h.Pixdim[i] = f64(104 + 8*i)
	}
	h.VoxOffset = i64(168)
	h.SclSlope, h.SclInter = f64(176), f64(184)
	h.CalMax, h.CalMin = f64(192), f64(200)
	h.Descrip = cstring(b[240:320])
	h.QformCode, h.SformCode = i32(344), i32(348)
	h.QuaternB, h.QuaternC, h.QuaternD = f64(352), f64(360), f64(368)
	h.QOffset = [3]float64{f64(376), f64(384), f64(392)}
	for r := range 3 {
		for c := range 4 {
			h.Srow[r][c] = f64(400 + 32*r + 8*c)
		}
	}
	h.XYZTUnits = i32(500)
	h.IntentCode = i32(504)
	h.IntentName = cstring(b[508:524])
}

// check validates a parsed header.
func (h *Header) check() error {
	switch h.Version {
	case -1:
		return fmt.Errorf("bad magic: not a single-file NIfTI image (want \"n+1\" or \"n+2\")")
	case -2:
		return fmt.Errorf("two-file NIfTI (.hdr/.img pair) is not supported: convert it to a single .nii")
	}
	nd := h.Dim[0]
	if nd < 1 || nd > 7 {
		return fmt.Errorf("dim[0] is %d, want 1..7 dimensions", nd)
	}
	n := int64(1)
	for i := int64(1); i <= nd; i++ {
		d := h.Dim[i]
		if d < 1 {
			return fmt.Errorf("dim[%d] is %d, want >= 1", i, d)
		}
		if d > maxVoxels || n > maxVoxels/d {
			return fmt.Errorf("dims %v describe more than %d voxels", h.Shape(), int64(maxVoxels))
		}
		n *= d
	}
	size := h.Datatype.Size()
	if size == 0 {
		return fmt.Errorf("datatype %d is not supported (want uint8, int8, int16, uint16, int32, uint32, float32 or float64)", int16(h.Datatype))
	}
	if h.Bitpix != 8*size {
		return fmt.Errorf("bitpix is %d, but datatype %s has %d bits", h.Bitpix, h.Datatype, 8*size)
	}
	if h.VoxOffset < int64(headerSize(h.Version)) {
		return fmt.Errorf("vox_offset is %d, inside the %d-byte header", h.VoxOffset, headerSize(h.Version))
	}
	return nil
}

// encode writes the header (and the 4-byte extension flag, all zero) in
// h.Version's layout and h.ByteOrder. It returns exactly VoxOffset bytes.
func (h *Header) encode() []byte {
	b := make([]byte, h.VoxOffset)
	o := h.ByteOrder
	if h.Version == 2 {
		o.PutUint32(b[0:], sizeofHdr2)
		copy(b[4:], magic2)
		o.PutUint16(b[12:], uint16(h.Datatype))
		o.PutUint16(b[14:], uint16(h.Bitpix))
		f64 := func(off int, v float64) { o.PutUint64(b[off:], math.Float64bits(v)) }
		for i := range 8 {
			o.PutUint64(b[16+8*i:], uint64(h.Dim[i]))
			f64(104+8*i, h.Pixdim[i])
		}
		o.PutUint64(b[168:], uint64(h.VoxOffset))
		f64(176, h.SclSlope)
		f64(184, h.SclInter)
		f64(192, h.CalMax)
		f64(200, h.CalMin)
		copy(b[240:320], h.Descrip)
		o.PutUint32(b[344:], uint32(int32(h.QformCode)))
		o.PutUint32(b[348:], uint32(int32(h.SformCode)))
		f64(352, h.QuaternB)
		f64(360, h.QuaternC)
		f64(368, h.QuaternD)
		for i := range 3 {
			f64(376+8*i, h.QOffset[i])
		}
		for r := range 3 {
			for c := range 4 {
				f64(400+32*r+8*c, h.Srow[r][c])
			}
		}
		o.PutUint32(b[500:], uint32(int32(h.XYZTUnits)))
		o.PutUint32(b[504:], uint32(int32(h.IntentCode)))
		copy(b[508:524], h.IntentName)
		return b
	}
	o.PutUint32(b[0:], sizeofHdr1)
	b[38] = 'r' // "regular", as most writers set it
	f32 := func(off int, v float64) { o.PutUint32(b[off:], math.Float32bits(float32(v))) }
	for i := range 8 {
		o.PutUint16(b[40+2*i:], uint16(int16(h.Dim[i])))
		f32(76+4*i, h.Pixdim[i])
	}
	o.PutUint16(b[68:], uint16(int16(h.IntentCode)))
	o.PutUint16(b[70:], uint16(h.Datatype))
	o.PutUint16(b[72:], uint16(h.Bitpix))
	f32(108, float64(h.VoxOffset))
	f32(112, h.SclSlope)
	f32(116, h.SclInter)
	b[123] = byte(h.XYZTUnits)
	f32(124, h.CalMax)
	f32(128, h.CalMin)
	copy(b[148:228], h.Descrip)
	o.PutUint16(b[252:], uint16(int16(h.QformCode)))
	o.PutUint16(b[254:], uint16(int16(h.SformCode)))
	f32(256, h.QuaternB)
	f32(260, h.QuaternC)
	f32(264, h.QuaternD)
	for i := range 3 {
		f32(268+4*i, h.QOffset[i])
	}
	for r := range 3 {
		for c := range 4 {
			f32(280+16*r+4*c, h.Srow[r][c])
		}
	}
	copy(b[328:344], h.IntentName)
	copy(b[344:], magic1)
	return b
}
