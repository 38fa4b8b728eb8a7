package bufpool

import "testing"

// TestGetPut checks lengths and size classes, and that an array put back is handed out again
// for another length of its class but not for a larger one.
func TestGetPut(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000, 1024, 1025} {
		p := Get(n)
		if len(*p) != n || cap(*p) < max(n, 1) || cap(*p)&(cap(*p)-1) != 0 {
			t.Errorf("Get(%d): len %d cap %d, want len %d and a power-of-two cap", n, len(*p), cap(*p), n)
		}
		Put(p)
	}
	p := Get(3000) // class 4096
	(*p)[0] = 7
	Put(p)
	q := Get(2500)
	if cap(*q) != 4096 {
		t.Errorf("Get(2500) cap %d, want 4096", cap(*q))
	}
	r := Get(5000)
	if cap(*r) != 8192 {
		t.Errorf("Get(5000) cap %d, want 8192 (not the 4096 array)", cap(*r))
	}
}
