package main

import (
	"crypto/x509"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/internal/spec"
)

// jwtFixture is a sandbox with one merchant that has a P12 file on disk, CyberSource's
// request-encryption key, and the environment that points `paycreds get` at it.
type jwtFixture struct {
	env      map[string]string
	p12File  string
	mleKID   string
	merchant sandbox.Merchant

	mu      sync.Mutex
	records []sandbox.Record
}

func (fx *jwtFixture) lastRecord(t *testing.T) sandbox.Record {
	t.Helper()
	fx.mu.Lock()
	defer fx.mu.Unlock()
	if len(fx.records) == 0 {
		t.Fatal("the sandbox recorded no request")
	}
	return fx.records[len(fx.records)-1]
}

// startJWTSandbox writes a P12 file protected by password, or by the merchant id when
// password is empty.
func startJWTSandbox(t *testing.T, password string) *jwtFixture {
	t.Helper()
	merchant, mleKey, err := sandbox.GenerateMerchant("cli_jwt_merchant")
	if err != nil {
		t.Fatal(err)
	}
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := sandbox.GenerateCertificate(merchant.ID)
	if err != nil {
		t.Fatal(err)
	}
	merchant.Certificates = []*x509.Certificate{cert}
	if password == "" {
		password = merchant.ID
	}
	p12, err := sandbox.EncodeP12(key, cert, requestKey.Certificate, password)
	if err != nil {
		t.Fatal(err)
	}
	fx := &jwtFixture{merchant: merchant, p12File: filepath.Join(t.TempDir(), "merchant.p12")}
	if err := os.WriteFile(fx.p12File, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	if fx.mleKID, err = sandbox.MLEKeyID(&mleKey.PublicKey); err != nil {
		t.Fatal(err)
	}

	server, err := sandbox.New(sandbox.Config{
		Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens(), RequestEncryption: requestKey,
		OnRequest: func(r sandbox.Record) {
			fx.mu.Lock()
			fx.records = append(fx.records, r)
			fx.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Load()
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(sp.CheckingHandler(server, func(err error) { t.Errorf("sandbox response violates the spec: %v", err) }))
	t.Cleanup(httpServer.Close)
	fx.env = map[string]string{
		envBaseURL:    httpServer.URL,
		envMerchantID: merchant.ID,
		envMLEKeyFile: writeKey(t, mleKey),
	}
	return fx
}

func TestGetWithP12JWT(t *testing.T) {
	fx := startJWTSandbox(t, "")
	res := runCommand(t, fx.env, "", "get", "--auth", "jwt", "--p12", fx.p12File, sandbox.DemoVisaTokenID)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "network token   ****0015") {
		t.Errorf("output:\n%s", res.stdout)
	}
	assertMasked(t, res.stdout+res.stderr)
	if rec := fx.lastRecord(t); rec.MerchantID != fx.merchant.ID || rec.EncryptedRequest || rec.EncryptedResponse {
		t.Errorf("sandbox record: %+v", rec)
	}
}

func TestGetWithEncryptedJWTCall(t *testing.T) {
	fx := startJWTSandbox(t, "")
	res := runCommand(t, fx.env, "", "get", "--p12", fx.p12File, "--encrypt-request", "--encrypt-response", fx.mleKID, "--api", "v3", sandbox.DemoVisaTokenID)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if rec := fx.lastRecord(t); !rec.EncryptedRequest || !rec.EncryptedResponse {
		t.Errorf("sandbox saw encrypted request %v, encrypted response %v; want both", rec.EncryptedRequest, rec.EncryptedResponse)
	}

	// An error body arrives encrypted too, and still exits 1 with CyberSource's error.
	res = runCommand(t, fx.env, "", "get", "--p12", fx.p12File, "--encrypt-response", fx.mleKID, sandbox.DemoDeletedTokenID)
	if res.code != exitError || !strings.Contains(res.stderr, "notAvailable") {
		t.Errorf("deleted token: exit %d, stderr:\n%s", res.code, res.stderr)
	}
}

func TestGetP12Password(t *testing.T) {
	fx := startJWTSandbox(t, "p12-pass-word")
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte("p12-pass-word\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	withEnv := map[string]string{envP12Password: "p12-pass-word", envP12File: fx.p12File}
	for k, v := range fx.env {
		withEnv[k] = v
	}
	if res := runCommand(t, withEnv, "", "get", "--auth", "jwt", sandbox.DemoVisaTokenID); res.code != exitOK {
		t.Errorf("password from %s: exit %d: %s", envP12Password, res.code, res.stderr)
	}
	if res := runCommand(t, fx.env, "", "get", "--p12", fx.p12File, "--p12-password-file", passwordFile, sandbox.DemoVisaTokenID); res.code != exitOK {
		t.Errorf("password from a file: exit %d: %s", res.code, res.stderr)
	}

	res := runCommand(t, fx.env, "", "get", "--p12", fx.p12File, sandbox.DemoVisaTokenID)
	if res.code != exitUsage || !strings.Contains(res.stderr, envP12Password) || strings.Contains(res.stderr, "p12-pass-word") {
		t.Errorf("no password: exit %d, stderr:\n%s", res.code, res.stderr)
	}
}

func TestGetSharedSecretJWT(t *testing.T) {
	fx := startSandbox(t)
	res := runCommand(t, fx.env, "", "get", "--shared-secret-jwt", "--jwt-node-claims", sandbox.DemoVisaTokenID)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
}

func TestGetAuthUsageErrors(t *testing.T) {
	fx := startJWTSandbox(t, "")
	signature := map[string]string{envKeyID: "key", envSecretKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
	for k, v := range fx.env {
		signature[k] = v
	}
	rightPassword := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(rightPassword, []byte(fx.merchant.ID), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unknown auth", []string{"--auth", "oauth"}, "http-signature or jwt"},
		{"jwt without key", []string{"--auth", "jwt"}, "--p12 FILE"},
		{"P12 with http-signature", []string{"--auth", "http-signature", "--p12", fx.p12File}, "--auth jwt"},
		{"encryption with http-signature", []string{"--encrypt-request"}, "JWT authentication only"},
		{"response encryption with http-signature", []string{"--encrypt-response", fx.mleKID}, "JWT authentication only"},
		{"encryption without certificate", []string{"--shared-secret-jwt", "--encrypt-request"}, "--request-cert"},
		{"missing P12 file", []string{"--p12", filepath.Join(t.TempDir(), "none.p12")}, "none.p12"},
		{"P12 of another merchant", []string{"--p12", fx.p12File, "--p12-password-file", rightPassword, "--merchant-id", "someone_else"}, "--merchant-id"},
		{"P12 password of another merchant", []string{"--p12", fx.p12File, "--merchant-id", "someone_else"}, "the password is the merchant id someone_else"},
		{"request cert not a certificate", []string{"--p12", fx.p12File, "--encrypt-request", "--request-cert", fx.env[envMLEKeyFile]}, "--request-cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCommand(t, signature, "", append([]string{"get"}, append(tt.args, sandbox.DemoVisaTokenID)...)...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.mention) {
				t.Errorf("stderr does not mention %q:\n%s", tt.mention, res.stderr)
			}
		})
	}
}

func TestDemoShowsJWTCall(t *testing.T) {
	res := runCommand(t, nil, "", "demo")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"6. JWT (RS256, key from a P12 file)", "request encrypted to CyberSource_SJC_US"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, res.stdout)
		}
	}
}
