package viz

import (
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"
)

// channelName returns names[c], or ChannelNames[c] for a four-channel image
// when names is nil, or "ch<c>".
func channelName(names []string, nch, c int) string {
	switch {
	case c < len(names):
		return names[c]
	case names == nil && nch == len(ChannelNames):
		return ChannelNames[c]
	}
	return "ch" + strconv.Itoa(c)
}

// Channels returns the channels of im side by side in grey ([-1, 1] to
// black..white), each titled with its name and pixel-replicated by scale
// (scale < 1 is taken as 1). names nil means ChannelNames for a four-channel
// image; a missing name is written "ch<c>". It panics if im is malformed.
func Channels(im Image, names []string, scale int) image.Image {
	im.check("Channels")
	row := make([]tile, im.C)
	for c := range im.C {
		row[c] = tile{img: grayTile(im, c, scale), top: channelName(names, im.C, c)}
	}
	return drawGrid([][]tile{row})
}

// Outline is one mask to outline in Contours: pixels with Mask value >
// Threshold are inside (Threshold 0 outlines the non-zero pixels of a binary
// mask; 0.5 thresholds a labelmap). Name, if set, appears in the legend.
type Outline struct {
	Mask      []float32
	Threshold float32
	Color     color.Color
	Name      string
}

// Contours returns channel ch of base in grey ([-1, 1] to black..white),
// pixel-replicated by scale, with the one-pixel outline of each mask drawn in
// its colour, later masks over earlier ones, and below it a legend of the named
// outlines. An outline pixel is an inside pixel of the upscaled mask with a
// 4-neighbour outside the mask or outside the image, so the line lies on the
// mask's own border pixels. It panics if ch is out of range or a mask does not
// hold base.H×base.W values.
func Contours(base Image, ch int, scale int, masks ...Outline) image.Image {
	base.check("Contours")
	scale = normScale(scale)
	img := grayTile(base, ch, scale)
	for i, m := range masks {
		base.checkPlane("Contours", fmt.Sprintf("mask %d", i), m.Mask)
		drawOutline(img, 0, 0, m, base.H, base.W, scale)
	}
	var named []Outline
	for _, m := range masks {
		if m.Name != "" {
			named = append(named, m)
		}
	}
	if len(named) == 0 {
		return img
	}
	return stack(gap, img, legend(named))
}

// drawOutline draws the outline of m (an h×w mask) upscaled by scale onto dst
// with its top-left corner at (x0, y0).
func drawOutline(dst *image.RGBA, x0, y0 int, m Outline, h, w, scale int) {
	c := m.Color
	if c == nil {
		c = color.RGBA{255, 0, 0, 255}
	}
	H, W := h*scale, w*scale
	in := func(y, x int) bool {
		if y < 0 || x < 0 || y >= H || x >= W {
			return false
		}
		return m.Mask[(y/scale)*w+x/scale] > m.Threshold
	}
	for y := range H {
		for x := range W {
			if in(y, x) && (!in(y-1, x) || !in(y+1, x) || !in(y, x-1) || !in(y, x+1)) {
				dst.Set(x0+x, y0+y, c)
			}
		}
	}
}

// legend draws one line per outline: a colour swatch and the name.
func legend(outlines []Outline) *image.RGBA {
	const swatch = 9
	w := 0
	for _, o := range outlines {
		w = max(w, swatch+4+textWidth(o.Name))
	}
	dst := newCanvas(w+2, len(outlines)*(lineHeight+2))
	for i, o := range outlines {
		y := i * (lineHeight + 2)
		c := o.Color
		if c == nil {
			c = color.RGBA{255, 0, 0, 255}
		}
		for dy := range swatch {
			for dx := range swatch {
				dst.Set(1+dx, y+2+dy, c)
			}
		}
		drawText(dst, 1+swatch+4, y, o.Name, ink)
	}
	return dst
}

