package gonbviz

import (
	"image"
	"testing"
)

// Outside a notebook the helpers display nothing and succeed.
func TestOutsideNotebook(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	if err := Show(img); err != nil {
		t.Error(err)
	}
	if err := ShowAll(img, img); err != nil {
		t.Error(err)
	}
	if err := ShowCaptioned([]string{"a"}, img, img); err != nil {
		t.Error(err)
	}
	ShowPNG(nil)
	if err := ShowPlot(nil, nil); err != nil {
		t.Error(err)
	}
}
