package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// npyMaskItem maps the dtypes ReadMaskNpy accepts to their item sizes.
var npyMaskItem = map[string]int{
	"|u1": 1, "<u1": 1, "|b1": 1, "|i1": 1, "<i1": 1,
	"<i2": 2, "<i4": 4, "<i8": 8, "<u2": 2, "<u4": 4, "<u8": 8,
	"<f4": 4, "<f8": 8,
}

// ReadMaskNpy reads a 2-D NumPy .npy file (format version 1.0, 2.0 or 3.0,
// C order) as a binary mask of h rows and w columns, row-major:
//
//	mask[y*w+x] = 1 if a[y, x] != 0 else 0
//
// The dtype must be one of |u1, |b1, |i1 (or <i1), <i2, <i4, <i8, <u2, <u4,
// <u8, <f4, <f8 (little-endian); a NaN is an error. Fortran order, another
// rank or dtype, and a truncated file are errors naming the file.
func ReadMaskNpy(path string) (mask []uint8, h, w int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	fail := func(format string, a ...any) ([]uint8, int, int, error) {
		return nil, 0, 0, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, a...))
	}
	if len(b) < 10 || !bytes.Equal(b[:6], npyMagic) {
		return fail("not a .npy file")
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return fail("truncated .npy header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return fail(".npy version %d.%d not supported", b[6], b[7])
	}
	if hlen > len(b)-start {
		return fail("truncated .npy header")
	}
	descr, shape, err := parseNpyDict(path, string(b[start:start+hlen]))
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
	if h > 0 && w > math.MaxInt32/h {
		return fail("shape (%d, %d) too large", h, w)
	}
	n := h * w
	body := b[start+hlen:]
	if len(body) < n*item {
		return fail("shape (%d, %d) of %s needs %d data bytes, file has %d (truncated)", h, w, descr, n*item, len(body))
	}
	if len(body) > n*item {
		return fail("%d bytes after the data of shape (%d, %d) %s", len(body)-n*item, h, w, descr)
	}
	mask = make([]uint8, n)
	le := binary.LittleEndian
	for i := range mask {
		v := body[i*item : (i+1)*item]
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
