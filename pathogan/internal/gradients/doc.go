// Package gradients holds the gradients that GoMLX v0.26.0 lacks or gets wrong (see Install),
// written as graph code, so they apply to every backend. Nothing happens at import: Install
// registers them in graph.VJPRegistration, process-wide, after checking the GoMLX version.
package gradients
