package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"time"

	"github.com/connector-group/members-api/internal/selfsigned"
)

// tlsConfig is the server's TLS configuration for the options, or nil for
// plain http, and the path the CA was written to ("" for none). With
// --tls-cert and --tls-key it serves those files; with --tls it makes a CA
// and a certificate, writing the CA to --tls-ca-out.
func tlsConfig(o options, now time.Time) (*tls.Config, string, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case o.tlsCert != "":
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, "", fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
		return cfg, "", nil
	case !o.tls:
		return nil, "", nil
	}
	made, err := selfsigned.Make(o.hosts(), now)
	if err != nil {
		return nil, "", err
	}
	cfg.Certificates = []tls.Certificate{made.Server}
	if o.tlsCAOut == "" {
		return cfg, "", nil
	}
	if err := os.WriteFile(o.tlsCAOut, made.CAPEM, 0o644); err != nil {
		return nil, "", fmt.Errorf("--tls-ca-out: %w", err)
	}
	return cfg, o.tlsCAOut, nil
}
