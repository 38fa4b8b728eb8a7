package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"github.com/pathogan-go/pathogan/internal/atomicfile"
)

// PNG encodes img as PNG.
func PNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("viz: PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// WritePNG writes img as a PNG file at path, atomically: it writes a temporary
// file in the same folder and renames it over path, so a reader never sees a
// partial file.
func WritePNG(path string, img image.Image) error {
	b, err := PNG(img)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	return nil
}
