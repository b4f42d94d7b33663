package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/internal/spec"
)

// result is what one run of the command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func runCommand(t *testing.T, environment map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(name string) string { return environment[name] },
	}
	code := run(context.Background(), a, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// sandboxFixture is a sandbox on loopback with one merchant, its MLE key in a file, and
// the environment variables that point `paycreds get` at it.
type sandboxFixture struct {
	env      map[string]string
	keyFile  string
	merchant sandbox.Merchant
}

func startSandbox(t *testing.T) sandboxFixture {
	t.Helper()
	merchant, key, err := sandbox.GenerateMerchant("cli_test_merchant")
	if err != nil {
		t.Fatal(err)
	}
	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Load()
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(sp.CheckingHandler(server, func(err error) { t.Errorf("sandbox response violates the spec: %v", err) }))
	t.Cleanup(httpServer.Close)

	keyFile := writeKey(t, key)
	return sandboxFixture{
		merchant: merchant,
		keyFile:  keyFile,
		env: map[string]string{
			envBaseURL:    httpServer.URL,
			envMerchantID: merchant.ID,
			envKeyID:      merchant.KeyID,
			envSecretKey:  merchant.SecretKey,
			envMLEKeyFile: keyFile,
		},
	}
}

func writeKey(t *testing.T, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mle-key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The demo and sandbox card data that must stay masked unless --reveal is given.
var demoNetworkTokens = []string{"4895370000000015", "5204240000000013", "374245000000017"}

// base64Cryptogram matches a 20-byte cryptogram in standard base64.
var base64Cryptogram = regexp.MustCompile(`[A-Za-z0-9+/]{27}=`)

func assertMasked(t *testing.T, output string) {
	t.Helper()
	for _, number := range demoNetworkTokens {
		if strings.Contains(output, number) {
			t.Errorf("output shows network token %s:\n%s", number, output)
		}
	}
	if base64Cryptogram.MatchString(output) {
		t.Errorf("output shows a cryptogram:\n%s", output)
	}
}

func TestDemoRunsEndToEnd(t *testing.T) {
	res := runCommand(t, nil, "", "demo")
	if res.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"127.0.0.1:", "****0015", "****0013", "cryptogram      [REDACTED]", "security code   [REDACTED]", "card number     ****5556", "410 Gone", "notAvailable", "correlation id"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, res.stdout)
		}
	}
	assertMasked(t, res.stdout+res.stderr)
}

func TestDemoRevealShowsNumbers(t *testing.T) {
	res := runCommand(t, nil, "", "demo", "--reveal")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "4895370000000015") || !base64Cryptogram.MatchString(res.stdout) {
		t.Errorf("--reveal output lacks the full network token or cryptogram:\n%s", res.stdout)
	}
}

func TestGetPrintsMaskedTable(t *testing.T) {
	fx := startSandbox(t)
	res := runCommand(t, fx.env, "", "get", sandbox.DemoVisaTokenID)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"Payment credentials (v2", "token type      visa", "network token   ****0015", "cryptogram      [REDACTED]", "ECI             07"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	assertMasked(t, res.stdout+res.stderr)
}

func TestGetFlagsOverrideEnvironment(t *testing.T) {
	fx := startSandbox(t)
	env := map[string]string{envSecretKey: fx.env[envSecretKey]}
	res := runCommand(t, env, "", "get",
		"--base-url", fx.env[envBaseURL], "--merchant-id", fx.merchant.ID, "--key-id", fx.merchant.KeyID,
		"--mle-key", fx.keyFile, "--api", "v3", "--type", "security_code",
		sandbox.DemoAmericanExpressTokenID, "--json")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var printed map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &printed); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, res.stdout)
	}
	card := printed["tokenizedCard"].(map[string]any)
	if card["type"] != "americanexpress" || card["securityCode"] != "[REDACTED]" || card["number"] != "****0017" {
		t.Errorf("tokenizedCard = %v", card)
	}
	assertMasked(t, res.stdout)
}

