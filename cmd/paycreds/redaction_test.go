package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// cliSecrets is every value the command must not print, each with a label.
type cliSecrets struct {
	mu     sync.Mutex
	values map[string]string // value to label
}

func (s *cliSecrets) add(label, value string) {
	if value == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[value] = label
}

func (s *cliSecrets) addSharedSecret(label, secret string) {
	s.add(label, secret)
	decoded, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		panic(err)
	}
	s.add(label+" (decoded)", string(decoded))
	s.add(label+" (hex)", hex.EncodeToString(decoded))
}

func (s *cliSecrets) addPrivateKey(label string, key *rsa.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n") {
		if len(line) == 64 {
			s.add(label+" PEM line", line)
		}
	}
	s.add(label+" private exponent", key.D.String())
}

func (s *cliSecrets) check(t *testing.T, source, output string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for value, label := range s.values {
		if strings.Contains(output, value) {
			t.Errorf("%s prints the %s", source, label)
		}
	}
}

// signatureRecorder passes requests to the sandbox and adds every signature header it
// receives to the secrets. A call whose correlation id starts with "flaky-" gets a 503 on
// its first attempt, and one that starts with "html-" gets a 502 page from a proxy.
type signatureRecorder struct {
	next    http.Handler
	secrets *cliSecrets

	mu   sync.Mutex
	seen map[string]bool
}

func (s *signatureRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	signature := r.Header.Get("signature")
	s.secrets.add("signature header", signature)
	if _, value, ok := strings.Cut(signature, `signature="`); ok {
		s.secrets.add("signature value", strings.TrimSuffix(value, `"`))
	}

	id := r.Header.Get("v-c-correlation-id")
	s.mu.Lock()
	first := !s.seen[id]
	s.seen[id] = true
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(id, "flaky-") && first:
		_, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case strings.HasPrefix(id, "html-"):
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><body>Bad gateway</body></html>")
		return
	}
	s.next.ServeHTTP(w, r)
}

