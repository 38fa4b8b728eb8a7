package gemm

import (
	"sync"

	"github.com/pathogan-go/pathogan/pathogan/internal/bufpool"
)

// The packed product: the Goto/BLIS loop nest around register-tiled micro-kernels written in
// assembly (gen_kernels.go). B is packed, kc rows by nc columns at a time, into panels of the
// micro-kernel's width NR, zero-padded, so that a panel (kc·NR floats) stays in L1 while the
// kernel streams over every MR-row block of A. A is read in place through its two strides: the
// network's products have few columns (8-72) and many rows, where packing A would cost as much
// as the product. Rows of A beyond the last full block, and columns beyond the last full panel,
// go through small zero-padded scratch copies, so the kernels only ever see whole tiles.

// microKernel computes C[r][0:NR] += Σ_p A(r,p)·B[p][0:NR] for MR rows r and k steps p, with A(r,p)
// at a + r·sAi + p·sAk (bytes), B packed as k rows of NR floats and C row r at c + r·ldc (bytes).
type microKernel func(k int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

// segKernel is a microKernel that reads A in segments (see gen_kernels.go): segs holds nseg
// (byte offset from a, length) pairs, and the segments' steps run in order.
type segKernel func(nseg int, segs *int, a *float32, sAi, sAk int, b *float32, c *float32, ldc int)

// groupKernel is a segKernel for MR = 12 rows in three groups of four, each from its own start
// (a0, a1, a2), rows sAi apart inside a group (see gen_kernels.go, writeGroups).
type groupKernel func(nseg int, segs *int, a0, a1, a2 *float32, sAi, sAk int, b *float32, c *float32, ldc int)

// tile is a micro-kernel with its width NR, plain and segmented, and segmented in three groups
// of rows (nil where the set has none).
type tile struct {
	nr   int
	fn   microKernel
	seg  segKernel
	seg3 groupKernel
}

// kernelSet is one instruction set's pair of micro-kernels, both MR rows tall: wide for the
// full panels, narrow for a remainder of at most narrow.nr columns.
type kernelSet struct {
	name   string
	ok     bool
	mr     int
	wide   tile
	narrow tile
}

// Blocking: kc rows of B per pass (a kc×32 panel is 32 KiB, one L1), nc columns (a kc×nc block,
// 256 KiB, stays in L2).
const (
	kc = 256
	nc = 256
)

// bestKernels returns the widest kernel set this CPU runs, or nil.
func bestKernels() *kernelSet {
	for i := range kernelSets {
		if kernelSets[i].ok {
			return &kernelSets[i]
		}
	}
	return nil
}

// kernelSetNamed returns the named kernel set if this CPU runs it.
func kernelSetNamed(name string) *kernelSet {
	for i := range kernelSets {
		if kernelSets[i].name == name && kernelSets[i].ok {
			return &kernelSets[i]
		}
	}
	return nil
}

// scratch holds one call's packed B and its edge copies; pooled, so steady-state calls do not
// allocate.
type scratch struct {
	b    []float32 // packed B: kc × (nc rounded up to the wide width)
	a    []float32 // the last rows of A, padded to MR rows
	tile []float32 // an edge tile of C
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// panel is one column panel of a kc×nc block: its first column (within the block), its width
// and its kernel.
type panel struct {
	j, w int
	t    tile
}

// panels splits nb columns into wide panels and, for a remainder that fits, one narrow one.
func (ks *kernelSet) panels(nb int, out []panel) []panel {
	out = out[:0]
	j := 0
	for ; nb-j > ks.narrow.nr; j += ks.wide.nr {
		out = append(out, panel{j, min(ks.wide.nr, nb-j), ks.wide})
	}
	if j < nb {
		out = append(out, panel{j, nb - j, ks.narrow})
	}
	return out
}

// packedSgemm is Sgemm through the kernel set ks.
func packedSgemm(ks *kernelSet, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scale(m, n, beta, c, ldc)
	const f = 4 // bytes per float32
	sAi, sAk := lda*f, f
	if transA {
		sAi, sAk = f, lda*f
	}
	at := func(i, p int) int {
		if transA {
			return p*lda + i
		}
		return i*lda + p
	}
	packedProduct(ks, nil, transB, m, n, k, b, ldb, c, ldc,
		func(t tile, i, pc, kb int, bp, cp *float32, ldcBytes int) {
			t.fn(kb, &a[at(i, pc)], sAi, sAk, bp, cp, ldcBytes)
		},
		func(dst []float32, i, pc, kb int) {
			for p := range kb {
				dst[p] = a[at(i, pc+p)]
			}
		})
}

// packedProduct is the loop nest of the packed product, C += A·op(B) (C already scaled), with
// A reached through two functions: run applies tile t to A's rows i..i+MR-1 and steps pc..pc+kb
// (C at cp, rows ldcBytes apart), and row copies steps pc..pc+kb of row i into dst. B is packed
// block by block, or taken from pre (B packed beforehand by PackB) when that is not nil.
func packedProduct(ks *kernelSet, pre *PackedB, transB bool, m, n, k int, b []float32, ldb int, c []float32, ldc int,
	run func(t tile, i, pc, kb int, bp, cp *float32, ldcBytes int), row func(dst []float32, i, pc, kb int)) {
	const f = 4 // bytes per float32
	mr := ks.mr
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	s.tile = grow(s.tile, mr*ks.wide.nr)
	var pbuf [nc/8 + 2]panel
	var obuf [nc/8 + 2]int
	blk := 0 // (jc, pc) blocks so far
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		ps := ks.panels(nb, pbuf[:0])
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			// B[pc:pc+kb, jc:jc+nb], packed panel after panel (or beforehand, in pre).
			var packed []float32
			off := obuf[:0]
			if pre != nil {
				packed = pre.data[pre.start[blk]:]
				for o, q := 0, 0; q < len(ps); q++ {
					off = append(off, o)
					o += kb * ps[q].t.nr
				}
			} else {
				s.b = grow(s.b, kb*(nb+ks.wide.nr))
				packed = s.b
				off = packPanels(transB, b, ldb, pc, jc, kb, ps, packed, off)
			}
			blk++
			m0 := m - m%mr
			for i := 0; i < m0; i += mr {
				for q, p := range ps {
					bp := &packed[off[q]]
					if p.w == p.t.nr {
						run(p.t, i, pc, kb, bp, &c[i*ldc+jc+p.j], ldc*f)
						continue
					}
					t := s.tile[:mr*p.t.nr]
					clear(t)
					run(p.t, i, pc, kb, bp, &t[0], p.t.nr*f)
					addTile(t, p, c[i*ldc+jc+p.j:], ldc, mr)
				}
			}
			if rows := m - m0; rows > 0 {
				// Copy the last rows of A into a zero-padded MR×kb block.
				s.a = grow(s.a, mr*kb)
				clear(s.a)
				for r := range rows {
					row(s.a[r*kb:(r+1)*kb], m0+r, pc, kb)
				}
				for q, p := range ps {
					t := s.tile[:mr*p.t.nr]
					clear(t)
					p.t.fn(kb, &s.a[0], kb*f, f, &packed[off[q]], &t[0], p.t.nr*f)
					addTile(t, p, c[m0*ldc+jc+p.j:], ldc, rows)
				}
			}
		}
	}
}

