package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paycreds/tms/internal/jwtauth"
	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// jwtClient returns a client of the merchant that report describes, with JWT signed by
// the key of the printed P12 file and both message-level encryptions, the request to the
// printed request-encryption certificate.
func (rs *runningSandbox) jwtClient(t *testing.T, report merchantReport) *tokenapi.Client {
	t.Helper()
	p12, err := tokenapi.LoadP12File(report.P12File, report.MerchantID, report.P12Password)
	if err != nil {
		t.Fatal(err)
	}
	requestCert, err := tokenapi.LoadCertificateFile(rs.ready.RequestCertFile)
	if err != nil {
		t.Fatal(err)
	}
	mleKey, err := tokenapi.LoadMLEKeyFile(report.MLEKeyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := tokenapi.New(
		tokenapi.WithBaseURL(rs.ready.BaseURL),
		tokenapi.WithP12JWT(report.MerchantID, p12),
		tokenapi.WithMLEKeys(tokenapi.MLEKey{KeyID: report.MLEKeyID, Key: mleKey}),
		tokenapi.WithRequestEncryption(requestCert),
		tokenapi.WithResponseEncryption(report.MLEKeyID),
	)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestSandboxCommandJWT(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "state")
	rs := startSandboxCommand(t, "--state-dir", stateDir)
	ready := rs.ready

	if filepath.Dir(ready.P12File) != stateDir || filepath.Dir(ready.RequestCertFile) != stateDir {
		t.Errorf("p12File %q and requestCertFile %q, want both in the state directory %s", ready.P12File, ready.RequestCertFile, stateDir)
	}
	if ready.P12Password != ready.MerchantID {
		t.Errorf("p12Password = %q, want the merchant id %q as CyberSource sets it", ready.P12Password, ready.MerchantID)
	}
	if ready.Merchants[0].P12File != ready.P12File || ready.Merchants[0].P12Password != ready.P12Password {
		t.Errorf("merchants[0] = %+v, want the top-level P12 fields", ready.Merchants[0])
	}
	info, err := os.Stat(ready.P12File)
	if err != nil {
		t.Fatalf("p12File: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("p12File mode %v, want 0600", info.Mode().Perm())
	}
	if !slices.Contains(ready.RequestHosts, "apitest.cybersource.com") || !slices.Contains(ready.RequestHosts, "localhost") {
		t.Errorf("requestHosts = %v, want the CyberSource hosts and localhost by default", ready.RequestHosts)
	}

	p12, err := tokenapi.LoadP12File(ready.P12File, ready.MerchantID, ready.P12Password)
	if err != nil {
		t.Fatalf("the printed P12 file does not load: %v", err)
	}
	requestCert, err := tokenapi.LoadCertificateFile(ready.RequestCertFile)
	if err != nil {
		t.Fatal(err)
	}
	if p12.CyberSourceCertificate == nil || !p12.CyberSourceCertificate.Equal(requestCert) {
		t.Error("the P12 file does not contain the certificate of requestCertFile")
	}

	client := rs.jwtClient(t, ready.Merchants[0])
	ctx := context.Background()
	creds, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil)
	if err != nil {
		t.Fatalf("v2 with JWT and both encryptions: %v\nstderr:\n%s", err, rs.stderr)
	}
	if creds.TokenizedCard.Cryptogram.Reveal() == "" || creds.KeyID != ready.MLEKeyID {
		t.Errorf("credentials %v with kid %q, want a cryptogram and kid %q", creds, creds.KeyID, ready.MLEKeyID)
	}
	if _, err := client.GeneratePaymentCredentialsV3(ctx, sandbox.DemoNoNetworkTokenID, nil); err != nil {
		t.Errorf("v3 with JWT and both encryptions: %v", err)
	}
	_, err = client.GeneratePaymentCredentials(ctx, sandbox.DemoDeletedTokenID, nil)
	var apiErr *tokenapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusGone || apiErr.Type != "notAvailable" {
		t.Errorf("deleted token: error = %v, want 410 notAvailable decrypted from the encrypted error body", err)
	}

	if code := rs.wait(t); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	for _, file := range []string{ready.P12File, ready.RequestCertFile} {
		if _, err := os.Stat(file); err != nil {
			t.Errorf("%s is gone after exit, but --state-dir keeps it: %v", file, err)
		}
	}
}

// postWithRequestHost sends one v2 call signed with a JWT whose request-host claim is
// host, to the sandbox's loopback address, and returns the status.
func postWithRequestHost(t *testing.T, rs *runningSandbox, host string) int {
	t.Helper()
	p12, err := tokenapi.LoadP12File(rs.ready.P12File, rs.ready.MerchantID, rs.ready.P12Password)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jwtauth.NewRS256Signer(p12.KeyID, p12.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"paymentCredentialType":"CRYPTOGRAM","transactionType":"ECOM"}`
	target := "/tms/v2/tokens/" + sandbox.DemoVisaTokenID + "/payment-credentials"
	// The Node SDK's claims, as it signs its runEnvironment while calling intermediateHost.
	claims := jwtauth.NewClaims(jwtauth.Request{
		Method: http.MethodPost, Host: host, Target: target, Body: []byte(body),
		Time: time.Now(), ID: uuid.NewString(), MerchantID: rs.ready.MerchantID,
	}, jwtauth.NodeSDKClaims)
	token, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}

	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, rs.ready.BaseURL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("Accept", "application/jose;charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestSandboxCommandRequestHosts(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		rs := startSandboxCommand(t)
		loopback := strings.TrimPrefix(rs.ready.BaseURL, "http://")
		for host, want := range map[string]int{
			loopback:                  http.StatusCreated,
			"apitest.cybersource.com": http.StatusCreated,
			"api.cybersource.com":     http.StatusCreated,
			"localhost":               http.StatusCreated,
			"attacker.example.com":    http.StatusUnauthorized,
		} {
			if got := postWithRequestHost(t, rs, host); got != want {
				t.Errorf("request-host %s: status %d, want %d", host, got, want)
			}
		}
		if logs := rs.stderr.String(); !strings.Contains(logs, `request-host is \"attacker.example.com\"`) {
			t.Errorf("the log does not name the rejected request-host:\n%s", logs)
		}
	})

	t.Run("replaced", func(t *testing.T) {
		rs := startSandboxCommand(t, "--request-host", "only.example.com", "--request-host", "other.example.com:8443")
		if want := []string{"only.example.com", "other.example.com:8443"}; !slices.Equal(rs.ready.RequestHosts, want) {
			t.Errorf("requestHosts = %v, want %v", rs.ready.RequestHosts, want)
		}
		for host, want := range map[string]int{
			"only.example.com":        http.StatusCreated,
			"other.example.com:8443":  http.StatusCreated,
			"apitest.cybersource.com": http.StatusUnauthorized,
		} {
			if got := postWithRequestHost(t, rs, host); got != want {
				t.Errorf("request-host %s: status %d, want %d", host, got, want)
			}
		}
	})
}

