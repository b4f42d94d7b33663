package tokenapi

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"

	"github.com/paycreds/tms/internal/p12"
)

// Errors of ParseP12 and LoadP12File, matched with errors.Is. Each names the input that
// was wrong.
var (
	// ErrP12Format means the data is not a P12 file (PEM text, truncated or another
	// file), or uses an algorithm go-pkcs12 does not read.
	ErrP12Format = p12.ErrFormat
	// ErrP12Password means the password does not open the file.
	ErrP12Password = p12.ErrPassword
	// ErrP12Alias means no certificate in the file has the alias (the merchant id) as its
	// common name.
	ErrP12Alias = p12.ErrAlias
	// ErrP12Key means the file has no private key, several, a key that is not RSA, or a
	// key that does not belong to the alias's certificate.
	ErrP12Key = p12.ErrKey
	// ErrNoSerialNumber means a certificate subject lacks the serialNumber attribute that
	// CyberSource uses as the kid.
	ErrNoSerialNumber = p12.ErrNoSerialNumber
)

// P12 is the content of a P12 file issued by CyberSource for JWT authentication. It
// prints without key material through fmt and slog.
type P12 struct {
	// Alias is the common name of Certificate: the merchant id, or the portfolio id for
	// a meta key.
	Alias string
	// KeyID is the kid of RS256 JWTs: the serialNumber attribute of Certificate's subject,
	// not its X.509 serial number.
	KeyID string
	// Certificate is the merchant's certificate.
	Certificate *x509.Certificate
	// CyberSourceCertificate is CyberSource's request-encryption certificate (alias
	// CyberSource_SJC_US), or nil when the file does not hold it. Pass it to
	// WithRequestEncryption.
	CyberSourceCertificate *x509.Certificate

	key *rsa.PrivateKey
}

// ParseP12 decodes a P12 file from memory, for keys kept in a secret store. alias is the
// merchant id (the portfolio id for a meta key) and selects the certificate whose common
// name it is. An empty password means the alias, which is how CyberSource sets it.
//
// Both the OpenSSL 3 default format (PBES2, AES-256-CBC) and the legacy RC2/3DES format
// are read. Errors wrap ErrP12Format, ErrP12Password, ErrP12Alias, ErrP12Key or
// ErrNoSerialNumber.
func ParseP12(data []byte, alias, password string) (*P12, error) {
	p, err := parseP12(data, alias, password)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: P12: %w", err)
	}
	return p, nil
}

// LoadP12File reads a P12 file and decodes it as ParseP12 does.
func LoadP12File(path, alias, password string) (*P12, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: reading the P12 file: %w", err)
	}
	p, err := parseP12(data, alias, password)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: P12 file %s: %w", path, err)
	}
	return p, nil
}

func parseP12(data []byte, alias, password string) (*P12, error) {
	if password == "" {
		password = alias
	}
	contents, err := p12.Parse(data, alias, password)
	if err != nil {
		return nil, err
	}
	return &P12{
		Alias:                  alias,
		KeyID:                  contents.KeyID,
		Certificate:            contents.Certificate,
		CyberSourceCertificate: contents.CyberSourceCertificate,
		key:                    contents.Key,
	}, nil
}

// PrivateKey returns the merchant's RSA private key.
func (p *P12) PrivateKey() *rsa.PrivateKey { return p.key }

// String describes the file by alias, kid and expiry, without key material.
func (p *P12) String() string {
	if p == nil {
		return "P12(nil)"
	}
	s := fmt.Sprintf("P12{alias: %s, kid: %s", p.Alias, p.KeyID)
	if p.Certificate != nil {
		s += ", expires: " + p.Certificate.NotAfter.UTC().Format("2006-01-02")
	}
	if p.CyberSourceCertificate != nil {
		s += ", with " + p12.CyberSourceAlias
	}
	return s + ", key: [REDACTED]}"
}

// Format prints String for every verb, so %v, %+v and %#v never show the key.
func (p *P12) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.String())) }

// LogValue logs String, so slog never shows the key.
func (p *P12) LogValue() slog.Value { return slog.StringValue(p.String()) }

// ParseCertificate decodes an X.509 certificate from PEM ("CERTIFICATE" block) or DER,
// such as CyberSource's request-encryption certificate saved as a .crt or .pem file.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("tokenapi: the PEM block is %q, expected CERTIFICATE", block.Type)
		}
		der = block.Bytes
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: not a PEM or DER certificate: %w", err)
	}
	return cert, nil
}

// LoadCertificateFile reads a certificate file with ParseCertificate.
func LoadCertificateFile(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: reading the certificate: %w", err)
	}
	cert, err := ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return cert, nil
}
