// Package p12 reads the P12 (PKCS#12) files that CyberSource issues for JWT
// authentication: the merchant's RSA key and certificate, and usually CyberSource's own
// certificate under the alias CyberSource_SJC_US, which encrypts requests.
//
// Both the OpenSSL 3 default format (PBES2 with AES-256-CBC, SHA-256 MAC) and the legacy
// one (RC2-40 and 3DES, SHA-1 MAC) are read, through software.sslmate.com/src/go-pkcs12.
// Parse works on bytes, so keys kept in a secret store need no file.
package p12

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// CyberSourceAlias is the common name of CyberSource's request-encryption certificate in
// the P12 files it issues.
const CyberSourceAlias = "CyberSource_SJC_US"

// Reasons Parse fails, matched with errors.Is. Each error names what was wrong so that
// the caller can tell a wrong password from a wrong file.
var (
	// ErrFormat means the data is not a P12 file, or uses an encryption or MAC
	// algorithm that is not supported.
	ErrFormat = errors.New("not a readable P12 file")
	// ErrPassword means the password does not open the file.
	ErrPassword = errors.New("wrong P12 password")
	// ErrAlias means no certificate in the file has the alias as its common name.
	ErrAlias = errors.New("no certificate for the alias in the P12 file")
	// ErrKey means the file contains no private key, several keys, a key that is not RSA,
	// or a key that does not match the alias's certificate.
	ErrKey = errors.New("unusable private key in the P12 file")
	// ErrNoSerialNumber means a certificate subject lacks the serialNumber attribute
	// (OID 2.5.4.5), which CyberSource uses as the kid.
	ErrNoSerialNumber = errors.New("certificate subject has no serialNumber attribute")
)

// Contents is the merchant key and the certificates of a CyberSource P12 file.
type Contents struct {
	// Key is the merchant's RSA private key, which signs RS256 JWTs.
	Key *rsa.PrivateKey
	// Certificate is the certificate of Key, whose subject common name is the alias.
	Certificate *x509.Certificate
	// KeyID is the serialNumber attribute of Certificate's subject: the kid of the JWT.
	KeyID string
	// CyberSourceCertificate is the certificate with common name CyberSource_SJC_US, or
	// nil when the file has none.
	CyberSourceCertificate *x509.Certificate
	// Certificates lists every certificate in the file, in file order.
	Certificates []*x509.Certificate
}

// Parse decodes a DER P12 file and selects the certificate whose subject common name
// equals alias. CyberSource issues files with the merchant id, or the portfolio id for a
// meta key, as that name. Parse then checks that the private key matches the certificate
// and reads its kid.
func Parse(data []byte, alias, password string) (*Contents, error) {
	if alias == "" {
		return nil, fmt.Errorf("%w: the alias is empty; pass the merchant id", ErrAlias)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: the data is empty", ErrFormat)
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		return nil, fmt.Errorf("%w: the data is PEM text; a P12 file is binary DER (convert a PEM key and certificate with openssl pkcs12 -export)", ErrFormat)
	}

	privateKey, first, rest, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, classify(err)
	}
	all := append([]*x509.Certificate{first}, rest...)

	contents := &Contents{Certificates: all}
	for _, cert := range all {
		switch cert.Subject.CommonName {
		case alias:
			if contents.Certificate == nil {
				contents.Certificate = cert
			}
		case CyberSourceAlias:
			if contents.CyberSourceCertificate == nil {
				contents.CyberSourceCertificate = cert
			}
		}
	}
	if contents.Certificate == nil {
		return nil, fmt.Errorf("%w: no certificate has common name %q; the file contains %s. Pass the merchant id the file was issued for",
			ErrAlias, alias, describeSubjects(all))
	}

	rsaKey, ok := privateKey.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: the key is a %T; CyberSource P12 keys are RSA", ErrKey, privateKey)
	}
	if !rsaKey.PublicKey.Equal(contents.Certificate.PublicKey) {
		return nil, fmt.Errorf("%w: the private key does not belong to the certificate %q", ErrKey, contents.Certificate.Subject.String())
	}
	contents.Key = rsaKey

	kid, err := SerialNumber(contents.Certificate)
	if err != nil {
		return nil, err
	}
	contents.KeyID = kid
	return contents, nil
}

// SerialNumber returns the serialNumber attribute (OID 2.5.4.5) of cert's subject, which
// CyberSource uses as the kid of the key. It is not the certificate's X.509 serial number.
func SerialNumber(cert *x509.Certificate) (string, error) {
	if cert == nil {
		return "", fmt.Errorf("%w: the certificate is nil", ErrNoSerialNumber)
	}
	serial := strings.TrimSpace(cert.Subject.SerialNumber)
	if serial == "" {
		return "", fmt.Errorf("%w: subject %q; CyberSource certificates carry it as in serialNumber=<number>,CN=<merchant id>", ErrNoSerialNumber, cert.Subject.String())
	}
	return serial, nil
}

// ExpiresWithin reports whether cert is no longer valid at now+window.
func ExpiresWithin(cert *x509.Certificate, now time.Time, window time.Duration) bool {
	return now.Add(window).After(cert.NotAfter)
}

// classify maps an error of go-pkcs12 v0.7.4 to the reasons of this package. That
// package returns ErrIncorrectPassword when the MAC does not verify and ErrDecryption
// when a file without a MAC decrypts to bad padding, which also means a wrong password.
func classify(err error) error {
	var notImplemented pkcs12.NotImplementedError
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return fmt.Errorf("%w: the password does not open the file (CyberSource sets it to the merchant id unless you chose another)", ErrPassword)
	case errors.As(err, &notImplemented):
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	message := err.Error()
	switch {
	case strings.Contains(message, "private key missing"):
		return fmt.Errorf("%w: the file contains no private key; use the P12 file generated with the key, not a certificate export", ErrKey)
	case strings.Contains(message, "exactly one key bag"):
		return fmt.Errorf("%w: the file contains more than one private key", ErrKey)
	case strings.Contains(message, "certificate missing"):
		return fmt.Errorf("%w: the file contains no certificate", ErrAlias)
	case strings.Contains(message, "UCS-2"):
		return fmt.Errorf("%w: the password contains characters outside the Basic Multilingual Plane, which P12 passwords cannot hold", ErrPassword)
	}
	return fmt.Errorf("%w: %w", ErrFormat, err)
}

func describeSubjects(certs []*x509.Certificate) string {
	names := make([]string, len(certs))
	for i, cert := range certs {
		names[i] = fmt.Sprintf("%q", cert.Subject.String())
	}
	return strings.Join(names, ", ")
}
