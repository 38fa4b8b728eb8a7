// Assembly declarations (vec_amd64.s).

//go:build amd64 && !purego

package vec

//go:noescape
func addVV(dst, x, y *float32, n int)

//go:noescape
func addVS(dst, x *float32, s float32, n int)

//go:noescape
func addSV(dst, x *float32, s float32, n int)

//go:noescape
func subVV(dst, x, y *float32, n int)

//go:noescape
func subVS(dst, x *float32, s float32, n int)

//go:noescape
func subSV(dst, x *float32, s float32, n int)

//go:noescape
func mulVV(dst, x, y *float32, n int)

//go:noescape
func mulVS(dst, x *float32, s float32, n int)

//go:noescape
func mulSV(dst, x *float32, s float32, n int)

//go:noescape
func divVV(dst, x, y *float32, n int)

//go:noescape
func divVS(dst, x *float32, s float32, n int)

//go:noescape
func divSV(dst, x *float32, s float32, n int)

//go:noescape
func selectVV(dst *float32, cond *bool, t, f *float32, n int)

//go:noescape
func maxVV(dst, x, y *float32, n int)

//go:noescape
func maxVS(dst, x *float32, s float32, n int)

//go:noescape
func minVV(dst, x, y *float32, n int)

//go:noescape
func minVS(dst, x *float32, s float32, n int)
