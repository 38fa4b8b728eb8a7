package viz

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Layout constants of the raster figures, in pixels.
const (
	margin     = 4  // around a figure
	gap        = 4  // between tiles
	lineHeight = 13 // of the 7×13 font
	glyphWidth = 7  // of the 7×13 font
	captionPad = 2  // between a caption and its tile
)

var (
	background = color.RGBA{255, 255, 255, 255}
	ink        = color.RGBA{0, 0, 0, 255}
)

// newCanvas returns a w×h RGBA image filled with the background colour.
func newCanvas(w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	return dst
}

// textWidth is the width in pixels of s in the 7×13 font.
func textWidth(s string) int { return glyphWidth * len([]rune(s)) }

// drawText draws s in the 7×13 font with its top-left corner at (x, top).
func drawText(dst draw.Image, x, top int, s string, c color.Color) {
	d := font.Drawer{
		Dst:  dst,
		Src:  image.NewUniform(c),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, top+basicfont.Face7x13.Ascent),
	}
	d.DrawString(s)
}

// drawTextCentered draws s centred horizontally on cx, its top at top.
func drawTextCentered(dst draw.Image, cx, top int, s string, c color.Color) {
	drawText(dst, cx-textWidth(s)/2, top, s, c)
}

// paste draws src onto dst with its top-left corner at (x, y).
func paste(dst draw.Image, x, y int, src image.Image) {
	b := src.Bounds()
	draw.Draw(dst, image.Rect(x, y, x+b.Dx(), y+b.Dy()), src, b.Min, draw.Src)
}

// upscale returns src pixel-replicated by scale (scale < 1 is taken as 1).
func upscale(src image.Image, scale int) *image.RGBA {
	if scale < 1 {
		scale = 1
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*scale, b.Dy()*scale))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.RGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
			for dy := range scale {
				row := (y*scale + dy) * dst.Stride
				for dx := range scale {
					i := row + (x*scale+dx)*4
					dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = c.R, c.G, c.B, c.A
				}
			}
		}
	}
	return dst
}

// normScale returns scale, or 1 where scale < 1.
func normScale(scale int) int { return max(scale, 1) }

// grayTile is channel ch of im in grey ([-1, 1] to black..white), upscaled.
func grayTile(im Image, ch, scale int) *image.RGBA {
	return upscale(Gray(im, ch, IntensityLo, IntensityHi), scale)
}

// tile is one cell of a grid: an image with optional captions above and below.
type tile struct {
	img         image.Image // nil leaves the cell empty
	top, bottom string
}

// drawGrid lays out rows of tiles in columns of equal width (the widest image
// or caption) and rows of equal height, captions centred on their image.
func drawGrid(rows [][]tile) *image.RGBA {
	cols, cellW, imgH := 0, 0, 0
	hasTop, hasBottom := false, false
	for _, r := range rows {
		cols = max(cols, len(r))
		for _, t := range r {
			if t.img != nil {
				cellW = max(cellW, t.img.Bounds().Dx())
				imgH = max(imgH, t.img.Bounds().Dy())
			}
			cellW = max(cellW, textWidth(t.top)+glyphWidth, textWidth(t.bottom)+glyphWidth) // a blank between captions
			hasTop = hasTop || t.top != ""
			hasBottom = hasBottom || t.bottom != ""
		}
	}
	capTop, capBottom := 0, 0
	if hasTop {
		capTop = lineHeight + captionPad
	}
	if hasBottom {
		capBottom = lineHeight + captionPad
	}
	rowH := capTop + imgH + capBottom
	w := 2*margin + cols*cellW + max(cols-1, 0)*gap
	h := 2*margin + len(rows)*rowH + max(len(rows)-1, 0)*gap
	dst := newCanvas(max(w, 1), max(h, 1))
	for j, r := range rows {
		y0 := margin + j*(rowH+gap)
		for i, t := range r {
			x0 := margin + i*(cellW+gap)
			cx := x0 + cellW/2
			if t.top != "" {
				drawTextCentered(dst, cx, y0, t.top, ink)
			}
			if t.img != nil {
				b := t.img.Bounds()
				paste(dst, cx-b.Dx()/2, y0+capTop, t.img)
			}
			if t.bottom != "" {
				drawTextCentered(dst, cx, y0+capTop+imgH+captionPad, t.bottom, ink)
			}
		}
	}
	return dst
}

// stack returns the images one below the other, separated by sep pixels of
// background, left-aligned.
func stack(sep int, imgs ...image.Image) *image.RGBA {
	w, h := 0, 0
	for i, im := range imgs {
		w = max(w, im.Bounds().Dx())
		h += im.Bounds().Dy()
		if i > 0 {
			h += sep
		}
	}
	dst := newCanvas(max(w, 1), max(h, 1))
	y := 0
	for _, im := range imgs {
		paste(dst, 0, y, im)
		y += im.Bounds().Dy() + sep
	}
	return dst
}
