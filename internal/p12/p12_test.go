package p12

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readCertificate(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(readFile(t, name))
	if block == nil {
		t.Fatalf("%s holds no PEM block", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestParseBothFormats(t *testing.T) {
	merchantCert := readCertificate(t, "fixturemerchant.crt")
	cyberSourceCert := readCertificate(t, "cybersource-sjc-us.crt")

	for _, name := range []string{"fixturemerchant.p12", "fixturemerchant.legacy.p12"} {
		t.Run(name, func(t *testing.T) {
			contents, err := Parse(readFile(t, name), "fixturemerchant", "fixturemerchant")
			if err != nil {
				t.Fatal(err)
			}
			if contents.KeyID != "7400000000000000000001" {
				t.Errorf("KeyID = %q, want the subject serialNumber 7400000000000000000001", contents.KeyID)
			}
			if !contents.Certificate.Equal(merchantCert) {
				t.Errorf("Certificate is %q, want fixturemerchant.crt", contents.Certificate.Subject)
			}
			if contents.CyberSourceCertificate == nil || !contents.CyberSourceCertificate.Equal(cyberSourceCert) {
				t.Errorf("CyberSourceCertificate = %v, want cybersource-sjc-us.crt", contents.CyberSourceCertificate)
			}
			if len(contents.Certificates) != 2 {
				t.Errorf("Certificates has %d entries, want 2", len(contents.Certificates))
			}
			if !contents.Key.PublicKey.Equal(merchantCert.PublicKey) {
				t.Error("Key does not match the merchant certificate")
			}
		})
	}
}

func TestParseWithoutCyberSourceCertificate(t *testing.T) {
	contents, err := Parse(readFile(t, "fixturemerchant.only-merchant.legacy.p12"), "fixturemerchant", "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}
	if contents.CyberSourceCertificate != nil {
		t.Errorf("CyberSourceCertificate = %q, want nil", contents.CyberSourceCertificate.Subject)
	}
	if contents.KeyID != "7400000000000000000001" {
		t.Errorf("KeyID = %q", contents.KeyID)
	}
}

// encodeP12 writes a P12 file in the modern format with go-pkcs12's encoder.
func encodeP12(t *testing.T, key any, cert *x509.Certificate, others []*x509.Certificate, password string) []byte {
	t.Helper()
	data, err := pkcs12.Modern.Encode(key, cert, others, password)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func selfSigned(t *testing.T, key *rsa.PrivateKey, subject pkix.Name, notAfter time.Time) *x509.Certificate {
	t.Helper()
	template := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestParseSelectsCertificateByAlias(t *testing.T) {
	merchant, err := Parse(readFile(t, "fixturemerchant.p12"), "fixturemerchant", "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}
	// The CyberSource certificate comes first here, so the alias, not the order, must
	// pick the merchant's.
	data := encodeP12(t, merchant.Key, readCertificate(t, "cybersource-sjc-us.crt"), []*x509.Certificate{merchant.Certificate}, "fixturemerchant")
	_, err = Parse(data, "fixturemerchant", "fixturemerchant")
	if err != nil {
		t.Fatalf("Parse with the CyberSource certificate first: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	merchant, err := Parse(readFile(t, "fixturemerchant.p12"), "fixturemerchant", "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	mismatched := encodeP12(t, otherKey, merchant.Certificate, nil, "fixturemerchant")

	tests := []struct {
		name     string
		data     []byte
		alias    string
		password string
		want     error
		mention  string
	}{
		{"wrong password", readFile(t, "fixturemerchant.p12"), "fixturemerchant", "Tr0ub4dor-guess", ErrPassword, "password"},
		{"wrong password legacy", readFile(t, "fixturemerchant.legacy.p12"), "fixturemerchant", "Tr0ub4dor-guess", ErrPassword, "password"},
		{"password outside BMP", readFile(t, "fixturemerchant.p12"), "fixturemerchant", "pass\U0001F600", ErrPassword, "Basic Multilingual Plane"},
		{"other merchant", readFile(t, "fixturemerchant.p12"), "othermerchant", "fixturemerchant", ErrAlias, `"othermerchant"`},
		{"empty alias", readFile(t, "fixturemerchant.p12"), "", "fixturemerchant", ErrAlias, "merchant id"},
		{"EC key", readFile(t, "ecmerchant.p12"), "ecmerchant", "ecmerchant", ErrKey, "RSA"},
		{"key of another certificate", mismatched, "fixturemerchant", "fixturemerchant", ErrKey, "does not belong"},
		{"no serialNumber", readFile(t, "fixturemerchant.no-serial-number.p12"), "fixturemerchant", "fixturemerchant", ErrNoSerialNumber, "CN=fixturemerchant"},
		{"PEM certificate", readFile(t, "fixturemerchant.crt"), "fixturemerchant", "fixturemerchant", ErrFormat, "PEM"},
		{"empty", nil, "fixturemerchant", "fixturemerchant", ErrFormat, "empty"},
		{"not DER", []byte("definitely not a P12 file"), "fixturemerchant", "fixturemerchant", ErrFormat, "P12"},
		{"truncated", readFile(t, "fixturemerchant.p12")[:1000], "fixturemerchant", "fixturemerchant", ErrFormat, "P12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, tt.alias, tt.password)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if strings.Contains(err.Error(), tt.password) && tt.password != "" && tt.password != "fixturemerchant" && tt.password != "ecmerchant" {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestParseChecksAliasBeforeKeyType(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other", SerialNumber: "1"}, NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	_, err = Parse(encodeP12(t, key, cert, nil, "pw"), "merchant", "pw")
	if !errors.Is(err, ErrAlias) {
		t.Errorf("error = %v, want %v because no certificate names the alias", err, ErrAlias)
	}
}

func TestExpiresWithin(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	cert := selfSigned(t, key, pkix.Name{CommonName: "m", SerialNumber: "1"}, now.Add(60*24*time.Hour))
	if !ExpiresWithin(cert, now, 90*24*time.Hour) {
		t.Error("a certificate expiring in 60 days does not expire within 90 days")
	}
	if ExpiresWithin(cert, now, 30*24*time.Hour) {
		t.Error("a certificate expiring in 60 days expires within 30 days")
	}
}

func TestSerialNumberIsSubjectAttribute(t *testing.T) {
	cert := readCertificate(t, "cybersource-sjc-us.crt")
	serial, err := SerialNumber(cert)
	if err != nil {
		t.Fatal(err)
	}
	if serial != "9900000000000000000099" {
		t.Errorf("SerialNumber = %q, want the subject attribute 9900000000000000000099", serial)
	}
	if serial == cert.SerialNumber.String() {
		t.Error("SerialNumber returned the X.509 serial number")
	}
}
