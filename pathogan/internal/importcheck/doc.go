// Package importcheck holds only a test: that importing the model packages patches nothing in
// GoMLX, and that creating the pathogan Go backend does. It is its own package so that its test
// binary imports nothing else that could create a backend first.
package importcheck
