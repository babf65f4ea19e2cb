// Package selfsigned makes the certificates of connector-mock's --tls (and of
// mocktest's TLS mocks): a certificate authority and a server certificate
// made at start-up, for the names a developer's clients use to reach the
// mock — localhost, the loopback addresses and the names the mock is told it
// answers to (a Compose service's, say) — so that clients which insist on
// https (the Graph SDKs' token providers, the JavaScript client) can trust
// the mock by trusting one CA file, with no certificate to manage. The
// standard library's crypto/tls and crypto/x509 only.
package selfsigned

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
	"slices"
	"time"
)

// certLifetime is how long the certificates made at start-up are valid: a
// mock does not run for months, and a stolen CA file is worth little.
const certLifetime = 30 * 24 * time.Hour

// Certificates are a CA, as PEM for clients to trust, and a server
// certificate it signed.
type Certificates struct {
	CAPEM  []byte
	Server tls.Certificate
}

// Make makes an ECDSA P-256 CA and a server certificate for
// localhost, 127.0.0.1, ::1 and names (host names or IP addresses; "*" is
// left out: a certificate cannot name every host).
func Make(names []string, now time.Time) (*Certificates, error) {
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
	return &Certificates{
		CAPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Server: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key},
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
