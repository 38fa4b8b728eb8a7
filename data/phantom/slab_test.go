package phantom

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// colinTemplate is Colin27's skull-stripped T1 as Debian's mricron-data
// package installs it.
const colinTemplate = "/usr/share/mricron/templates/ch2bet.nii.gz"

// writeSlab writes ExtractSlab(templatePath) to outPath (normally SlabFile),
// gzip-compressed at the best compression level.
func writeSlab(templatePath, outPath string) error {
	im, err := ExtractSlab(templatePath)
	if err != nil {
		return err
	}
	b, err := im.Encode()
	if err != nil {
		return fmt.Errorf("phantom: %s: %w", outPath, err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		return fmt.Errorf("phantom: %s: %w", outPath, err)
	}
	return atomicfile.WriteFile(outPath, buf.Bytes())
}

// TestEmbeddedSlabMatchesTemplate checks that the embedded slab is exactly
// ExtractSlab of the Colin27 template. With PHANTOM_WRITE_SLAB=1 it
// regenerates the embedded file first:
//
//	PHANTOM_WRITE_SLAB=1 go test ./data/phantom -run TestEmbeddedSlabMatchesTemplate
func TestEmbeddedSlabMatchesTemplate(t *testing.T) {
	if _, err := os.Stat(colinTemplate); err != nil {
		t.Skipf("template not installed (apt install mricron-data): %v", err)
	}
	if os.Getenv("PHANTOM_WRITE_SLAB") == "1" {
		if err := writeSlab(colinTemplate, SlabFile); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s; rebuild to embed it", SlabFile)
		return
	}
	want, err := ExtractSlab(colinTemplate)
	if err != nil {
		t.Fatal(err)
	}
	got, err := embeddedSlab()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Shape(), want.Shape()) {
		t.Fatalf("embedded slab shape %v, template gives %v", got.Shape(), want.Shape())
	}
	if got.Header.Datatype != want.Header.Datatype {
		t.Fatalf("embedded slab datatype %v, want %v", got.Header.Datatype, want.Header.Datatype)
	}
	g, w := got.Float32s(), want.Float32s()
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("embedded slab differs from the template at voxel %d: %g, want %g", i, g[i], w[i])
		}
	}
}
