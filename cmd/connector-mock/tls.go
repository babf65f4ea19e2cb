package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"slices"
	"time"
)

// The https of --tls: a certificate authority and a server certificate made
// at start-up, for the names a developer's clients use to reach the mock —
// localhost, the loopback addresses and every --allowed-hosts name (a
// Compose service's, say) — so that clients which insist on https (the
// Graph SDKs' token providers, the JavaScript client) can trust the mock by
// trusting one CA file, without a certificate to manage. The standard
// library's crypto/tls and crypto/x509 only.

// certLifetime is how long the certificates made at start-up are valid: a
// mock does not run for months, and a stolen CA file is worth little.
const certLifetime = 30 * 24 * time.Hour

// madeCertificates is the CA (as PEM, for --tls-ca-out) and the server
// certificate signed by it.
type madeCertificates struct {
	caPEM  []byte
	server tls.Certificate
}

// makeCertificates makes an ECDSA P-256 CA and a server certificate for
// localhost, 127.0.0.1, ::1 and names (host names or IP addresses; "*" is
// left out: a certificate cannot name every host).
func makeCertificates(names []string, now time.Time) (*madeCertificates, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("making the CA's key: %w", err)
	}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(certLifetime) // an hour of leeway for a clock behind
	ca := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"connector-mock"}, CommonName: "connector-mock CA " + now.UTC().Format(time.RFC3339)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("making the CA: %w", err)
	}
	ca, err = x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("making the server's key: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"connector-mock"}, CommonName: "localhost"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, name := range names {
		if ip := net.ParseIP(name); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				leaf.IPAddresses = append(leaf.IPAddresses, ip)
			}
		} else if name != "*" && !slices.Contains(leaf.DNSNames, name) {
			leaf.DNSNames = append(leaf.DNSNames, name)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("making the server certificate: %w", err)
	}
	return &madeCertificates{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key},
	}, nil
}

// serial is a random certificate serial number (RFC 5280: up to 20 bytes).
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand does not fail (Go 1.24+)
	}
	return n
}

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
	made, err := makeCertificates(o.hosts(), now)
	if err != nil {
		return nil, "", err
	}
	cfg.Certificates = []tls.Certificate{made.server}
	if o.tlsCAOut == "" {
		return cfg, "", nil
	}
	if err := os.WriteFile(o.tlsCAOut, made.caPEM, 0o644); err != nil {
		return nil, "", fmt.Errorf("--tls-ca-out: %w", err)
	}
	return cfg, o.tlsCAOut, nil
}
