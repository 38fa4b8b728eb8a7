// Package gonbviz shows the pictures of package viz in a GoNB (Go Jupyter
// kernel) notebook. It is kept apart from viz so that viz builds and tests
// without Jupyter. Outside a notebook every function does nothing and returns
// nil. Each function returns once GoNB has the picture (gonbui.Sync), so a
// cell that ends right after showing one does not lose it.
package gonbviz

import (
	"fmt"
	"html"
	"image"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// Show displays img in the cell's output. It returns an error if img cannot be
// encoded as PNG.
func Show(img image.Image) error {
	if !gonbui.IsNotebook {
		return nil
	}
	if err := gonbui.DisplayImage(img); err != nil {
		return err
	}
	gonbui.Sync()
	return nil
}

// ShowPNG displays PNG bytes, such as the plots of package viz, in the cell's
// output.
func ShowPNG(b []byte) {
	if !gonbui.IsNotebook {
		return
	}
	gonbui.DisplayPng(b)
	gonbui.Sync()
}

// ShowPlot displays the result of a viz plot function, b or its error:
//
//	gonbviz.ShowPlot(viz.TrainingCurvesFile("run/losses.csv", 900, 600))
//
// It returns err.
func ShowPlot(b []byte, err error) error {
	if err != nil {
		return err
	}
	ShowPNG(b)
	return nil
}

// ShowAll displays the images side by side (wrapping when the cell is too
// narrow), in one HTML block. It returns an error if an image cannot be
// encoded as PNG.
func ShowAll(imgs ...image.Image) error {
	return ShowCaptioned(nil, imgs...)
}

// ShowCaptioned is ShowAll with a caption under each image (captions[i] for
// imgs[i]; missing captions are left empty).
func ShowCaptioned(captions []string, imgs ...image.Image) error {
	if !gonbui.IsNotebook {
		return nil
	}
	var sb strings.Builder
	sb.WriteString(`<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start">`)
	for i, img := range imgs {
		src, err := gonbui.EmbedImageAsPNGSrc(img)
		if err != nil {
			return fmt.Errorf("gonbviz: image %d: %w", i, err)
		}
		fmt.Fprintf(&sb, `<figure style="margin:0"><img src="%s" style="image-rendering:pixelated"/>`, src)
		if i < len(captions) && captions[i] != "" {
			fmt.Fprintf(&sb, `<figcaption style="text-align:center">%s</figcaption>`, html.EscapeString(captions[i]))
		}
		sb.WriteString(`</figure>`)
	}
	sb.WriteString(`</div>`)
	gonbui.DisplayHTML(sb.String())
	gonbui.Sync()
	return nil
}
