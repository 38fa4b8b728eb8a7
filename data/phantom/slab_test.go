package phantom

import (
	"os"
	"slices"
	"testing"
)

// colinTemplate is Colin27's skull-stripped T1 as Debian's mricron-data
// package installs it.
const colinTemplate = "/usr/share/mricron/templates/ch2bet.nii.gz"

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
		if err := WriteSlab(colinTemplate, SlabFile); err != nil {
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
