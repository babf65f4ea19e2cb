// Package httplimits holds the connection limits connector-mock starts its
// http.Server with unless told otherwise, in one place so that the bench
// baseline serves with the same ones.
package httplimits

import "time"

// The defaults of connector-mock's --read-header-timeout, --read-timeout,
// --write-timeout, --idle-timeout and of its header size limit.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
)
