package tokenapi_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// secretSet is every value that must not appear in any output, each with a label that
// names it in a failure without printing it.
type secretSet struct {
	mu     sync.Mutex
	values map[string]string // value to label
}

func (s *secretSet) add(label, value string) {
	if value == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]string{}
	}
	s.values[value] = label
}

// addSharedSecret adds a base64 shared secret, its decoded bytes and their hex and
// base64url forms.
func (s *secretSet) addSharedSecret(label, secret string) {
	s.add(label+" (base64)", secret)
	decoded, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		panic(err)
	}
	s.add(label+" (decoded bytes)", string(decoded))
	s.add(label+" (hex)", hex.EncodeToString(decoded))
	s.add(label+" (base64url)", base64.RawURLEncoding.EncodeToString(decoded))
}

// addPrivateKey adds the base64 lines of the key's PKCS#8 PEM, the hex of its DER, and
// the decimal and hex forms of its private exponent and primes, which fmt prints for a
// *rsa.PrivateKey.
func (s *secretSet) addPrivateKey(label string, key *rsa.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	encoded := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for i, line := range strings.Split(string(encoded), "\n") {
		if len(line) == 64 {
			s.add(fmt.Sprintf("%s PEM line %d", label, i), line)
		}
	}
	s.add(label+" DER (hex)", hex.EncodeToString(der[len(der)/2:len(der)/2+32]))
	s.add(label+" private exponent", key.D.String())
	s.add(label+" private exponent (hex)", key.D.Text(16))
	for i, prime := range key.Primes {
		s.add(fmt.Sprintf("%s prime %d", label, i), prime.String())
	}
}

// check fails the test for each secret found in output, which came from source. A short
// number, such as a 3- or 4-digit security code, counts only where no digit adjoins it,
// because it occurs by chance inside longer numbers such as a key's primes.
func (s *secretSet) check(t *testing.T, source, output string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for value, label := range s.values {
		if containsSecret(output, value) {
			t.Errorf("%s contains the %s", source, label)
		}
	}
}

func containsSecret(output, value string) bool {
	if len(value) >= 8 || strings.Trim(value, "0123456789") != "" {
		return strings.Contains(output, value)
	}
	isDigit := func(s string, i int) bool { return i >= 0 && i < len(s) && s[i] >= '0' && s[i] <= '9' }
	for start := 0; ; {
		i := strings.Index(output[start:], value)
		if i < 0 {
			return false
		}
		i += start
		if !isDigit(output, i-1) && !isDigit(output, i+len(value)) {
			return true
		}
		start = i + 1
	}
}

// outputs collects everything the library wrote or returned, by source.
type outputs struct {
	mu    sync.Mutex
	texts map[string][]string
}

func (o *outputs) add(source string, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.texts == nil {
		o.texts = map[string][]string{}
	}
	o.texts[source] = append(o.texts[source], text)
}

// addValue records a value under every fmt verb that prints structure, and as slog
// records in text and JSON.
func (o *outputs) addValue(source string, value any) {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		o.add(source+" "+verb, fmt.Sprintf(verb, value))
	}
	var records bytes.Buffer
	logger := slog.New(slog.NewMultiHandler(slog.NewTextHandler(&records, nil), slog.NewJSONHandler(&records, nil)))
	logger.Info("value", "value", value)
	o.add(source+" slog", records.String())
}

// addError records an error's message and its fmt forms, with the chain unwrapped.
func (o *outputs) addError(source string, err error) {
	if err == nil {
		return
	}
	o.add(source+" Error()", err.Error())
	o.addValue(source+" error", err)
	for cause := errors.Unwrap(err); cause != nil; cause = errors.Unwrap(cause) {
		o.add(source+" cause", cause.Error())
	}
}

