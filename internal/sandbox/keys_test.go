package sandbox_test

import (
	"strings"
	"testing"

	"github.com/paycreds/tms/internal/p12"
	"github.com/paycreds/tms/internal/sandbox"
)

func TestNewCertificateSharesKeyNotKid(t *testing.T) {
	merchants, _ := generatedJWTMerchants(t)
	key := merchants[0].certKey

	first, err := sandbox.NewCertificate("shared_key_merchant", key)
	if err != nil {
		t.Fatal(err)
	}
	second, err := sandbox.NewCertificate("shared_key_merchant", key)
	if err != nil {
		t.Fatal(err)
	}
	for _, cert := range []string{first.Subject.CommonName, second.Subject.CommonName} {
		if cert != "shared_key_merchant" {
			t.Errorf("common name = %q, want shared_key_merchant", cert)
		}
	}
	if !key.PublicKey.Equal(first.PublicKey) || !key.PublicKey.Equal(second.PublicKey) {
		t.Error("a certificate does not carry the given key")
	}
	firstKID, err := p12.SerialNumber(first)
	if err != nil {
		t.Fatal(err)
	}
	secondKID, err := p12.SerialNumber(second)
	if err != nil {
		t.Fatal(err)
	}
	if len(firstKID) != 22 || firstKID == secondKID {
		t.Errorf("kids %q and %q, want two different 22-digit values", firstKID, secondKID)
	}

	if _, err := sandbox.NewCertificate("", key); err == nil || !strings.Contains(err.Error(), "common name is empty") {
		t.Errorf("empty common name: error = %v", err)
	}
	if _, err := sandbox.NewCertificate("m", nil); err == nil || !strings.Contains(err.Error(), "key is nil") {
		t.Errorf("nil key: error = %v", err)
	}
}

func TestNewRequestEncryptionKeyShape(t *testing.T) {
	merchants, _ := generatedJWTMerchants(t)
	key := merchants[0].certKey

	requestKey, err := sandbox.NewRequestEncryptionKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if requestKey.PrivateKey != key || !key.PublicKey.Equal(requestKey.Certificate.PublicKey) {
		t.Error("the key pair does not carry the given key")
	}
	if cn := requestKey.Certificate.Subject.CommonName; cn != p12.CyberSourceAlias {
		t.Errorf("common name = %q, want %s", cn, p12.CyberSourceAlias)
	}
	if _, err := p12.SerialNumber(requestKey.Certificate); err != nil {
		t.Errorf("the certificate has no kid: %v", err)
	}
	if _, err := sandbox.NewRequestEncryptionKey(nil); err == nil {
		t.Error("NewRequestEncryptionKey(nil) returned no error")
	}
}
