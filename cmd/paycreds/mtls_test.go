package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
)

// testCA issues certificates for a mutual-TLS test.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	der  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "paycreds test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{key: key, cert: cert, der: der}
}

// issue returns a certificate and key signed by the CA, for a server (with IP SANs) or a
// client.
func (ca *testCA) issue(t *testing.T, serial int64, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "paycreds test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		template.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, dir, name, blockType string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGetWithMutualTLS(t *testing.T) {
	merchant, key, err := sandbox.GenerateMerchant("mtls_merchant")
	if err != nil {
		t.Fatal(err)
	}
	handler, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t)
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca.cert)
	server := httptest.NewUnstartedServer(handler)
	server.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, 2, true)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
	}
	server.StartTLS()
	defer server.Close()

	dir := t.TempDir()
	client := ca.issue(t, 3, false)
	clientKeyDER, err := x509.MarshalPKCS8PrivateKey(client.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, dir, "client.crt", "CERTIFICATE", client.Certificate[0])
	keyFile := writePEM(t, dir, "client.key", "PRIVATE KEY", clientKeyDER)
	caFile := writePEM(t, dir, "ca.crt", "CERTIFICATE", ca.der)

	env := map[string]string{
		envBaseURL: server.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID,
		envSecretKey: merchant.SecretKey, envMLEKeyFile: writeKey(t, key),
	}
	res := runCommand(t, env, "", "get", "--client-cert", certFile, "--client-key", keyFile, "--ca-cert", caFile, sandbox.DemoVisaTokenID)
	if res.code != exitOK || !strings.Contains(res.stdout, "****0015") {
		t.Fatalf("with a client certificate: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	res = runCommand(t, env, "", "get", "--ca-cert", caFile, sandbox.DemoVisaTokenID)
	if res.code != exitError || !strings.Contains(res.stderr, "transport failure") {
		t.Errorf("without a client certificate: exit %d, stderr:\n%s", res.code, res.stderr)
	}

	res = runCommand(t, env, "", "get", "--client-cert", certFile, sandbox.DemoVisaTokenID)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--client-key") {
		t.Errorf("certificate without key: exit %d, stderr:\n%s", res.code, res.stderr)
	}
}