// redactionFront is the handler in front of the sandbox. It records every credential
// header the client sends, and for calls whose correlation id starts with "fault-" it
// sends the response that faults names in place of the sandbox's.
type redactionFront struct {
	next    http.Handler
	secrets *secretSet
	faults  map[string]http.HandlerFunc

	mu   sync.Mutex
	seen map[string]bool
}

func (f *redactionFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if signature := r.Header.Get("signature"); signature != "" {
		f.secrets.add("signature header", signature)
		if _, value, ok := strings.Cut(signature, `signature="`); ok {
			f.secrets.add("signature value", strings.TrimSuffix(value, `"`))
		}
	}
	f.secrets.add("authorization header", r.Header.Get("Authorization"))

	id := r.Header.Get("v-c-correlation-id")
	if fault, ok := f.faults[strings.TrimPrefix(id, "fault-")]; ok && strings.HasPrefix(id, "fault-") {
		f.mu.Lock()
		first := !f.seen[id]
		f.seen[id] = true
		f.mu.Unlock()
		// "flaky" faults fail only the first attempt.
		if first || !strings.HasPrefix(id, "fault-flaky") {
			_, _ = io.ReadAll(r.Body)
			fault(w, r)
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

func respondWith(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// encryptForTest encrypts plaintext to key as CyberSource does.
func encryptForTest(t *testing.T, key *rsa.PublicKey, kid, plaintext string) string {
	t.Helper()
	encrypter, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: key, KeyID: kid}, nil)
	if err != nil {
		t.Fatal(err)
	}
	object, err := encrypter.Encrypt([]byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := object.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return compact
}

// TestNothingSecretInAnyOutput drives every path of the library with debug logging on:
// successes of both versions and both forms, every error status, every decryption
// failure, retries, transport failures, timeouts, invalid input and key loading. It
// collects the logs, every error under every fmt verb and every returned value. None may
// contain the shared secret, private key material, a signature or bearer header, a
// network token, a PAN, a cryptogram, a security code or a whole token id.
func TestNothingSecretInAnyOutput(t *testing.T) {
	secrets := &secretSet{}
	var out outputs

	merchant, mleKey, err := sandbox.GenerateMerchant("redaction_test")
	if err != nil {
		t.Fatal(err)
	}
	const allowedProfile = "93B32398-AD51-4CC2-A682-EA3E93614EB1"
	merchant.ProfileIDs = []string{allowedProfile}
	secrets.addSharedSecret("shared secret", merchant.SecretKey)
	secrets.addPrivateKey("MLE private key", mleKey)
	tokens := sandbox.DemoTokens()
	for _, token := range tokens {
		secrets.add("network token of "+token.ID, token.NetworkTokenNumber)
		secrets.add("PAN of "+token.ID, token.PAN)
	}

	otherKey := generateTestKey(t)
	secrets.addPrivateKey("second MLE private key", otherKey)
	cardJSON := `{"tokenizedCard":{"number":"4895370000000015","cryptogram":"AceY+igABPs3jdwNaDg3MAACAAA=","securityCode":"4471"},"card":{"number":"4111111111111111"}}`
	secrets.add("cryptogram in a crafted payload", "AceY+igABPs3jdwNaDg3MAACAAA=")
	secrets.add("security code in a crafted payload", "4471")
	validJWE := encryptForTest(t, &mleKey.PublicKey, "kid-1", cardJSON)
	faults := map[string]http.HandlerFunc{
		"409":               respondWith(http.StatusConflict, "application/json", `{"errors":[{"type":"conflict","message":"Token linked to a payment instrument"}]}`),
		"429":               respondWith(http.StatusTooManyRequests, "application/json", `{"errors":[{"type":"tooManyRequests","message":"slow down"}]}`),
		"500":               respondWith(http.StatusInternalServerError, "application/json", `{"errors":[{"type":"internalError","message":"Internal error"}]}`),
		"502":               respondWith(http.StatusBadGateway, "text/html", "<html><body>Bad gateway</body></html>"),
		"504":               respondWith(http.StatusGatewayTimeout, "", ""),
		"flaky-503":         respondWith(http.StatusServiceUnavailable, "application/json", `{"errors":[{"type":"serverError","message":"try again"}]}`),
		"200":               respondWith(http.StatusOK, "application/jose", validJWE),
		"json-201":          respondWith(http.StatusCreated, "application/json", cardJSON),
		"malformed-201":     respondWith(http.StatusCreated, "application/jose", "a.b.c.d.e"),
		"alg-201":           respondWith(http.StatusCreated, "application/jose", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RSA1_5","enc":"A256GCM"}`))+validJWE[strings.Index(validJWE, "."):]),
		"other-key-201":     respondWith(http.StatusCreated, "application/jose", encryptForTest(t, &otherKey.PublicKey, "kid-other", cardJSON)),
		"unknown-kid-201":   respondWith(http.StatusCreated, "application/jose", encryptForTest(t, &otherKey.PublicKey, "kid-unknown", cardJSON)),
		"bad-payload-201":   respondWith(http.StatusCreated, "application/jose", encryptForTest(t, &mleKey.PublicKey, "kid-1", `{"tokenizedCard":{"number":4895370000000015,"cryptogram":"AceY+igABPs3jdwNaDg3MAACAAA="}}`)),
		"array-payload-201": respondWith(http.StatusCreated, "application/jose", encryptForTest(t, &mleKey.PublicKey, "kid-1", `["4111111111111111","AceY+igABPs3jdwNaDg3MAACAAA="]`)),
		"cut-201": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "5000")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, validJWE[:200])
			controller := http.NewResponseController(w)
			_ = controller.Flush()
			if conn, _, err := controller.Hijack(); err == nil {
				_ = conn.Close()
			}
		},
		"hang": func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	}

	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	front := &redactionFront{next: server, secrets: secrets, faults: faults, seen: map[string]bool{}}
	httpServer := httptest.NewServer(front)
	defer httpServer.Close()

	var logs lockedBuffer
	logger := slog.New(slog.NewMultiHandler(
		slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	))
	retry := tokenapi.WithRetry(tokenapi.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	newClient := func(secret string, opts ...tokenapi.Option) *tokenapi.Client {
		client, err := tokenapi.New(append([]tokenapi.Option{
			tokenapi.WithBaseURL(httpServer.URL),
			tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, secret),
			tokenapi.WithLogger(logger),
			retry,
		}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		out.addValue("client", client)
		return client
	}
	client := newClient(merchant.SecretKey, tokenapi.WithMLEKey(mleKey))
	twoKeys := newClient(merchant.SecretKey, tokenapi.WithMLEKeys(tokenapi.MLEKey{KeyID: "kid-1", Key: mleKey}, tokenapi.MLEKey{KeyID: "kid-2", Key: otherKey}))
	wrongSecret := base64.StdEncoding.EncodeToString([]byte("a wrong shared secret of 32 byte"))
	secrets.addSharedSecret("wrong shared secret", wrongSecret)
	unauthenticated := newClient(wrongSecret, tokenapi.WithMLEKey(mleKey))
	impatient := newClient(merchant.SecretKey, tokenapi.WithMLEKey(mleKey), tokenapi.WithTimeout(20*time.Millisecond))

	ctx := context.Background()
	fault := func(name string) tokenapi.CallOption { return tokenapi.WithCorrelationID("fault-" + name) }
	cryptogram := &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}
	calls := []redactionCall{
		{name: "v2 visa", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID},
		{name: "v2 mastercard", client: client, version: 2, tokenID: sandbox.DemoMastercardTokenID, request: cryptogram},
		{name: "v3 amex", client: client, version: 3, tokenID: sandbox.DemoAmericanExpressTokenID},
		{name: "v3 card details", client: client, version: 3, tokenID: sandbox.DemoNoNetworkTokenID},
		{name: "v2 JWE", client: client, version: 2, jwe: true, tokenID: sandbox.DemoVisaTokenID},
		{name: "v3 JWE", client: client, version: 3, jwe: true, tokenID: sandbox.DemoAmericanExpressTokenID},
		{name: "allowed profile", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{tokenapi.WithProfileID(allowedProfile)}},
		{name: "400", client: client, version: 2, tokenID: sandbox.DemoAmericanExpressTokenID, request: cryptogram},
		{name: "401", client: unauthenticated, version: 2, tokenID: sandbox.DemoVisaTokenID},
		{name: "403", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{tokenapi.WithProfileID("00000000-0000-0000-0000-000000000000")}},
		{name: "404", client: client, version: 3, tokenID: "7030000000000099999"},
		{name: "410", client: client, version: 2, tokenID: sandbox.DemoDeletedTokenID},
		{name: "409", client: client, version: 3, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("409")}},
		{name: "429 retried", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("429")}},
		{name: "500", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("500")}},
		{name: "502 HTML retried", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("502")}},
		{name: "503 then success", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("flaky-503")}},
		{name: "504 empty", client: client, version: 3, jwe: true, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("504")}},
		{name: "200 with a JWE", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("200")}},
		{name: "201 with card JSON", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("json-201")}},
		{name: "malformed JWE", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("malformed-201")}},
		{name: "unsupported alg", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("alg-201")}},
		{name: "encrypted to another key", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("other-key-201")}},
		{name: "unknown kid", client: twoKeys, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("unknown-kid-201")}},
		{name: "payload of wrong types", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("bad-payload-201")}},
		{name: "payload not an object", client: client, version: 3, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("array-payload-201")}},
		{name: "201 cut mid-body", client: client, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("cut-201")}},
		{name: "timeout", client: impatient, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: []tokenapi.CallOption{fault("hang")}},
		{name: "invalid input", client: client, version: 2, tokenID: "../" + sandbox.DemoVisaTokenID},
	}

	succeeded := driveRedactionCalls(t, ctx, calls, client, &out, secrets)
	if succeeded != 8 {
		t.Errorf("%d calls succeeded, want 8", succeeded)
	}

	// Transport failures and local failures.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	refused, err := tokenapi.New(tokenapi.WithBaseURL(closed.URL), tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, merchant.SecretKey), tokenapi.WithLogger(logger), retry)
	if err != nil {
		t.Fatal(err)
	}
	_, err = refused.GeneratePaymentCredentialsJWE(ctx, sandbox.DemoVisaTokenID, nil)
	out.addError("connection refused", err)
	_, err = client.Decrypt(encryptForTest(t, &otherKey.PublicKey, "kid-other", cardJSON))
	out.addError("Decrypt with the wrong key", err)
	decrypter, err := tokenapi.NewDecrypter([]tokenapi.MLEKey{{KeyID: "kid-1", Key: mleKey}}, tokenapi.DecrypterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out.addValue("decrypter", decrypter)
	out.addValue("MLE key entry", tokenapi.MLEKey{KeyID: "kid-1", Key: mleKey})
	encodedKey, err := json.Marshal([]tokenapi.MLEKey{{KeyID: "kid-1", Key: mleKey}})
	if err != nil {
		t.Fatal(err)
	}
	out.add("MLE key entry JSON", string(encodedKey))

	// Key loading failures.
	der, err := x509.MarshalPKCS8PrivateKey(mleKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	_, err = tokenapi.ParseMLEKey(keyPEM[:len(keyPEM)/2], nil)
	out.addError("truncated PEM", err)
	_, err = tokenapi.ParseMLEKey(bytes.Replace(keyPEM, []byte("PRIVATE KEY"), []byte("PUBLIC KEY"), 2), nil)
	out.addError("PEM of the wrong type", err)
	encrypted, err := os.ReadFile("testdata/mle-private-key.encrypted.pem")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tokenapi.ParseMLEKey(encrypted, []byte("not the password"))
	out.addError("wrong password", err)
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, keyPEM[:len(keyPEM)-40], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = tokenapi.LoadMLEKeyFile(path, nil)
	out.addError("LoadMLEKeyFile of a cut file", err)
	_, err = tokenapi.New(tokenapi.WithBaseURL(httpServer.URL), tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, merchant.SecretKey+"!"))
	out.addError("New with a mangled secret", err)
	secrets.add("mangled shared secret", merchant.SecretKey+"!")

	out.add("log", logs.String())
	if !strings.Contains(logs.String(), "tokenapi retry") || !strings.Contains(logs.String(), "level=DEBUG") {
		t.Error("the logs lack retry or debug records; the test no longer drives those paths")
	}

	out.mu.Lock()
	defer out.mu.Unlock()
	for source, texts := range out.texts {
		for _, text := range texts {
			secrets.check(t, source, text)
			for _, token := range tokens {
				if strings.Contains(text, token.ID) {
					t.Errorf("%s contains the whole token id %s", source, token.ID)
				}
			}
		}
	}
	if len(out.texts) < 100 {
		t.Errorf("only %d outputs were collected; the test no longer drives every path", len(out.texts))
	}
}

