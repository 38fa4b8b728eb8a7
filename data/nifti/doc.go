// Package nifti reads and writes NIfTI-1 and NIfTI-2 images (.nii and
// .nii.gz), the file format of BraTS and most neuroimaging tools.
//
// What it supports:
//
//   - single-file images (magic "n+1" and "n+2"), little- or big-endian,
//     gzip-compressed or not (detected from the content, not the name);
//   - datatypes uint8, int8, int16, uint16, int32, uint32, float32, float64;
//   - 1-D to 7-D images (3-D volumes and 4-D series in practice);
//   - the scaling y = scl_slope*x + scl_inter, applied by the value accessors
//     (a slope of 0 or a non-finite slope means "no scaling", as the standard
//     says);
//   - the header fields: dims, pixdim, qform and sform, units, description.
//
// Voxels are kept in stored order (x fastest, then y, z, t), with no
// reorientation and no resampling. Two-file images (.hdr/.img, magics "ni1"
// and "ni2"), header extensions' contents, and complex or RGB datatypes are not
// supported: reading one is an error that says so.
//
// Reading is bounded by the header: ReadFile and Read parse and check the
// header first, refuse one that describes more than MaxDataBytes (2 GiB) of
// voxel data or a vox_offset past MaxVoxOffset, and then read exactly the
// bytes it describes (a gzip stream is drained at most 1 MiB further, to check
// its CRC). A file far longer than its header says is not read whole, and a
// short file with a large header is not allocated for.
//
// Every problem with a file (truncated, bad magic, dims that do not match the
// data, a gzip error, an unsupported datatype) is returned as an error that
// names the file and the problem; the reader never panics on bad input, and
// fuzz targets (FuzzParseHeader, FuzzRead) keep it that way.
//
// Writing is atomic: the file is written to a temporary name in the same
// folder and renamed into place, so a reader never sees half a file.
package nifti