func TestSandboxCommandJWTConfig(t *testing.T) {
	dir := t.TempDir()
	merchantCert, merchantKey, err := sandbox.GenerateCertificate("cert_shop")
	if err != nil {
		t.Fatal(err)
	}
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, dir, "cert_shop.pem", "CERTIFICATE", merchantCert.Raw)
	writeFile(t, dir, "cybersource.der", string(requestKey.Certificate.Raw))
	writePEM(t, dir, "cybersource-key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(requestKey.PrivateKey))

	config := writeFile(t, dir, "sandbox.yaml", `
merchants:
  - id: cert_shop
    certificateFiles: [cert_shop.pem]
  - id: p12_shop
    p12Password: p12-pass-word
requestEncryption:
  certificateFile: cybersource.der
  privateKeyFile: cybersource-key.pem
`)
	rs := startSandboxCommand(t, "--config", config)
	ready := rs.ready

	if ready.P12File != "" || ready.P12Password != "" {
		t.Errorf("p12File %q, p12Password %q, want none for configured certificates", ready.P12File, ready.P12Password)
	}
	second := ready.Merchants[1]
	if second.P12File == "" || second.P12Password != "p12-pass-word" {
		t.Errorf("merchants[1] = %+v, want a generated P12 file with the configured password", second)
	}
	requestCert, err := tokenapi.LoadCertificateFile(ready.RequestCertFile)
	if err != nil {
		t.Fatal(err)
	}
	if !requestCert.Equal(requestKey.Certificate) {
		t.Error("requestCertFile is not the configured request-encryption certificate")
	}

	ctx := context.Background()
	if _, err := rs.jwtClient(t, second).GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil); err != nil {
		t.Errorf("merchant with a generated P12 file: %v", err)
	}

	// The first merchant signs with the key of its configured certificate.
	p12Data, err := sandbox.EncodeP12(merchantKey, merchantCert, nil, "cert_shop")
	if err != nil {
		t.Fatal(err)
	}
	p12, err := tokenapi.ParseP12(p12Data, "cert_shop", "")
	if err != nil {
		t.Fatal(err)
	}
	client, err := tokenapi.New(
		tokenapi.WithBaseURL(ready.BaseURL),
		tokenapi.WithP12JWT("cert_shop", p12),
		tokenapi.WithMLEKey(mustLoadMLEKey(t, ready.MLEKeyFile)),
		tokenapi.WithRequestEncryption(requestKey.Certificate),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.GeneratePaymentCredentialsV3(ctx, sandbox.DemoMastercardTokenID, nil); err != nil {
		t.Errorf("merchant with a configured certificate: %v\nstderr:\n%s", err, rs.stderr)
	}
}

func mustLoadMLEKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	key, err := tokenapi.LoadMLEKeyFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestSandboxCommandJWTUsageErrors(t *testing.T) {
	dir := t.TempDir()
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, dir, "cybersource.pem", "CERTIFICATE", requestKey.Certificate.Raw)
	otherKeyFile := writePEM(t, dir, "other-key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(otherKey.PrivateKey))
	twoCerts := writeFile(t, dir, "two.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: requestKey.Certificate.Raw}))+
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherKey.Certificate.Raw})))
	noSerial, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "no_serial"}},
		&x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "no_serial"}}, &requestKey.PrivateKey.PublicKey, requestKey.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	noSerialFile := writePEM(t, dir, "no-serial.pem", "CERTIFICATE", noSerial)
	encryptedKey, err := filepath.Abs("testdata/mle-private-key.encrypted.pem")
	if err != nil {
		t.Fatal(err)
	}

	config := func(name, content string) []string {
		return []string{"--config", writeFile(t, dir, name, content)}
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"request host with a scheme", []string{"--request-host", "https://apitest.cybersource.com"}, `"https://apitest.cybersource.com" is not a host name`},
		{"request host with a path", []string{"--request-host", "apitest.cybersource.com/tms"}, "without a scheme or path"},
		{"empty request host", []string{"--request-host", ""}, `"" is not a host name`},
		{"P12 password with certificates", config("both.yaml", "merchants:\n  - {id: m, certificateFiles: ["+certFile+"], p12Password: secret}\n"), "remove p12Password"},
		{"certificate file missing", config("nocert.yaml", "merchants:\n  - {id: m, certificateFiles: [absent.pem]}\n"), "certificateFiles[0]"},
		{"certificate without kid", config("noserial.yaml", "merchants:\n  - {id: m, certificateFiles: ["+noSerialFile+"]}\n"), "serialNumber"},
		{"not a certificate", config("notcert.yaml", "merchants:\n  - {id: m, certificateFiles: ["+otherKeyFile+"]}\n"), "neither PEM with CERTIFICATE blocks nor a DER certificate"},
		{"request key without certificate", config("halfkey.yaml", "requestEncryption:\n  privateKeyFile: "+otherKeyFile+"\n"), "certificateFile and privateKeyFile are both needed"},
		{"request key of another certificate", config("mismatch.yaml", "requestEncryption:\n  certificateFile: "+certFile+"\n  privateKeyFile: "+otherKeyFile+"\n"), "is not the key of certificateFile"},
		{"encrypted request key", config("encrypted.yaml", "requestEncryption:\n  certificateFile: "+certFile+"\n  privateKeyFile: "+encryptedKey+"\n"), "openssl pkey -in"},
		{"two request certificates", config("twocerts.yaml", "requestEncryption:\n  certificateFile: "+twoCerts+"\n  privateKeyFile: "+otherKeyFile+"\n"), "contains 2 certificates"},
		{"request certificate without kid", config("reqserial.yaml", "requestEncryption:\n  certificateFile: "+noSerialFile+"\n  privateKeyFile: "+otherKeyFile+"\n"), "has no serialNumber attribute"},
		{"unknown requestEncryption key", config("typo-req.yaml", "requestEncryption:\n  certFile: x.pem\n"), "field certFile not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCommand(t, nil, "", append([]string{"sandbox"}, tt.args...)...)
			if res.code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing before the server listens", res.stdout)
			}
		})
	}
}
