package server

import "time"

// The connection limits the mock's command starts its http.Server with
// unless told otherwise, in one place so that `make bench`'s baseline serves
// with the same ones.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
)
