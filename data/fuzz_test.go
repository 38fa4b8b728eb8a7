package data

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzNpy feeds arbitrary bytes to the .npy readers (the slice cache's row
// reader, as images.npy and as labels.npy, and the mask reader of `pathogan
// metrics`): no panic, errors name the file, and what is accepted is exactly
// as long as its header says and reads row by row. It also writes a valid
// array of a fuzzed shape with the cache's header and checks that it reads
// back equal.
func FuzzNpy(f *testing.F) {
	vals := make([]byte, 2*3*2*4*4)
	for i := range vals {
		vals[i] = byte(i * 7)
	}
	f.Add(append(npyHeader("<f4", []int{2, 3, 2, 4}), vals...), uint8(2), uint8(3), uint8(2))
	f.Add(append(npyHeader("|u1", []int{2, 3, 2}), vals[:12]...), uint8(0), uint8(1), uint8(1))
	f.Add(append(npyHeader("<f4", []int{2, 3, 2, 4}), vals[:50]...), uint8(1), uint8(0), uint8(6))
	for v := byte(1); v <= 3; v++ {
		f.Add(npyBytes(v, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", []byte{0, 1, 2, 0, 0, 1}), uint8(1), uint8(1), uint8(1))
	}
	f.Add(npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", le(0.0, math.NaN())), uint8(3), uint8(4), uint8(5))
	f.Add(npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", le(float32(1), float32(2))), uint8(0), uint8(0), uint8(0))
	// Mask dtypes, and headers that npyio's own parser misreads or panics on
	// (no trailing ", ", keys in another order, no '\n'), a scalar, a
	// negative dimension and a version 2.0 header claiming 2 GiB.
	f.Add(npyBytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", []byte{0, 1, 2, 0}), uint8(0), uint8(0), uint8(0))
	f.Add(npyBytes(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (1, 3), }", le(int16(0), int16(-1), int16(256))), uint8(0), uint8(0), uint8(0))
	f.Add(npyBytes(1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1, 1)}", le(uint64(1<<63))), uint8(0), uint8(0), uint8(0))
	f.Add(npyBytes(1, "{'shape': (2, 1), 'fortran_order': False, 'descr': '<f4'}", le(float32(0), float32(-0.5))), uint8(0), uint8(0), uint8(0))
	f.Add(append([]byte("\x93NUMPY\x01\x00\x10\x00"), "{'descr': '|u1'}"...), uint8(0), uint8(0), uint8(0))
	f.Add(npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", le(float32(1))), uint8(0), uint8(0), uint8(0))
	f.Add(npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 2), }", nil), uint8(0), uint8(0), uint8(0))
	f.Add(append([]byte("\x93NUMPY\x02\x00"), 0, 0, 0, 0x80), uint8(0), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, rows, h, w uint8) {
		const name = "fuzz.npy"
		for _, dt := range []struct {
			descr string
			item  int
		}{{"<f4", 4}, {"|u1", 1}} {
			a, err := newNpyArray(bytes.NewReader(b), int64(len(b)), name, dt.descr, dt.item)
			if err != nil {
				if !strings.HasPrefix(err.Error(), name+": ") {
					t.Fatalf("error does not name the file: %v", err)
				}
				continue
			}
			if n, ok := npySize(a.shape, dt.item); !ok || a.offset+n != int64(len(b)) {
				t.Fatalf("accepted shape %v at offset %d in %d bytes", a.shape, a.offset, len(b))
			}
			row := make([]byte, a.rowBytes)
			for i := range min(a.shape[0], 8) {
				if err := a.readRow(i, row); err != nil {
					t.Fatalf("row %d of %v: %v", i, a.shape, err)
				}
			}
			if err := a.readRow(a.shape[0], row); err == nil {
				t.Fatalf("row %d of %v read", a.shape[0], a.shape)
			}
		}
		mask, mh, mw, err := readMaskNpy(bytes.NewReader(b), int64(len(b)), name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("mask error does not name the file: %v", err)
			}
		} else {
			if len(mask) != mh*mw {
				t.Fatalf("mask of %d pixels, shape (%d, %d)", len(mask), mh, mw)
			}
			// Each pixel against the definition, from the raw bytes: a
			// float is set when not ±0, an integer or bool when any of its
			// bytes is not 0.
			descr, _, off, _ := readNpyHeader(bytes.NewReader(b), name)
			item := npyMaskItem[descr]
			for i, v := range mask {
				raw := b[off+int64(i*item) : off+int64((i+1)*item)]
				want := !bytes.Equal(raw, make([]byte, item))
				switch descr {
				case "<f4":
					want = math.Float32frombits(binary.LittleEndian.Uint32(raw)) != 0
				case "<f8":
					want = math.Float64frombits(binary.LittleEndian.Uint64(raw)) != 0
				}
				if (v == 1) != want || v > 1 {
					t.Fatalf("%s pixel %d of (%d, %d): %d from % x", descr, i, mh, mw, v, raw)
				}
			}
		}

		// Round trip: an array written with the cache's header reads back.
		shape := []int{int(rows % 5), int(h%7) + 1, int(w%7) + 1, NumModalities}
		n := shape[0] * shape[1] * shape[2] * shape[3]
		data := make([]byte, 4*n)
		for i := range n {
			var x uint32
			if len(b) > 0 {
				x = uint32(b[i%len(b)]) * 0x01010101
			}
			binary.LittleEndian.PutUint32(data[4*i:], x^uint32(i))
		}
		file := append(npyHeader("<f4", shape), data...)
		a, err := newNpyArray(bytes.NewReader(file), int64(len(file)), name, "<f4", 4)
		if err != nil {
			t.Fatalf("written shape %v does not read back: %v", shape, err)
		}
		if !reflect.DeepEqual(a.shape, shape) || a.offset != npyHeaderLen {
			t.Fatalf("shape %v at %d read back as %v at %d", shape, npyHeaderLen, a.shape, a.offset)
		}
		row := make([]byte, a.rowBytes)
		for i := range shape[0] {
			if err := a.readRow(i, row); err != nil || !bytes.Equal(row, data[i*a.rowBytes:(i+1)*a.rowBytes]) {
				t.Fatalf("row %d of %v differs (%v)", i, shape, err)
			}
		}
	})
}

// FuzzReadSplitCSV feeds arbitrary bytes to the split.csv reader: no panic,
// errors name the file, every accepted row has a patient and a known split,
// and what is accepted, written again by WriteSplitCSV, reads back equal.
func FuzzReadSplitCSV(f *testing.F) {
	var b bytes.Buffer
	WriteSplitCSV(&b, map[string]string{"Brats17_2013_10_1": Train, "Brats17_TCIA_101_1": Test, "P03": Val, "a,b": Train, `q"x`: Test})
	f.Add(b.String())
	f.Add("patient,split\nP01,train\nP02,test\n")
	f.Add(" patient , split \r\nP01 , val\r\n")
	f.Add("patient,split\nP01,train\nP01,test\n")
	f.Add("patient,split\n,train\n")
	f.Add("patient,split,extra\nP01,train,x\n")
	f.Add("split,patient\n")
	f.Add("patient,split\n\"unterminated,train\n")
	f.Fuzz(func(t *testing.T, s string) {
		const name = "split.csv"
		split, err := readSplitCSV(strings.NewReader(s), name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for id, sp := range split {
			if id == "" || CheckSplit(sp) != nil {
				t.Fatalf("accepted patient %q in split %q", id, sp)
			}
		}
		var buf bytes.Buffer
		if err := WriteSplitCSV(&buf, split); err != nil {
			t.Fatal(err)
		}
		back, err := readSplitCSV(&buf, name)
		if err != nil || !reflect.DeepEqual(back, split) {
			t.Fatalf("split %q written as %q reads back as %q (%v)", split, buf.String(), back, err)
		}
	})
}

// writeSlicesCSV renders slice infos as setWriter writes slices.csv.
func writeSlicesCSV(infos []SliceInfo) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"index", "patient", "grade", "split", "slice", "class", "tumour_pixels"})
	for _, in := range infos {
		cw.Write([]string{strconv.Itoa(in.Index), in.Patient, in.Grade, in.Split, strconv.Itoa(in.Slice), string(in.Class), strconv.Itoa(in.TumourPixels)})
	}
	cw.Flush()
	return buf.Bytes()
}

// FuzzReadSlicesCSV feeds arbitrary bytes to the slices.csv reader: no
// panic, errors name the file, accepted rows are well formed, and what is
// accepted, written again as Prepare writes it, reads back equal.
func FuzzReadSlicesCSV(f *testing.F) {
	f.Add(string(writeSlicesCSV([]SliceInfo{
		{0, "Brats17_2013_10_1", "HGG", Train, 60, Healthy, 0},
		{1, "Brats17_2013_10_1", "HGG", Test, 61, Pathological, 431},
		{2, "P,3", "", Val, 99, Pathological, 21},
	})))
	f.Add("index,patient,grade,split,slice,class,tumour_pixels\n")
	f.Add("index,patient,grade,split,slice,class,tumour_pixels\n1,P,HGG,train,3,healthy,0\n")
	f.Add("index,patient,grade,split,slice,class,tumour_pixels\n0,P,HGG,train,-3,healthy,0\n")
	f.Add("index,patient,grade,split,slice,class,tumour_pixels\n0,P,HGG,foo,3,healthy,0\n")
	f.Add("index,patient\n0,P\n")
	f.Fuzz(func(t *testing.T, s string) {
		const name = "slices.csv"
		infos, err := parseSlicesCSV(strings.NewReader(s), name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for i, in := range infos {
			if in.Index != i || in.Patient == "" || in.Slice < 0 || in.TumourPixels < 0 || CheckSplit(in.Split) != nil ||
				(in.Class != Healthy && in.Class != Pathological) {
				t.Fatalf("accepted row %d: %+v", i, in)
			}
		}
		out := writeSlicesCSV(infos)
		back, err := parseSlicesCSV(bytes.NewReader(out), name)
		if err != nil || !reflect.DeepEqual(back, infos) && len(infos) > 0 {
			t.Fatalf("rows %+v written as %q read back as %+v (%v)", infos, out, back, err)
		}
	})
}
