package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"
)

// FuzzLoad feeds arbitrary bytes to the checkpoint decoder behind Load,
// LoadBytes and Verify. It must never panic, its errors name the input, and
// what it accepts passes Verify's file-size check and loads into a context. Inputs
// with a fixed-up checksum get past the checksum to the header and
// variable checks.
func FuzzLoad(f *testing.F) {
	p, err := Save(f.TempDir(), newContext(), Header{Step: 4, Model: "unet", Config: json.RawMessage(`{"size":32}`), State: json.RawMessage(`{"A":[]}`)}, 0)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(p)
	f.Add(good, false)
	f.Add(good, true)
	f.Add(good[:40], true)
	f.Add([]byte(magicV1+"\x05\x00\x00\x00\x00\x00\x00\x00{\"a\"}"), false)
	f.Add(bytes.Replace(good, []byte(`"dims":[2,2]`), []byte(`"dims":[9223372036854775807,4]`), 1), true)
	// Headers of the same length that lie about the data, with the CRC fixed
	// (second argument) so that the header checks meet them: a variable
	// moved onto another or past the end, a length that disagrees with
	// dims and dtype, an unknown dtype, an empty dimension, and two
	// overlapping variables (the one decode accepts: the file's length
	// still adds up).
	for _, e := range [][2]string{
		{`"offset":16`, `"offset":12`}, {`"offset":16`, `"offset":99`}, {`"length":16`, `"length":99`},
		{`"dtype":"Float32"`, `"dtype":"Float99"`}, {`"dims":[2,2]`, `"dims":[0,2]`}, {`"offset":0,`, `"offset":4,`},
	} {
		f.Add(bytes.Replace(good, []byte(e[0]), []byte(e[1]), 1), true)
	}
	// A header length beyond the file, bytes between the data and the
	// trailer, and the first format (no trailer).
	long := bytes.Clone(good)
	binary.LittleEndian.PutUint64(long[len(magic):], 1<<40)
	f.Add(long, true)
	f.Add(append(bytes.Clone(good[:len(good)-4]), 0, 0, 0, 0, 1, 2, 3, 4), true)
	f.Add(append([]byte(magicV1), good[len(magic):len(good)-4]...), false)
	fuzzing := flag.Lookup("test.fuzz").Value.String() != ""
	f.Fuzz(func(t *testing.T, b []byte, fixCRC bool) {
		if fixCRC && len(b) >= len(magic)+12 && string(b[:len(magic)]) == magic {
			b = bytes.Clone(b)
			binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crcTable))
		}
		h, _, err := decode(b, "fuzz.ckpt")
		if err != nil && !strings.Contains(err.Error(), "fuzz.ckpt") {
			t.Errorf("error does not name the input: %v", err)
		}
		if err != nil {
			return
		}
		// Accepted: the file-size check (Verify's, before reading a file
		// whole) agrees, and it loads into a context. (LoadBytes on the seed
		// corpus only: GoMLX and file I/O stall the fuzzing engine's worker
		// here; the decoder is the parser being fuzzed.)
		_, start, summed, _ := readHeader(bytes.NewReader(b), "fuzz.ckpt")
		if _, err := fileSize(h, start, summed, int64(len(b)), "fuzz.ckpt"); err != nil {
			t.Errorf("decode accepted, the size check refused: %v", err)
		}
		if !fuzzing {
			if _, err := LoadBytes(b, "fuzz.ckpt", context.New()); err != nil {
				t.Errorf("decode accepted, LoadBytes: %v", err)
			}
		}
	})
}
