package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"codeberg.org/sbinet/npyio/npy"
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
// read, and the data is decoded by npyio in pieces, so memory stays at the
// mask's size.
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
	// npyio decodes the data. It is handed a canonical version 1.0 header
	// built from the dtype and shape checked above rather than the file's own:
	// npyio v0.14.0's header parser panics on some malformed dicts, reads a
	// shape tuple without a trailing ", " as shorter than it is, allocates
	// whatever header length a file claims and refuses format 3.0, so
	// readNpyHeader reads the header. Booleans are decoded as bytes (any
	// non-zero byte is true): npyio leaves a bool whose byte is neither 0
	// nor 1 as it was in the buffer.
	hd := descr
	if descr == "|b1" {
		hd = "|u1"
	}
	data := io.NewSectionReader(r, offset, int64(h*w*item))
	rd, err := npy.NewReader(io.MultiReader(bytes.NewReader(npyHeader(hd, shape)), bufio.NewReaderSize(data, 1<<16)))
	if err != nil {
		return fail("%v", err)
	}
	mask = make([]uint8, h*w)
	var nan int
	switch descr {
	case "|u1", "<u1", "|b1":
		nan, err = maskFrom[uint8](rd, mask)
	case "|i1", "<i1":
		nan, err = maskFrom[int8](rd, mask)
	case "<i2":
		nan, err = maskFrom[int16](rd, mask)
	case "<i4":
		nan, err = maskFrom[int32](rd, mask)
	case "<i8":
		nan, err = maskFrom[int64](rd, mask)
	case "<u2":
		nan, err = maskFrom[uint16](rd, mask)
	case "<u4":
		nan, err = maskFrom[uint32](rd, mask)
	case "<u8":
		nan, err = maskFrom[uint64](rd, mask)
	case "<f4":
		nan, err = maskFrom[float32](rd, mask)
	case "<f8":
		nan, err = maskFrom[float64](rd, mask)
	}
	if err != nil {
		return fail("reading the data: %v", err)
	}
	if nan >= 0 {
		return fail("NaN at pixel (%d, %d)", nan/w, nan%w)
	}
	return mask, h, w, nil
}

// maskFrom reads len(mask) values of type T from rd, 64 Ki at a time so that
// memory stays at the mask's size, and sets mask[i] to 1 where the value is
// not zero. It returns the index of the first NaN, or -1.
func maskFrom[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](rd *npy.Reader, mask []uint8) (nan int, err error) {
	var zero T
	buf := make([]T, min(len(mask), 1<<16))
	for i := 0; i < len(mask); i += len(buf) {
		b := buf[:min(len(buf), len(mask)-i)]
		if err := rd.Read(&b); err != nil {
			return -1, err
		}
		for j, v := range b {
			if v != v { // only a floating-point NaN differs from itself
				return i + j, nil
			}
			if v != zero {
				mask[i+j] = 1
			}
		}
	}
	return -1, nil
}