// Figure2Sample is one block of Figure2: the input x_B, its inpaintings p̂_B
// and the translation ŷ_A (same size, four channels each), and the labelmaps
// ([0, 1], one value per pixel): ground truth l_GS, PathoGAN's l̂_B and an
// optional baseline l_M (nil: no baseline tile).
type Figure2Sample struct {
	Input, Inpainting, Translated Image
	Truth, Labelmap, Baseline     []float32
	// BaselineName titles the baseline labelmap ("baseline" if empty).
	BaselineName string
	// Name, if set, captions the block (e.g. "patient 12, slice 80").
	Name string
}

// Figure2 returns the layout of the paper's Figure 2, one block per sample,
// stacked top to bottom. In each block the left part has three rows (input
// x_B, inpaintings p_B, translated y_A) by one column per channel, in grey
// ([-1, 1] to black..white), with row titles on the left and channel titles on
// top; the right column, level with those rows, shows the ground truth l_GS,
// PathoGAN's labelmap l_B and the baseline's l_M in a viridis-like colour map,
// titled on the right (a nil labelmap leaves its slot blank, so the figure
// keeps its size without a baseline), with a 0..1 colour key under the last
// block. Images are pixel-replicated by scale (scale < 1 is taken as 1); no
// samples give a blank margin-sized image. It panics if a sample's images differ in size or channel count
// or a labelmap does not hold one value per pixel.
func Figure2(rows []Figure2Sample, scale int) image.Image {
	scale = normScale(scale)
	if len(rows) == 0 {
		return newCanvas(2*margin, 2*margin)
	}
	// Sizes: every sample must share the first sample's shape.
	ref := rows[0].Input
	ref.check("Figure2")
	tw, th := ref.W*scale, ref.H*scale
	rowLabels := [3][2]string{{"x_B", "input"}, {"p_B", "inpainting"}, {"y_A", "translated"}}
	labelW := 0
	for _, l := range rowLabels {
		labelW = max(labelW, textWidth(l[0]), textWidth(l[1]))
	}
	rightLabels := func(s Figure2Sample) [3][2]string {
		bn := s.BaselineName
		if bn == "" {
			bn = "baseline"
		}
		return [3][2]string{{"l_GS", "truth"}, {"l_B", "PathoGAN"}, {"l_M", bn}}
	}
	rightW, named := 0, false
	for i, s := range rows {
		for _, im := range []Image{s.Input, s.Inpainting, s.Translated} {
			im.check("Figure2")
			if im.H != ref.H || im.W != ref.W || im.C != ref.C {
				panic(fmt.Sprintf("viz: Figure2: sample %d has an image of %d×%d×%d, want %d×%d×%d", i, im.H, im.W, im.C, ref.H, ref.W, ref.C))
			}
		}
		for _, p := range []struct {
			name string
			v    []float32
		}{{"Truth", s.Truth}, {"Labelmap", s.Labelmap}, {"Baseline", s.Baseline}} {
			if p.v != nil {
				ref.checkPlane("Figure2", fmt.Sprintf("sample %d %s", i, p.name), p.v)
			}
		}
		for j, l := range rightLabels(s) {
			if j < 2 || s.Baseline != nil {
				rightW = max(rightW, textWidth(l[0]), textWidth(l[1]))
			}
		}
		named = named || s.Name != ""
	}
	colW := tw
	for c := range ref.C {
		colW = max(colW, textWidth(channelName(nil, ref.C, c)))
	}
	const sep = 3 * gap // between the channel columns and the labelmap column
	rightTitle := "labelmap"
	rightColW := max(tw, textWidth(rightTitle))
	xLeft := margin + labelW + gap
	xRight := xLeft + ref.C*colW + (ref.C-1)*gap + sep
	width := xRight + rightColW + gap + rightW + margin
	caption := 0
	if named {
		caption = lineHeight + captionPad
	}
	header := lineHeight + captionPad
	blockH := caption + header + 3*th + 2*gap
	keyH := 6 + 1 + lineHeight
	height := margin + len(rows)*blockH + (len(rows)-1)*sep + gap + keyH + margin
	dst := newCanvas(width, height)

	for b, s := range rows {
		y0 := margin + b*(blockH+sep)
		if s.Name != "" {
			drawText(dst, margin, y0, s.Name, ink)
		}
		yh := y0 + caption
		for c := range ref.C {
			drawTextCentered(dst, xLeft+c*(colW+gap)+colW/2, yh, channelName(nil, ref.C, c), ink)
		}
		drawTextCentered(dst, xRight+rightColW/2, yh, rightTitle, ink)
		yt := yh + header
		for r, im := range []Image{s.Input, s.Inpainting, s.Translated} {
			y := yt + r*(th+gap)
			twoLines(dst, margin, y, th, rowLabels[r], labelW, true)
			for c := range ref.C {
				paste(dst, xLeft+c*(colW+gap)+(colW-tw)/2, y, grayTile(im, c, scale))
			}
		}
		rl := rightLabels(s)
		for r, p := range [][]float32{s.Truth, s.Labelmap, s.Baseline} {
			if p == nil {
				continue
			}
			y := yt + r*(th+gap)
			paste(dst, xRight+(rightColW-tw)/2, y, upscale(heatPlane(p, ref.H, ref.W), scale))
			twoLines(dst, xRight+rightColW+gap, y, th, rl[r], rightW, false)
		}
	}
	// Colour key: a 0..1 gradient under the labelmap column.
	yk := margin + len(rows)*blockH + (len(rows)-1)*sep + gap
	xk := xRight + (rightColW-tw)/2
	for x := range tw {
		c := Viridis(float64(x) / float64(max(tw-1, 1)))
		for y := range 6 {
			dst.SetRGBA(xk+x, yk+y, c)
		}
	}
	drawText(dst, xk, yk+7, "0", ink)
	drawText(dst, xk+tw-glyphWidth, yk+7, "1", ink)
	return dst
}