func TestGetRevealJSONPrintsPlaintext(t *testing.T) {
	fx := startSandbox(t)
	res := runCommand(t, fx.env, "", "get", "--json", "--reveal", sandbox.DemoVisaTokenID)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var printed struct {
		TokenizedCard struct{ Number, Cryptogram string } `json:"tokenizedCard"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &printed); err != nil {
		t.Fatal(err)
	}
	if printed.TokenizedCard.Number != "4895370000000015" || len(printed.TokenizedCard.Cryptogram) != 28 {
		t.Errorf("--reveal --json printed %+v", printed.TokenizedCard)
	}
}

func TestGetRawThenDecrypt(t *testing.T) {
	fx := startSandbox(t)
	env := map[string]string{}
	for k, v := range fx.env {
		if k != envMLEKeyFile {
			env[k] = v
		}
	}
	raw := runCommand(t, env, "", "get", "--raw", sandbox.DemoMastercardTokenID)
	if raw.code != exitOK {
		t.Fatalf("get --raw: exit %d: %s", raw.code, raw.stderr)
	}
	if parts := strings.Split(strings.TrimSpace(raw.stdout), "."); len(parts) != 5 {
		t.Fatalf("get --raw printed %d parts, want a compact JWE:\n%s", len(parts), raw.stdout)
	}

	decrypted := runCommand(t, nil, raw.stdout, "decrypt", "--key", fx.keyFile, "-")
	if decrypted.code != exitOK {
		t.Fatalf("decrypt: exit %d: %s", decrypted.code, decrypted.stderr)
	}
	if !strings.Contains(decrypted.stdout, "mastercard") || !strings.Contains(decrypted.stdout, "****0013") {
		t.Errorf("decrypt output:\n%s", decrypted.stdout)
	}
	assertMasked(t, decrypted.stdout)
}

func TestGetAPIErrorExitsOne(t *testing.T) {
	fx := startSandbox(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{sandbox.DemoDeletedTokenID}, []string{"410 Gone", "notAvailable", "correlation id", "unique transaction id"}},
		{[]string{"7030000000000099999"}, []string{"404 Not Found", "notFound"}},
		{[]string{"--type", "CRYPTOGRAM", sandbox.DemoAmericanExpressTokenID}, []string{"400 Bad Request", "invalidCombination"}},
	}
	for _, tc := range cases {
		res := runCommand(t, fx.env, "", append([]string{"get"}, tc.args...)...)
		if res.code != exitError {
			t.Errorf("%v: exit %d, want %d\n%s", tc.args, res.code, exitError, res.stderr)
		}
		for _, want := range tc.want {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, want, res.stderr)
			}
		}
	}
}

func TestGetWrongSecretExitsOne(t *testing.T) {
	fx := startSandbox(t)
	fx.env[envSecretKey] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	res := runCommand(t, fx.env, "", "get", sandbox.DemoVisaTokenID)
	if res.code != exitError || !strings.Contains(res.stderr, "401 Unauthorized") || !strings.Contains(res.stderr, "Authentication Failed") {
		t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stderr, fx.env[envSecretKey]) {
		t.Error("the error output shows the secret")
	}
}

func TestGetUsageErrorsExitTwo(t *testing.T) {
	fx := startSandbox(t)
	without := func(name string) map[string]string {
		env := map[string]string{}
		for k, v := range fx.env {
			if k != name {
				env[k] = v
			}
		}
		return env
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no token id", fx.env, nil, "expected one TOKEN_ID"},
		{"two token ids", fx.env, []string{"a", "b"}, "expected one TOKEN_ID"},
		{"bad api", fx.env, []string{"--api", "v4", "x"}, `--api is "v4"`},
		{"bad env", without(envBaseURL), []string{"--env", "staging", "x"}, `unknown environment "staging"`},
		{"no merchant", without(envMerchantID), []string{"x"}, envMerchantID},
		{"no key id", without(envKeyID), []string{"x"}, envKeyID},
		{"no secret", without(envSecretKey), []string{"x"}, envSecretKey},
		{"no MLE key", without(envMLEKeyFile), []string{"x"}, "--mle-key"},
		{"missing MLE key file", fx.env, []string{"--mle-key", "/nonexistent/key.pem", "x"}, "/nonexistent/key.pem"},
		{"invalid token id", fx.env, []string{"../etc"}, "tokenId contains '.'"},
		{"long token id", fx.env, []string{strings.Repeat("1", 33)}, "33 characters"},
		{"invalid type", fx.env, []string{"--type", "CVV", "x"}, "paymentCredentialType"},
		{"invalid profile id", fx.env, []string{"--profile-id", "abc", "x"}, "profile id"},
		{"plain http to a remote host", fx.env, []string{"--base-url", "http://example.com", "x"}, "loopback"},
		{"unknown flag", fx.env, []string{"--secret", "abc", "x"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runCommand(t, tc.env, "", append([]string{"get"}, tc.args...)...)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
			}
		})
	}
}

func TestDecryptFixture(t *testing.T) {
	res := runCommand(t, nil, "", "decrypt", "--key", "testdata/mle-private-key.pem", "testdata/v2-visa-cryptogram.jwe")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "****3175") || strings.Contains(res.stdout, "4895370015293175") {
		t.Errorf("output:\n%s", res.stdout)
	}

	env := map[string]string{envMLEKeyFile: "testdata/mle-private-key.encrypted.pem", envMLEKeyPassword: "fixture-password"}
	res = runCommand(t, env, "", "decrypt", "--json", "--reveal", "testdata/v2-visa-cryptogram.jwe")
	if res.code != exitOK {
		t.Fatalf("encrypted key: exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, `"number": "4895370015293175"`) {
		t.Errorf("--json --reveal output:\n%s", res.stdout)
	}
}

func TestDecryptErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"wrong key", nil, []string{"--key", "testdata/mle-private-key.pem", "testdata/wrong-key.jwe"}, exitError, "JWE decryption failed"},
		{"not a JWE", nil, []string{"--key", "testdata/mle-private-key.pem", "testdata/mle-private-key.pem"}, exitError, "malformed JWE"},
		{"no key", nil, []string{"testdata/v2-visa-cryptogram.jwe"}, exitUsage, "--key"},
		{"no password", nil, []string{"--key", "testdata/mle-private-key.encrypted.pem", "testdata/v2-visa-cryptogram.jwe"}, exitUsage, "--key testdata/mle-private-key.encrypted.pem: the key is encrypted; set " + envMLEKeyPassword},
		{"wrong password", map[string]string{envMLEKeyPassword: "nope"}, []string{"--key", "testdata/mle-private-key.encrypted.pem", "testdata/v2-visa-cryptogram.jwe"}, exitUsage, "password"},
		{"missing input", nil, []string{"--key", "testdata/mle-private-key.pem", "testdata/none.jwe"}, exitUsage, "none.jwe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runCommand(t, tc.env, "", append([]string{"decrypt"}, tc.args...)...)
			if res.code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", res.code, tc.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
			}
		})
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	for _, command := range []string{"get", "decrypt", "demo"} {
		res := runCommand(t, nil, "", command, "-h")
		if res.code != exitOK || !strings.Contains(res.stdout, "Usage: paycreds "+command) || res.stderr != "" {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q", command, res.code, res.stdout, res.stderr)
		}
	}
	res := runCommand(t, nil, "", "get", "--no-such-flag")
	if res.code != exitUsage || !strings.Contains(res.stderr, "no-such-flag") || res.stdout != "" {
		t.Errorf("unknown flag: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

func TestDemoRejectsArguments(t *testing.T) {
	res := runCommand(t, nil, "", "demo", "extra")
	if res.code != exitUsage || !strings.Contains(res.stderr, "no arguments") {
		t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
}

func TestUnknownCommandExitsTwo(t *testing.T) {
	res := runCommand(t, nil, "", "fetch")
	if res.code != exitUsage || !strings.Contains(res.stderr, `unknown command "fetch"`) {
		t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if res := runCommand(t, nil, ""); res.code != exitUsage {
		t.Errorf("no command: exit %d", res.code)
	}
	if res := runCommand(t, nil, "", "help"); res.code != exitOK || !strings.Contains(res.stdout, "decrypt") {
		t.Errorf("help: exit %d, stdout:\n%s", res.code, res.stdout)
	}
}

// independentVerifier is a CyberSource stand-in that checks HTTP Signature with its own
// code, written from the published rules rather than with this project's signer, and
// returns 201 with a JWE made by go-jose.
type independentVerifier struct {
	t          *testing.T
	merchantID string
	keyID      string
	secret     []byte
	mleKey     *rsa.PublicKey

	mu       sync.Mutex
	accepted int
}

func (v *independentVerifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if problem := v.check(r, body); problem != "" {
		v.t.Errorf("independent verifier rejected the request: %s", problem)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"response":{"rmsg":"Authentication Failed"}}`)
		return
	}
	v.mu.Lock()
	v.accepted++
	v.mu.Unlock()

	encrypter, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: v.mleKey, KeyID: "independent"}, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	object, err := encrypter.Encrypt([]byte(`{"tokenizedCard":{"type":"visa","number":"4895370000000015","cryptogram":"AwAAAAAAWx6z/7YAAAAAgBcAAAA=","eci":"07"}}`))
	if err != nil {
		v.t.Fatal(err)
	}
	compact, _ := object.CompactSerialize()
	w.Header().Set("Content-Type", "application/jose;charset=utf-8")
	w.Header().Set("v-c-correlation-id", "independent-correlation")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, compact)
}

