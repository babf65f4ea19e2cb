// Package readmetest holds the test that the README runs as written: its
// Go blocks are code that compiles and runs in the repository, and its shell
// blocks run, in the README's order, against a started mock in a fresh
// clone. It has no code of its own.
package readmetest