// twoLines draws a two-line label vertically centred on a tile of height h
// whose top is y, in a column of width w starting at x, right-aligned when
// right is true.
func twoLines(dst *image.RGBA, x, y, h int, lines [2]string, w int, right bool) {
	top := y + (h-2*lineHeight)/2
	for i, s := range lines {
		lx := x
		if right {
			lx = x + w - textWidth(s)
		}
		drawText(dst, lx, top+i*lineHeight, s, ink)
	}
}

// SampleGrid returns the healthy input followed by each sampled pathology, in
// rows of cols cells (cols < 1: one row), all showing channel ch in grey
// ([-1, 1] to black..white), titled "healthy" and "sample 1", "sample 2", ...
// When labelmaps is not nil it holds one labelmap per sample (channel 0,
// [0, 1]) and each is drawn as a heat map under its sample. Images are
// pixel-replicated by scale (scale < 1 is taken as 1). It panics if the images
// differ in size, ch is out of range, or len(labelmaps) != len(samples).
func SampleGrid(healthy Image, samples []Image, labelmaps []Image, ch int, cols int, scale int) image.Image {
	healthy.check("SampleGrid")
	if labelmaps != nil && len(labelmaps) != len(samples) {
		panic(fmt.Sprintf("viz: SampleGrid: %d labelmaps for %d samples", len(labelmaps), len(samples)))
	}
	n := 1 + len(samples)
	if cols < 1 || cols > n {
		cols = n
	}
	cells := make([]tile, 0, n)
	cells = append(cells, tile{img: grayTile(healthy, ch, scale), top: "healthy"})
	for i, s := range samples {
		s.check("SampleGrid")
		if s.H != healthy.H || s.W != healthy.W {
			panic(fmt.Sprintf("viz: SampleGrid: sample %d is %d×%d, the healthy input %d×%d", i, s.H, s.W, healthy.H, healthy.W))
		}
		var img image.Image = grayTile(s, ch, scale)
		if labelmaps != nil {
			l := labelmaps[i]
			l.check("SampleGrid")
			if l.H != healthy.H || l.W != healthy.W {
				panic(fmt.Sprintf("viz: SampleGrid: labelmap %d is %d×%d, the images %d×%d", i, l.H, l.W, healthy.H, healthy.W))
			}
			img = stack(captionPad, img, Heatmap(l, scale))
		}
		cells = append(cells, tile{img: img, top: "sample " + strconv.Itoa(i+1)})
	}
	var grid [][]tile
	for len(cells) > 0 {
		k := min(cols, len(cells))
		grid = append(grid, cells[:k])
		cells = cells[k:]
	}
	return drawGrid(grid)
}

