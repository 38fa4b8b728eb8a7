// Package viz draws the toolkit's pictures from plain Go slices: MR channel
// grids, labelmap heat maps and contours, the paper's Figure 2 layout, latent
// sample grids, interpolation strips, training curves and metric plots.
//
// Images follow the toolkit's conventions: one slice is an [Image] of H×W pixels
// with C channels, row-major and channel last (NHWC without the batch axis), the
// channels in the order FLAIR, T1, T1CE, T2, intensities normalised to [-1, 1].
// Labelmaps hold a tumour probability in [0, 1] per pixel; masks are binary
// (foreground where the value exceeds a threshold, 0 by default).
//
// Raster figures (Channels, Heatmap, Contours, Figure2, SampleGrid,
// InterpolationStrip) are drawn pixel by pixel with the 7×13 bitmap font of
// golang.org/x/image/font/basicfont; they are deterministic, so tests compare
// them with golden PNGs pixel-exactly. Plots (HeatmapPlot, TrainingCurves,
// MetricBoxes, MetricHistogram) use gonum.org/v1/plot and come back as PNG
// bytes of the asked size.
//
// The package prints nothing. Data problems (an empty CSV, a group without
// values) are returned as errors; programmer mistakes (a mask whose length does
// not match its image, a channel index out of range) panic with a "viz:"
// prefix. Display in a GoNB notebook lives in the subpackage gonbviz, so that
// viz itself needs no Jupyter.
package viz
