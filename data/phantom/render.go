package phantom

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"slices"
)

// RenderPNG writes axial slice z of p as one PNG: FLAIR, T1, T1CE and T2 side
// by side in grey (each scaled to its slice's 99.5th percentile), then FLAIR
// with the labels overlaid (1 red, 2 green, 4 yellow). Anterior is up.
func RenderPNG(p *Patient, z int, w io.Writer) error {
	nx, ny, nz := p.Shape[0], p.Shape[1], p.Shape[2]
	if z < 0 || z >= nz {
		return fmt.Errorf("phantom: RenderPNG: slice %d outside 0..%d", z, nz-1)
	}
	n := nx * ny * nz
	mods := [][]float32{p.FLAIR, p.T1, p.T1CE, p.T2}
	for _, m := range mods {
		if len(m) != n {
			return fmt.Errorf("phantom: RenderPNG: patient %s has %d voxels in an image, shape %v needs %d", p.ID, len(m), p.Shape, n)
		}
	}
	if len(p.Seg) != n {
		return fmt.Errorf("phantom: RenderPNG: patient %s has %d labels, shape %v needs %d", p.ID, len(p.Seg), p.Shape, n)
	}
	off := z * nx * ny
	img := image.NewRGBA(image.Rect(0, 0, 5*nx, ny))
	grey := make([][]uint8, 4)
	for c, m := range mods {
		sl := m[off : off+nx*ny]
		var nz []float32
		for _, v := range sl {
			if v > 0 {
				nz = append(nz, v)
			}
		}
		hi := float32(1)
		if len(nz) > 0 {
			slices.Sort(nz)
			hi = nz[len(nz)*995/1000]
		}
		g := make([]uint8, nx*ny)
		for i, v := range sl {
			g[i] = uint8(min(255, 255*v/hi))
		}
		grey[c] = g
	}
	colours := map[uint8]color.RGBA{1: {255, 40, 40, 255}, 2: {40, 220, 40, 255}, 4: {255, 230, 0, 255}}
	for y := 0; y < ny; y++ {
		row := ny - 1 - y // anterior (high y) up
		for x := 0; x < nx; x++ {
			i := y*nx + x
			for c := range 4 {
				v := grey[c][i]
				img.SetRGBA(c*nx+x, row, color.RGBA{v, v, v, 255})
			}
			v := float64(grey[0][i])
			px := color.RGBA{uint8(v), uint8(v), uint8(v), 255}
			if col, ok := colours[p.Seg[off+i]]; ok {
				const a = 0.55
				px = color.RGBA{uint8((1-a)*v + a*float64(col.R)), uint8((1-a)*v + a*float64(col.G)), uint8((1-a)*v + a*float64(col.B)), 255}
			}
			img.SetRGBA(4*nx+x, row, px)
		}
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("phantom: RenderPNG: %w", err)
	}
	return nil
}