// generateTestKey returns a fresh RSA-2048 key.
// redactionCall is one call a redaction test makes.
type redactionCall struct {
	name    string
	client  *tokenapi.Client
	version int
	jwe     bool
	tokenID string
	request *tokenapi.PaymentCredentialsRequest
	opts    []tokenapi.CallOption
}

// driveRedactionCalls makes each call, records its error or its printed result in out,
// and adds the card data of each success to secrets, opening a returned JWE with
// decrypter. It returns the number of calls that succeeded.
func driveRedactionCalls(t *testing.T, ctx context.Context, calls []redactionCall, decrypter *tokenapi.Client, out *outputs, secrets *secretSet) int {
	t.Helper()
	succeeded := 0
	for _, c := range calls {
		var value any
		var err error
		switch {
		case c.jwe && c.version == 3:
			value, err = c.client.GeneratePaymentCredentialsV3JWE(ctx, c.tokenID, c.request, c.opts...)
		case c.jwe:
			value, err = c.client.GeneratePaymentCredentialsJWE(ctx, c.tokenID, c.request, c.opts...)
		case c.version == 3:
			value, err = c.client.GeneratePaymentCredentialsV3(ctx, c.tokenID, c.request, c.opts...)
		default:
			value, err = c.client.GeneratePaymentCredentials(ctx, c.tokenID, c.request, c.opts...)
		}
		if err != nil {
			out.addError(c.name, err)
			continue
		}
		succeeded++
		out.addValue(c.name+" result", value)
		switch v := value.(type) {
		case *tokenapi.PaymentCredentials:
			secrets.add(c.name+" cryptogram", v.TokenizedCard.Cryptogram.Reveal())
			secrets.add(c.name+" security code", v.TokenizedCard.SecurityCode.Reveal())
			secrets.add(c.name+" card number", v.Card.Number.Reveal())
			secrets.add(c.name+" network token", v.TokenizedCard.Number.Reveal())
		case *tokenapi.EncryptedPaymentCredentials:
			creds, err := decrypter.Decrypt(v.JWE)
			if err != nil {
				t.Fatalf("%s: decrypting the JWE: %v", c.name, err)
			}
			secrets.add(c.name+" cryptogram", creds.TokenizedCard.Cryptogram.Reveal())
			secrets.add(c.name+" security code", creds.TokenizedCard.SecurityCode.Reveal())
			out.addValue(c.name+" decrypted", creds)
		}
	}
	return succeeded
}

func generateTestKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	_, key, err := sandbox.GenerateMerchant("key_only")
	if err != nil {
		t.Fatal(err)
	}
	return key
}