// TestCommandPrintsNoSecret runs every command path that talks to a server or opens a
// key, with --verbose where it applies, and scans standard output and standard error for
// the shared secret, the MLE private key, signatures, network tokens, PANs and
// cryptograms. Only --reveal and --raw print card data or the JWE, on request.
func TestCommandPrintsNoSecret(t *testing.T) {
	secrets := &cliSecrets{values: map[string]string{}}
	merchant, key, err := sandbox.GenerateMerchant("cli_redaction")
	if err != nil {
		t.Fatal(err)
	}
	secrets.addSharedSecret("shared secret", merchant.SecretKey)
	secrets.addPrivateKey("MLE private key", key)
	for _, token := range sandbox.DemoTokens() {
		secrets.add("network token", token.NetworkTokenNumber)
		secrets.add("PAN", token.PAN)
	}
	// The card data of testdata/v2-visa-cryptogram.jwe.
	secrets.add("network token of the fixture", "4895370015293175")
	fixtureKey, err := tokenapi.LoadMLEKeyFile("testdata/mle-private-key.pem", nil)
	if err != nil {
		t.Fatal(err)
	}
	secrets.addPrivateKey("fixture MLE private key", fixtureKey)

	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(&signatureRecorder{next: server, secrets: secrets, seen: map[string]bool{}})
	defer httpServer.Close()
	keyFile := writeKey(t, key)
	env := map[string]string{
		envBaseURL: httpServer.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID,
		envSecretKey: merchant.SecretKey, envMLEKeyFile: keyFile,
	}
	wrongSecret := base64.StdEncoding.EncodeToString([]byte("another shared secret, 32 bytes."))
	secrets.addSharedSecret("wrong shared secret", wrongSecret)
	withWrongSecret := map[string]string{}
	for name, value := range env {
		withWrongSecret[name] = value
	}
	withWrongSecret[envSecretKey] = wrongSecret
	secretFile := t.TempDir() + "/secret"
	if err := os.WriteFile(secretFile, []byte(merchant.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	runs := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"get table", env, []string{"get", "--verbose", sandbox.DemoVisaTokenID}, exitOK},
		{"get JSON", env, []string{"get", "--verbose", "--json", "--api", "v3", sandbox.DemoAmericanExpressTokenID}, exitOK},
		{"get card details", env, []string{"get", "--verbose", "--api", "v3", sandbox.DemoNoNetworkTokenID}, exitOK},
		{"get JSON card details", env, []string{"get", "--json", "--api", "v3", sandbox.DemoNoNetworkTokenID}, exitOK},
		{"get with a secret file", map[string]string{envBaseURL: httpServer.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID, envMLEKeyFile: keyFile},
			[]string{"get", "--verbose", "--secret-key-file", secretFile, sandbox.DemoMastercardTokenID}, exitOK},
		{"get retried", env, []string{"get", "--verbose", "--retries", "2", "--correlation-id", "flaky-1", sandbox.DemoVisaTokenID}, exitOK},
		{"get 503 without retries", env, []string{"get", "--verbose", "--correlation-id", "flaky-2", sandbox.DemoVisaTokenID}, exitError},
		{"get 502 HTML", env, []string{"get", "--verbose", "--retries", "1", "--correlation-id", "html-1", sandbox.DemoVisaTokenID}, exitError},
		{"get 400", env, []string{"get", "--verbose", "--type", "CRYPTOGRAM", sandbox.DemoAmericanExpressTokenID}, exitError},
		{"get 401", withWrongSecret, []string{"get", "--verbose", sandbox.DemoVisaTokenID}, exitError},
		{"get 404", env, []string{"get", "--verbose", "7030000000000099999"}, exitError},
		{"get 410", env, []string{"get", "--verbose", sandbox.DemoDeletedTokenID}, exitError},
		{"get invalid token id", env, []string{"get", "--verbose", "../" + sandbox.DemoVisaTokenID}, exitUsage},
		{"get invalid retries", env, []string{"get", "--retries", "-1", sandbox.DemoVisaTokenID}, exitUsage},
		{"get wrong MLE key", map[string]string{envBaseURL: httpServer.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID, envSecretKey: merchant.SecretKey, envMLEKeyFile: "testdata/mle-private-key.pem"},
			[]string{"get", "--verbose", sandbox.DemoVisaTokenID}, exitError},
		{"get key with a wrong password", map[string]string{envBaseURL: httpServer.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID, envSecretKey: merchant.SecretKey, envMLEKeyFile: "testdata/mle-private-key.encrypted.pem", envMLEKeyPassword: "wrong"},
			[]string{"get", sandbox.DemoVisaTokenID}, exitUsage},
		{"get mangled secret", map[string]string{envBaseURL: httpServer.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID, envSecretKey: merchant.SecretKey + "!", envMLEKeyFile: keyFile},
			[]string{"get", sandbox.DemoVisaTokenID}, exitUsage},
		{"decrypt", nil, []string{"decrypt", "--key", "testdata/mle-private-key.pem", "testdata/v2-visa-cryptogram.jwe"}, exitOK},
		{"decrypt JSON", nil, []string{"decrypt", "--json", "--key", "testdata/mle-private-key.pem", "testdata/v2-visa-cryptogram.jwe"}, exitOK},
		{"decrypt with the wrong key", nil, []string{"decrypt", "--key", keyFile, "testdata/v2-visa-cryptogram.jwe"}, exitError},
		{"decrypt a key file as a JWE", nil, []string{"decrypt", "--key", "testdata/mle-private-key.pem", "testdata/mle-private-key.pem"}, exitError},
		{"demo", nil, []string{"demo"}, exitOK},
	}
	secrets.add("mangled shared secret", merchant.SecretKey+"!")
	for _, run := range runs {
		res := runCommand(t, run.env, "", run.args...)
		if res.code != run.code {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", run.name, res.code, run.code, res.stderr)
		}
		secrets.check(t, run.name+" stdout", res.stdout)
		secrets.check(t, run.name+" stderr", res.stderr)
		assertMasked(t, res.stdout+res.stderr)
		if strings.Contains(strings.Join(run.args, " "), "--verbose") && res.code != exitUsage && !strings.Contains(res.stderr, "level=DEBUG") {
			t.Errorf("%s: --verbose logged nothing:\n%s", run.name, res.stderr)
		}
	}
}

func TestGetRetriesAndLogsRetry(t *testing.T) {
	secrets := &cliSecrets{values: map[string]string{}}
	fx := startSandbox(t)
	front := &signatureRecorder{secrets: secrets, seen: map[string]bool{}}
	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{fx.merchant}, Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	front.next = server
	httpServer := httptest.NewServer(front)
	defer httpServer.Close()
	fx.env[envBaseURL] = httpServer.URL

	res := runCommand(t, fx.env, "", "get", "--retries", "1", "--verbose", "--correlation-id", "flaky-retry", sandbox.DemoVisaTokenID)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"msg=\"tokenapi retry\"", "attempt=1", "reason=\"503 Service Unavailable\"", "delay=", "attempt=2", "status=201"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %s:\n%s", want, res.stderr)
		}
	}
	if !strings.Contains(res.stdout, "cryptogram      [REDACTED]") || strings.Contains(res.stdout, "level=") {
		t.Errorf("stdout should hold the credentials only:\n%s", res.stdout)
	}

	res = runCommand(t, fx.env, "", "get", "--retries", "10", sandbox.DemoVisaTokenID)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--retries is 10; use 0 for no retries, or up to 9") {
		t.Errorf("--retries 10: exit %d, stderr:\n%s", res.code, res.stderr)
	}
}
