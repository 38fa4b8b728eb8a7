package viz_test

import (
	"fmt"

	"github.com/pathogan-go/pathogan/viz"
)

func ExampleGray() {
	// One row of a normalised FLAIR slice: [-1, 1] maps to black..white.
	im, err := viz.NewImage(1, 4, 1, []float32{-1, 0, 1, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(viz.Gray(im, 0, viz.IntensityLo, viz.IntensityHi).Pix)
	// Output: [0 128 255 255]
}

func ExampleNewImage() {
	_, err := viz.NewImage(2, 2, 4, make([]float32, 15))
	fmt.Println(err)
	// Output: viz: NewImage: 15 values for 2×2×4 (want 16)
}

func ExampleContours() {
	const h, w = 16, 16
	base, _ := viz.NewImage(h, w, 4, make([]float32, h*w*4))
	mask := make([]float32, h*w)
	for y := 4; y < 12; y++ {
		for x := 4; x < 12; x++ {
			mask[y*w+x] = 1
		}
	}
	img := viz.Contours(base, 0, 2, viz.Outline{Mask: mask, Name: "truth"})
	fmt.Println(img.Bounds().Dx() >= 2*w, img.Bounds().Dy() > 2*h) // legend below
	// Output: true true
}
