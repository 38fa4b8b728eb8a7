// Package augment implements the random data augmentation of the PathoGAN
// paper (paper section 2.5) for BraTS MRI slices: random left-right
// mirroring, a random rotation with angle sampled from U[-0.1, 0.1] rad, a
// random scaling s = 1.1^r with r sampled from U[-1, 1], and a random elastic
// deformation defined by displacement vectors on a control-point grid with
// spacing 128 px whose components are sampled from N(0, 5²) px.
//
// # Data layout
//
// Images are []float32 slices of shape [H][W][C] in row-major HWC order:
// the value of channel c at pixel (x, y) is at index (y*W+x)*C+c. BraTS
// slices have C = 4 (FLAIR, T1, T1CE, T2), intensities in [-1, 1] and
// background 0. Label maps are []uint8 of shape [H][W] (index y*W+x) holding
// the BraTS tumour labels {0, 1, 2, 4}. Pixel coordinates are x (column,
// 0..W-1, pointing right) and y (row, 0..H-1, pointing down); a pixel's
// value sits at its integer coordinate.
//
// # Contents
//
// [Config] holds the augmentation hyper-parameters ([DefaultConfig] gives the
// paper's values). [Sample] draws one random [Params] from a caller-seeded
// math/rand/v2 generator, and [Apply] applies one draw to an image and its
// label map together, so both undergo exactly the same geometric transform
// (bilinear interpolation for image channels, nearest neighbour for labels,
// which therefore never leave the input label set). [Augment] combines the
// two. In the style of MONAI there are also array-level functions for the
// single transforms: [Mirror], [Rotate], [Scale] and [Deform], plus
// [DisplacementField] for inspecting the dense elastic field.
//
// # Transform
//
// Every output pixel p = (x, y) is computed by inverse mapping: the input is
// sampled at q = M(E(A(p))) where, in this order,
//
//  1. A is the rotation by -Angle and scaling by 1/Scale about the slice
//     centre c = ((W-1)/2, (H-1)/2): A(p) = c + R(-Angle)(p - c)/Scale with
//     R(θ) = [[cos θ, -sin θ], [sin θ, cos θ]];
//  2. E adds the elastic displacement evaluated at the output pixel:
//     E(a) = a + d(x, y), with d the dense field interpolated from the
//     control-point grid (see [DisplacementField]);
//  3. M mirrors the x coordinate when Mirror is set: M(x', y') = (W-1-x', y').
//
// Seen forwards, the input is thus mirrored first, then elastically
// deformed, then rotated by +Angle and scaled by Scale about the centre:
// without the elastic part, content at input q appears at output
// c + Scale·R(Angle)(M(q) - c). Because y points down, a positive Angle
// looks clockwise on screen. Scale > 1 enlarges the content.
//
// Image samples falling (partly) outside the slice take Params.ImageFill for
// the outside neighbours; label samples outside take Params.LabelFill.
//
// # Exactness
//
// The identity draw ([Identity]) reproduces the input bit for bit, and
// mirroring twice is exactly the identity: integer sample positions are
// computed without rounding error and copied rather than interpolated.
//
// # Errors
//
// Functions return errors (wrapping [ErrShape] or [ErrInvalid]) for bad
// inputs such as slices of the wrong length; the package never prints.
// Only programmer mistakes in [Sample] and [SampleGrid] (a nil generator,
// an invalid Config, non-positive sizes) panic, with an "augment:" prefix.
package augment
