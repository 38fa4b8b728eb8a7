// Package data turns a BraTS copy into the slice set PathoGAN trains on, as
// section 2.5 of the paper describes, and reads that set back for training.
//
// The steps, each its own function:
//
//   - Discover finds patient folders in the BraTS 2017 layout
//     (HGG/<id>/<id>_flair.nii.gz, _t1, _t1ce, _t2, _seg) or the flat layout of
//     later releases (<id>/<id>_<mod>.nii.gz);
//   - NormalizeNonZero brings each scan's non-zero voxels to mean 0 and
//     standard deviation 1/3 and clips to [-1, 1];
//   - the axial slices SliceMin..SliceMax (paper: 60..100) are labelled healthy
//     (no tumour pixel) or pathological (more than 20), the rest discarded;
//   - SplitPatients splits by patient (never by slice) with a seed, stratified
//     by grade, written as split.csv so that it can be given back;
//   - Prepare runs it all on two workers and writes the cache.
//
// The cache is a folder readable from numpy:
//
//	images.npy    float32 [N, H, W, 4]  channels FLAIR, T1, T1CE, T2, in [-1, 1]
//	labels.npy    uint8   [N, H, W]     BraTS labels 0, 1, 2, 4 (whole tumour: > 0)
//	slices.csv    index,patient,grade,split,slice,class,tumour_pixels
//	split.csv     patient,split
//	prepare.json  the options and the summary (kept, skipped and why, counts)
//
// Rows of a slice are the volume's y axis and columns its x axis, as stored in
// the NIfTI file (no flipping). The tumour labels are kept for evaluation
// only: training uses the class.
//
// Open reads a prepared set back, after checking that each .npy file is
// exactly as long as its header's shape says (a truncated or extended file is
// an error naming it); slices are read from disk on demand, so the
// full BraTS 2017 set (about 11,000 slices of 4x240x240, 10 GB as float32)
// trains in bounded memory. A Sampler draws augmented batches (package
// data/augment) from one split and class. Package data/phantom writes
// synthetic patients in the BraTS layout for when no BraTS copy is at hand.
//
// The package prints nothing; problems with a patient's files are reported in
// Summary.Skipped with the file and the reason, other errors are returned.
package data
