package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/paycreds/tms/internal/p12"
)

// RequestEncryptionKey is CyberSource's request-encryption key pair as the sandbox holds
// it: clients encrypt request bodies to Certificate, whose subject serialNumber is the
// kid, and the sandbox opens them with PrivateKey.
type RequestEncryptionKey struct {
	Certificate *x509.Certificate
	PrivateKey  *rsa.PrivateKey
}

// String describes the key by its certificate subject, without key material.
func (k *RequestEncryptionKey) String() string {
	if k == nil || k.Certificate == nil {
		return "RequestEncryptionKey(nil)"
	}
	return "RequestEncryptionKey{" + k.Certificate.Subject.String() + ", key: [REDACTED]}"
}

// certificateValidity is the lifetime of the certificates the Generate functions make.
const certificateValidity = 3 * 365 * 24 * time.Hour

// GenerateRequestEncryptionKey returns a fresh RSA-2048 key pair with a self-signed
// certificate for "serialNumber=<22 random digits>, CN=CyberSource_SJC_US", shaped like
// the certificate CyberSource puts in its P12 files.
func GenerateRequestEncryptionKey() (*RequestEncryptionKey, error) {
	cert, key, err := GenerateCertificate(p12.CyberSourceAlias)
	if err != nil {
		return nil, err
	}
	return &RequestEncryptionKey{Certificate: cert, PrivateKey: key}, nil
}

// NewRequestEncryptionKey returns a request-encryption key pair for key, with a fresh
// certificate shaped as GenerateRequestEncryptionKey makes them.
func NewRequestEncryptionKey(key *rsa.PrivateKey) (*RequestEncryptionKey, error) {
	cert, err := NewCertificate(p12.CyberSourceAlias, key)
	if err != nil {
		return nil, err
	}
	return &RequestEncryptionKey{Certificate: cert, PrivateKey: key}, nil
}

// GenerateCertificate returns a fresh RSA-2048 key and a self-signed certificate for
// "serialNumber=<22 random digits>, CN=<commonName>", as CyberSource issues for JWT
// authentication. The serialNumber attribute is the kid of the key.
func GenerateCertificate(commonName string) (*x509.Certificate, *rsa.PrivateKey, error) {
	if commonName == "" {
		return nil, nil, errors.New("the certificate common name is empty")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("generate RSA key: %w", err)
	}
	cert, err := NewCertificate(commonName, key)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// NewCertificate returns a self-signed certificate for key, shaped as GenerateCertificate
// makes them, with a fresh random kid. It saves the key generation where several
// certificates may share a key, such as in tests.
func NewCertificate(commonName string, key *rsa.PrivateKey) (*x509.Certificate, error) {
	if commonName == "" {
		return nil, errors.New("the certificate common name is empty")
	}
	if key == nil {
		return nil, errors.New("the certificate key is nil")
	}

	kid, err := randomDigitsNoLeadingZero(22)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}

	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, SerialNumber: kid},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certificateValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}

// EncodeP12 writes key and cert, and CyberSource's certificate when it is not nil, as a
// P12 file laid out as a CyberSource download: the bag friendlyNames are
// "serialNumber=<kid>,CN=<merchant id>" and CyberSource_SJC_US, by which the official
// Node SDK finds the certificates. See p12.Encode for the algorithms.
func EncodeP12(key *rsa.PrivateKey, cert, cyberSource *x509.Certificate, password string) ([]byte, error) {
	return p12.Encode(key, cert, cyberSource, password)
}

func randomDigitsNoLeadingZero(n int) (string, error) {
	digits, err := randomDigits(n)
	if err != nil {
		return "", err
	}
	if digits[0] == '0' {
		digits = "1" + digits[1:]
	}
	return digits, nil
}
