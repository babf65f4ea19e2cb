package server

import "net/http"

// NewKinOnly is New with the fast path off: every request is checked by
// kin-openapi. The differential tests compare the two.
func NewKinOnly(cfg Config) (http.Handler, error) {
	cfg.disableFastPath = true
	return New(cfg)
}