// InterpolationStrip returns the frames left to right in grey ([-1, 1] to
// black..white), channel ch, each labelled with its position t = i/(n-1) from
// "t=0" to "t=1" (a single frame is "t=0"). Frames are pixel-replicated by
// scale (scale < 1 is taken as 1). It panics if the frames differ in size or
// ch is out of range.
func InterpolationStrip(frames []Image, ch int, scale int) image.Image {
	labels := make([]string, len(frames))
	for i := range frames {
		t := 0.0
		if len(frames) > 1 {
			t = float64(i) / float64(len(frames)-1)
		}
		labels[i] = "t=" + shortFloat(t)
	}
	return strip("InterpolationStrip", frames, labels, ch, scale)
}

// Strip returns channel ch of the frames side by side, each pixel-replicated
// by scale and captioned below with labels[i] ("" or a missing label: none);
// for a row of decodings with one latent dimension varied, or of different
// anatomies. It panics if the frames differ in size.
func Strip(frames []Image, labels []string, ch int, scale int) image.Image {
	return strip("Strip", frames, labels, ch, scale)
}

func strip(fn string, frames []Image, labels []string, ch int, scale int) image.Image {
	row := make([]tile, len(frames))
	for i, f := range frames {
		f.check(fn)
		if f.H != frames[0].H || f.W != frames[0].W {
			panic(fmt.Sprintf("viz: %s: frame %d is %d×%d, frame 0 %d×%d", fn, i, f.H, f.W, frames[0].H, frames[0].W))
		}
		row[i] = tile{img: grayTile(f, ch, scale)}
		if i < len(labels) {
			row[i].bottom = labels[i]
		}
	}
	return drawGrid([][]tile{row})
}

// shortFloat formats t with at most two decimals and no trailing zeros.
func shortFloat(t float64) string {
	s := strconv.FormatFloat(t, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Panel is one cell of a Montage: channel Ch of Image in grey with the
// outlines of its masks, captioned below.
type Panel struct {
	Image    Image
	Ch       int
	Outlines []Outline
	Caption  string
}

// Montage lays out rows of panels in a grid, each pixel-replicated by
// scale, with a legend of the named outlines of the first panel below: for
// a few slices of a segmented patient. It panics if a panel's channel is
// out of range or a mask does not hold its image's pixels.
func Montage(rows [][]Panel, scale int) image.Image {
	scale = normScale(scale)
	grid := make([][]tile, len(rows))
	var named []Outline
	for j, r := range rows {
		grid[j] = make([]tile, len(r))
		for i, p := range r {
			p.Image.check("Montage")
			img := grayTile(p.Image, p.Ch, scale)
			for k, m := range p.Outlines {
				p.Image.checkPlane("Montage", fmt.Sprintf("row %d panel %d mask %d", j, i, k), m.Mask)
				drawOutline(img, 0, 0, m, p.Image.H, p.Image.W, scale)
				if j == 0 && i == 0 && m.Name != "" {
					named = append(named, m)
				}
			}
			grid[j][i] = tile{img: img, bottom: p.Caption}
		}
	}
	out := drawGrid(grid)
	if len(named) == 0 {
		return out
	}
	return stack(gap, out, legend(named))
}
