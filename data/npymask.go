package data

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// npyMaskItem maps the dtypes ReadMaskNpy accepts to their item sizes.
var npyMaskItem = map[string]int{
	"|u1": 1, "<u1": 1, "|b1": 1, "|i1": 1, "<i1": 1,
	"<i2": 2, "<i4": 4, "<i8": 8, "<u2": 2, "<u4": 4, "<u8": 8,
	"<f4": 4, "<f8": 8,
}

// MaxMaskPixels is the largest mask ReadMaskNpy reads (2^25 pixels, for
// example 5792 x 5792): the metrics on a mask take about 30 bytes a pixel.
const MaxMaskPixels = 1 << 25

// ReadMaskNpy reads a 2-D NumPy .npy file (format version 1.0, 2.0 or 3.0,
// C order) as a binary mask of h rows and w columns, row-major:
//
//	mask[y*w+x] = 1 if a[y, x] != 0 else 0
//
// The dtype must be one of |u1, |b1, |i1 (or <i1), <i2, <i4, <i8, <u2, <u4,
// <u8, <f4, <f8 (little-endian); a NaN is an error. Fortran order, another
// rank or dtype, a mask of more than MaxMaskPixels, and a file that is not
// exactly as long as its header says (truncated or with bytes after the
// data) are errors naming the file. The header is checked before the data is
// read, and the data is read in pieces, so memory stays at the mask's size.
func ReadMaskNpy(path string) (mask []uint8, h, w int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	return readMaskNpy(f, st.Size(), path)
}

// readMaskNpy implements ReadMaskNpy on r, size bytes long.
func readMaskNpy(r io.ReaderAt, size int64, path string) (mask []uint8, h, w int, err error) {
	fail := func(format string, a ...any) ([]uint8, int, int, error) {
		return nil, 0, 0, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, a...))
	}
	descr, shape, offset, err := readNpyHeader(io.NewSectionReader(r, 0, size), path)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(shape) != 2 {
		return fail("shape %v has %d dimensions, want a 2-D mask", shape, len(shape))
	}
	item, ok := npyMaskItem[descr]
	if !ok {
		return fail("dtype %q not supported for a mask (want |u1, |b1, <i1..<i8, <u2..<u8, <f4 or <f8)", descr)
	}
	h, w = shape[0], shape[1]
	if err := checkNpyLength(path, shape, descr, item, size-offset); err != nil {
		return nil, 0, 0, err
	}
	if h > 0 && w > MaxMaskPixels/h {
		return fail("shape (%d, %d): more than the %d pixels this reader accepts", h, w, MaxMaskPixels)
	}
	n := h * w
	mask = make([]uint8, n)
	br := bufio.NewReaderSize(io.NewSectionReader(r, offset, int64(n*item)), 1<<16)
	v := make([]byte, item)
	le := binary.LittleEndian
	for i := range mask {
		if _, err := io.ReadFull(br, v); err != nil {
			return fail("pixel %d: %v", i, err)
		}
		var nz bool
		switch descr {
		case "<f4":
			f := math.Float32frombits(le.Uint32(v))
			if f != f {
				return fail("NaN at pixel (%d, %d)", i/w, i%w)
			}
			nz = f != 0
		case "<f8":
			f := math.Float64frombits(le.Uint64(v))
			if math.IsNaN(f) {
				return fail("NaN at pixel (%d, %d)", i/w, i%w)
			}
			nz = f != 0
		default: // integers and bool: any non-zero byte
			for _, c := range v {
				if c != 0 {
					nz = true
					break
				}
			}
		}
		if nz {
			mask[i] = 1
		}
	}
	return mask, h, w, nil
}
