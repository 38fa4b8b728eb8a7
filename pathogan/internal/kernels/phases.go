package kernels

import "sync/atomic"

// Phase split. A convolution with input dilation s (a transposed convolution, the input
// gradient of a strided one, and the kernel gradient of a transposed one) reads a zero for all
// but one in s of its kernel positions along each dilated axis, and the implicit patches
// multiply those zeros like any other term: three quarters of the work when s is 2 along both
// axes.
//
// Along an axis with input dilation s, stride 1, kernel dilation 1 and low padding P, output
// y = r + s·j (residue r) meets input elements only at kernel positions k = k0 + s·m, with
// k0 = (P − r) mod s, where it reads input element j + m + d, d = (r + k0 − P)/s. So the outputs
// of one residue class per axis (a phase) are an undilated stride-1 convolution of the input
// by the kernel positions k0 + s·m, padded by −d (or reading the input from element d on when d
// is positive). splitPhases makes one plan per phase, with the parent's kernel and output
// offsets picked out, so each phase runs through the same kernels as any convolution and writes
// its outputs in place; a phase whose outputs meet no kernel position is zero.
//
// Each output is the same sum as before without its zero terms, in the same order, but the
// products are split into other blocks (and may take other kernels), so the last bits can
// differ from the unsplit convolution's; results still do not depend on the number of cores.

// phaseSplit switches the phase split on (the default) or off (SetPhaseSplit).
var phaseSplit atomic.Bool

func init() { phaseSplit.Store(true) }

// SetPhaseSplit turns the phase split of input-dilated convolutions on or off and returns the
// previous setting. It is there for tests and benchmarks; plans already split stay split only
// while it is on.
func SetPhaseSplit(on bool) bool { return phaseSplit.Swap(on) }

// phase is one residue class of a split convolution.
type phase struct {
	plan  *convPlan // nil when its outputs meet no input element: they are zero
	shift int       // where the phase's input starts in the parent's input
	zero  []int     // when plan is nil: the offsets of the phase's outputs (channel 0)
	p     *convPlan // the parent
}

// splitOK says whether the plan's convolution is split into phases: 2D, input-dilated, stride
// 1 and no kernel dilation.
func (p *convPlan) splitOK() bool {
	if !phaseSplit.Load() || p.n != 2 {
		return false
	}
	dilated := false
	for i := range 2 {
		if p.stride[i] != 1 || p.kdil[i] != 1 || p.idil[i] < 1 {
			return false
		}
		dilated = dilated || p.idil[i] > 1
	}
	return dilated
}

// splitPhases returns the plan's phases, worked out on the first call.
func (p *convPlan) splitPhases() []phase {
	p.phasesOnce.Do(func() {
		for r0 := range p.idil[0] {
			for r1 := range p.idil[1] {
				if ph, ok := p.phaseOf([2]int{r0, r1}); ok {
					p.phases = append(p.phases, ph)
				}
			}
		}
	})
	return p.phases
}

// phaseOf returns the phase of the outputs with residues r; ok is false when there are none.
func (p *convPlan) phaseOf(r [2]int) (ph phase, ok bool) {
	q := &convPlan{
		n: 2, inB: p.inB, inC: p.inC, inStrideB: p.inStrideB, inStrideC: p.inStrideC,
		inDims: make([]int, 2), inStrides: p.inStrides, stride: []int{1, 1}, pad: make([]int, 2),
		kdil: []int{1, 1}, idil: []int{1, 1}, outDims: make([]int, 2), kDims: make([]int, 2),
		O: p.O, kStrideO: p.kStrideO, outStrideO: p.outStrideO,
	}
	var k0 [2]int
	empty := false
	for i := range 2 {
		s := p.idil[i]
		q.outDims[i] = (p.outDims[i] - r[i] + s - 1) / s
		if q.outDims[i] <= 0 {
			return phase{}, false
		}
		k0[i] = ((p.pad[i]-r[i])%s + s) % s
		q.kDims[i] = max(0, (p.kDims[i]-k0[i]+s-1)/s)
		d := (r[i] + k0[i] - p.pad[i]) / s
		q.inDims[i] = p.inDims[i]
		if d > 0 {
			ph.shift += d * p.inStrides[i]
			q.inDims[i] -= d
		} else {
			q.pad[i] = -d
		}
		empty = empty || q.kDims[i] == 0 || q.inDims[i] <= 0
	}
	q.taps = q.kDims[0] * q.kDims[1]
	q.outPos = q.outDims[0] * q.outDims[1]
	q.swapped = q.taps > q.outPos
	outB := len(p.outOff) / p.outPos
	// parentY maps the phase's output position j (flat) to the parent's.
	parentY := func(j int) int {
		j0, j1 := j/q.outDims[1], j%q.outDims[1]
		return (r[0]+p.idil[0]*j0)*p.outDims[1] + r[1] + p.idil[1]*j1
	}
	ph.p = p
	if empty {
		for j := range q.outPos {
			for b := range outB {
				ph.zero = append(ph.zero, p.outOff[p.outputRow(b, parentY(j))])
			}
		}
		return ph, true
	}
	q.buildTables()
	q.kOff = make([]int, q.taps*q.inC)
	for m := range q.taps {
		m0, m1 := m/q.kDims[1], m%q.kDims[1]
		k := (k0[0]+p.idil[0]*m0)*p.kDims[1] + k0[1] + p.idil[1]*m1
		for c := range q.inC {
			q.kOff[q.kernelRow(m, c)] = p.kOff[p.kernelRow(k, c)]
		}
	}
	q.outOff = make([]int, outB*q.outPos)
	for j := range q.outPos {
		y := parentY(j)
		for b := range outB {
			q.outOff[q.outputRow(b, j)] = p.outOff[p.outputRow(b, y)]
		}
	}
	q.findIdentities()
	ph.plan = q
	return ph, true
}

// run computes the phase's outputs of the parent's convolution of in by ker into out.
func (ph phase) run(in, ker, out []float32) {
	if ph.plan == nil {
		for _, off := range ph.zero {
			for o := range ph.p.O {
				out[off+o*ph.p.outStrideO] = 0
			}
		}
		return
	}
	ph.plan.run(in[ph.shift:], ker, out)
}
