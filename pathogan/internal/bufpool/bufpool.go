// Package bufpool keeps float32 arrays for reuse by size class: Get(n) returns an array from
// the pool of the smallest power of two that holds n floats. The kernels' large scratch arrays
// (padded convolution inputs, packed matrices) run to megabytes and differ from one layer to
// the next; one pool for all sizes would keep dropping the smaller arrays it hands out and
// allocating fresh ones, whose pages fault in on first use.
package bufpool

import (
	"math/bits"
	"sync"
)

// pools[c] holds arrays of capacity 2^c floats.
var pools [40]sync.Pool

// Get returns an array of length n (contents undefined) and capacity a power of two.
func Get(n int) *[]float32 {
	c := bits.Len(uint(max(n, 1) - 1))
	if p, ok := pools[c].Get().(*[]float32); ok {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n, 1<<c)
	return &s
}

// Put returns an array from Get to its pool; it must not be used after.
func Put(p *[]float32) {
	pools[bits.Len(uint(cap(*p)-1))].Put(p)
}