// addTile adds the first rows×p.w values of the scratch tile t into c.
func addTile(t []float32, p panel, c []float32, ldc, rows int) {
	for r := range rows {
		dst := c[r*ldc : r*ldc+p.w]
		src := t[r*p.t.nr : r*p.t.nr+p.w]
		for j := range dst {
			dst[j] += src[j]
		}
	}
}

// PackedB is a k×n matrix B packed once for several products through the packed kernels
// (SgemmSegmented), in the layout and block order packedProduct packs it in.
type PackedB struct {
	ks    *kernelSet
	k, n  int
	buf   *[]float32 // from bufpool; data is *buf
	data  []float32
	start []int // where each (jc, pc) block begins in data
}

// PackB packs B (k×n, row-major with leading dimension ldb) for SgemmSegmented's products with
// these k and n, or returns nil when they do not go through the packed kernels. Results are
// the same with it as without; what it saves is packing B again for every call. Release
// returns its memory.
func PackB(k, n int, b []float32, ldb int) *PackedB {
	if !RowsPacked(n) {
		return nil
	}
	ks := asm
	pb := &PackedB{ks: ks, k: k, n: n}
	var pbuf [nc/8 + 2]panel
	size := 0
	for jc := 0; jc < n; jc += nc {
		size += k * panelWidth(ks.panels(min(nc, n-jc), pbuf[:0]))
	}
	pb.buf = bufpool.Get(size)
	pb.data = *pb.buf
	o := 0
	for jc := 0; jc < n; jc += nc {
		ps := ks.panels(min(nc, n-jc), pbuf[:0])
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			pb.start = append(pb.start, o)
			packPanels(false, b, ldb, pc, jc, kb, ps, pb.data[o:], nil)
			o += kb * panelWidth(ps)
		}
	}
	return pb
}

// panelWidth is the packed width of the panels ps: the sum of their kernels' widths.
func panelWidth(ps []panel) int {
	w := 0
	for _, p := range ps {
		w += p.t.nr
	}
	return w
}

// packPanels packs op(B)[pc:pc+kb, jc:…] into dst, panel after panel, each kb rows of its
// kernel's width, and returns off with each panel's offset in dst appended.
func packPanels(transB bool, b []float32, ldb, pc, jc, kb int, ps []panel, dst []float32, off []int) []int {
	o := 0
	for _, p := range ps {
		off = append(off, o)
		packB(transB, b, ldb, pc, jc+p.j, kb, p.w, p.t.nr, dst[o:o+kb*p.t.nr])
		o += kb * p.t.nr
	}
	return off
}

// Release returns the packed B's memory to its pool; pb must not be used after.
func (pb *PackedB) Release() {
	if pb != nil {
		bufpool.Put(pb.buf)
	}
}

// RowsPacked says whether SgemmSegmented runs products with n columns through the packed
// kernels (and so whether PackB packs for it).
func RowsPacked(n int) bool {
	load()
	return !pureGo && asm != nil && n > smallN
}

// packB copies op(B)[p0:p0+kb, j0:j0+w] into dst as kb rows of nr floats, zero beyond w.
func packB(transB bool, b []float32, ldb, p0, j0, kb, w, nr int, dst []float32) {
	for p := range kb {
		row := dst[p*nr : p*nr+nr]
		if transB {
			for j := range w {
				row[j] = b[(j0+j)*ldb+p0+p]
			}
		} else {
			copy(row, b[(p0+p)*ldb+j0:(p0+p)*ldb+j0+w])
		}
		clear(row[w:])
	}
}