func (v *independentVerifier) check(r *http.Request, body []byte) string {
	sum := sha256.Sum256(body)
	digest := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
	if r.Header.Get("Digest") != digest {
		return "digest does not match the body"
	}
	if r.Header.Get("V-C-Merchant-Id") != v.merchantID {
		return "wrong v-c-merchant-id"
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil || time.Since(date).Abs() > 5*time.Minute {
		return "date missing or out of range"
	}
	signingString := "host: " + r.Host + "\ndate: " + r.Header.Get("Date") + "\nrequest-target: post " + r.URL.EscapedPath() +
		"\ndigest: " + digest + "\nv-c-merchant-id: " + v.merchantID
	mac := hmac.New(sha256.New, v.secret)
	mac.Write([]byte(signingString))
	want := `keyid="` + v.keyID + `", algorithm="HmacSHA256", headers="host date request-target digest v-c-merchant-id", signature="` +
		base64.StdEncoding.EncodeToString(mac.Sum(nil)) + `"`
	if r.Header.Get("Signature") != want {
		return "signature header differs: " + r.Header.Get("Signature")
	}
	if r.Header.Get("Content-Type") != "application/json;charset=utf-8" || r.Header.Get("Accept") != "application/jose;charset=utf-8" {
		return "wrong content type or accept header"
	}
	return ""
}

func TestGetAcceptedByIndependentVerifier(t *testing.T) {
	merchant, key, err := sandbox.GenerateMerchant("independent_merchant")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := base64.StdEncoding.DecodeString(merchant.SecretKey)
	verifier := &independentVerifier{t: t, merchantID: merchant.ID, keyID: merchant.KeyID, secret: secret, mleKey: &key.PublicKey}
	server := httptest.NewServer(verifier)
	defer server.Close()

	env := map[string]string{
		envBaseURL: server.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID,
		envSecretKey: merchant.SecretKey, envMLEKeyFile: writeKey(t, key),
	}
	for _, args := range [][]string{{"get", "7030000000000011111"}, {"get", "--api", "v3", "F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6"}} {
		res := runCommand(t, env, "", args...)
		if res.code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, res.code, res.stderr)
		}
		if !strings.Contains(res.stdout, "****0015") || !strings.Contains(res.stdout, "independent-correlation") {
			t.Errorf("%v: output:\n%s", args, res.stdout)
		}
	}
	if verifier.accepted != 2 {
		t.Errorf("the verifier accepted %d requests, want 2", verifier.accepted)
	}
}
