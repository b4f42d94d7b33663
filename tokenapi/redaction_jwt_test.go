package tokenapi_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// bearerRecorder adds every bearer token the client sends to the secrets, whole and by
// its JWS signature, and passes the request on.
type bearerRecorder struct {
	next    http.Handler
	secrets *secretSet
}

func (b *bearerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		b.secrets.add("bearer token", token)
		if i := strings.LastIndex(token, "."); i >= 0 {
			b.secrets.add("JWS signature", token[i+1:])
		}
	}
	b.next.ServeHTTP(w, r)
}

// addP12 adds the P12 file's bytes, in the forms a careless message might print them,
// and its password.
func (s *secretSet) addP12(label string, data []byte, password string) {
	s.add(label+" password", password)
	s.add(label+" (base64)", base64.StdEncoding.EncodeToString(data)[:64])
	s.add(label+" (hex)", hex.EncodeToString(data[len(data)/2:len(data)/2+32]))
}

// TestNothingSecretInJWTOutput drives JWT authentication with a P12 key and with the
// shared secret, request and response encryption, encrypted error bodies, retries and
// broken encrypted responses, with debug logging on. No log, error or printed value may
// contain a bearer token, a JWS signature, P12 key material, the P12 password, the
// shared secret, the MLE key, card data or a whole token id.
func TestNothingSecretInJWTOutput(t *testing.T) {
	secrets := &secretSet{}
	var out outputs

	merchant, mleKey, err := sandbox.GenerateMerchant("redaction_jwt")
	if err != nil {
		t.Fatal(err)
	}
	cert, certKey, err := sandbox.GenerateCertificate(merchant.ID)
	if err != nil {
		t.Fatal(err)
	}
	merchant.Certificates = []*x509.Certificate{cert}
	mleKeyID, err := sandbox.MLEKeyID(&mleKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	const p12Password = "Redaction-P12-Passw0rd"
	p12Data, err := sandbox.EncodeP12(certKey, cert, requestKey.Certificate, p12Password)
	if err != nil {
		t.Fatal(err)
	}
	p12, err := tokenapi.ParseP12(p12Data, merchant.ID, p12Password)
	if err != nil {
		t.Fatal(err)
	}

	// A P12 key the sandbox does not know, for 401s.
	strangerCert, strangerKey, err := sandbox.GenerateCertificate(merchant.ID)
	if err != nil {
		t.Fatal(err)
	}
	strangerData, err := sandbox.EncodeP12(strangerKey, strangerCert, nil, p12Password)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := tokenapi.ParseP12(strangerData, merchant.ID, p12Password)
	if err != nil {
		t.Fatal(err)
	}

	secrets.addSharedSecret("shared secret", merchant.SecretKey)
	secrets.addPrivateKey("MLE private key", mleKey)
	secrets.addPrivateKey("P12 private key", certKey)
	secrets.addPrivateKey("unregistered P12 private key", strangerKey)
	secrets.addPrivateKey("request-encryption private key", requestKey.PrivateKey)
	secrets.addP12("P12 file", p12Data, p12Password)
	tokens := sandbox.DemoTokens()
	for _, token := range tokens {
		secrets.add("network token of "+token.ID, token.NetworkTokenNumber)
		secrets.add("PAN of "+token.ID, token.PAN)
	}

	cardJSON := `{"tokenizedCard":{"number":"4895370000000015","cryptogram":"AceY+igABPs3jdwNaDg3MAACAAA=","securityCode":"4471"},"card":{"number":"4111111111111111"}}`
	secrets.add("cryptogram in a crafted payload", "AceY+igABPs3jdwNaDg3MAACAAA=")
	secrets.add("security code in a crafted payload", "4471")
	otherKey := generateTestKey(t)
	secrets.addPrivateKey("second MLE private key", otherKey)
	wrap := func(compact string) string {
		body, _ := json.Marshal(map[string]string{"encryptedResponse": compact})
		return string(body)
	}
	faults := map[string]http.HandlerFunc{
		"flaky-503":           respondWith(http.StatusServiceUnavailable, "application/json", wrap(encryptForTest(t, &mleKey.PublicKey, mleKeyID, `{"errors":[{"type":"serverError","message":"try again"}]}`))),
		"500-encrypted":       respondWith(http.StatusInternalServerError, "application/json", wrap(encryptForTest(t, &mleKey.PublicKey, mleKeyID, `{"errors":[{"type":"internalError","message":"Internal error"}]}`))),
		"garbage-encrypted":   respondWith(http.StatusBadRequest, "application/json", wrap("a.b.c.d.e")),
		"other-key-encrypted": respondWith(http.StatusCreated, "application/json", wrap(encryptForTest(t, &otherKey.PublicKey, mleKeyID, cardJSON))),
		"card-json-inside":    respondWith(http.StatusCreated, "application/json", wrap(encryptForTest(t, &mleKey.PublicKey, mleKeyID, cardJSON))),
		"plain-201":           respondWith(http.StatusCreated, "application/json", cardJSON),
		"hang":                func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	}

	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: tokens, RequestEncryption: requestKey})
	if err != nil {
		t.Fatal(err)
	}
	front := &redactionFront{next: server, secrets: secrets, faults: faults, seen: map[string]bool{}}
	httpServer := httptest.NewServer(&bearerRecorder{next: front, secrets: secrets})
	defer httpServer.Close()

	var logs lockedBuffer
	logger := slog.New(slog.NewMultiHandler(
		slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	))
	retry := tokenapi.WithRetry(tokenapi.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	newClient := func(opts ...tokenapi.Option) *tokenapi.Client {
		client, err := tokenapi.New(append([]tokenapi.Option{
			tokenapi.WithBaseURL(httpServer.URL),
			tokenapi.WithMLEKeys(tokenapi.MLEKey{KeyID: mleKeyID, Key: mleKey}),
			tokenapi.WithLogger(logger),
			retry,
		}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		out.addValue("client", client)
		return client
	}
	bothEncryptions := []tokenapi.Option{tokenapi.WithRequestEncryption(requestKey.Certificate), tokenapi.WithResponseEncryption(mleKeyID)}
	p12Both := newClient(append([]tokenapi.Option{tokenapi.WithP12JWT(merchant.ID, p12)}, bothEncryptions...)...)
	p12NodeClaims := newClient(append([]tokenapi.Option{tokenapi.WithP12JWT(merchant.ID, p12), tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK)}, bothEncryptions...)...)
	p12RequestOnly := newClient(tokenapi.WithP12JWT(merchant.ID, p12), tokenapi.WithRequestEncryption(p12.CyberSourceCertificate))
	sharedBoth := newClient(append([]tokenapi.Option{tokenapi.WithSharedSecretJWT(merchant.ID, merchant.KeyID, merchant.SecretKey)}, bothEncryptions...)...)
	unregistered := newClient(append([]tokenapi.Option{tokenapi.WithP12JWT(merchant.ID, stranger)}, bothEncryptions...)...)
	wrongSecret := base64.StdEncoding.EncodeToString([]byte("a wrong shared secret of 32 byte"))
	secrets.addSharedSecret("wrong shared secret", wrongSecret)
	wrongSecretJWT := newClient(tokenapi.WithSharedSecretJWT(merchant.ID, merchant.KeyID, wrongSecret), tokenapi.WithResponseEncryption(mleKeyID))
	impatient := newClient(append([]tokenapi.Option{tokenapi.WithP12JWT(merchant.ID, p12), tokenapi.WithTimeout(20 * time.Millisecond)}, bothEncryptions...)...)

	ctx := context.Background()
	fault := func(name string) []tokenapi.CallOption {
		return []tokenapi.CallOption{tokenapi.WithCorrelationID("fault-" + name)}
	}
	cryptogram := &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}
	calls := []redactionCall{
		{name: "P12 v2 both encryptions", client: p12Both, version: 2, tokenID: sandbox.DemoVisaTokenID},
		{name: "P12 v3 card details", client: p12Both, version: 3, tokenID: sandbox.DemoNoNetworkTokenID},
		{name: "P12 Node claims", client: p12NodeClaims, version: 3, tokenID: sandbox.DemoAmericanExpressTokenID},
		{name: "P12 request encryption only", client: p12RequestOnly, version: 2, tokenID: sandbox.DemoMastercardTokenID, request: cryptogram},
		{name: "shared secret both encryptions", client: sharedBoth, version: 2, tokenID: sandbox.DemoVisaTokenID},
		{name: "P12 JWE", client: p12Both, version: 2, jwe: true, tokenID: sandbox.DemoVisaTokenID},
		{name: "shared secret v3 JWE", client: sharedBoth, version: 3, jwe: true, tokenID: sandbox.DemoAmericanExpressTokenID},
		{name: "encrypted 410", client: p12Both, version: 2, tokenID: sandbox.DemoDeletedTokenID},
		{name: "encrypted 404", client: sharedBoth, version: 3, tokenID: "7030000000000099999"},
		{name: "encrypted 400", client: p12Both, version: 2, tokenID: sandbox.DemoAmericanExpressTokenID, request: cryptogram},
		{name: "401 unregistered P12", client: unregistered, version: 2, tokenID: sandbox.DemoVisaTokenID},
		{name: "401 wrong shared secret", client: wrongSecretJWT, version: 2, tokenID: sandbox.DemoVisaTokenID},
		{name: "encrypted 503 then success", client: p12Both, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: fault("flaky-503")},
		{name: "encrypted 500", client: p12Both, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: fault("500-encrypted")},
		{name: "undecryptable error body", client: p12Both, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: fault("garbage-encrypted")},
		{name: "response encrypted to another key", client: p12Both, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: fault("other-key-encrypted")},
		{name: "card JSON inside encryptedResponse", client: p12Both, version: 3, tokenID: sandbox.DemoVisaTokenID, opts: fault("card-json-inside")},
		{name: "plain 201 when encryption was requested", client: p12Both, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: fault("plain-201")},
		{name: "timeout", client: impatient, version: 2, tokenID: sandbox.DemoVisaTokenID, opts: fault("hang")},
		{name: "invalid input", client: p12Both, version: 2, tokenID: "../" + sandbox.DemoVisaTokenID},
	}

	succeeded := driveRedactionCalls(t, ctx, calls, p12Both, &out, secrets)
	if succeeded != 8 {
		t.Errorf("%d calls succeeded, want 8", succeeded)
	}

	// P12 loading and option failures, and the P12 printed.
	out.addValue("P12", p12)
	_, err = tokenapi.ParseP12(p12Data, merchant.ID, "not-the-password")
	out.addError("ParseP12 with a wrong password", err)
	secrets.add("wrong P12 password", "not-the-password")
	_, err = tokenapi.ParseP12(p12Data[:len(p12Data)/2], merchant.ID, p12Password)
	out.addError("ParseP12 of a cut file", err)
	_, err = tokenapi.ParseP12(p12Data, "another_merchant", p12Password)
	out.addError("ParseP12 with another alias", err)
	path := filepath.Join(t.TempDir(), "merchant.p12")
	if err := os.WriteFile(path, p12Data[:len(p12Data)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = tokenapi.LoadP12File(path, merchant.ID, p12Password)
	out.addError("LoadP12File of a cut file", err)
	_, err = tokenapi.New(tokenapi.WithBaseURL(httpServer.URL), tokenapi.WithSharedSecretJWT(merchant.ID, merchant.KeyID, merchant.SecretKey+"!"))
	out.addError("New with a mangled secret", err)
	secrets.add("mangled shared secret", merchant.SecretKey+"!")
	_, err = tokenapi.New(tokenapi.WithBaseURL(httpServer.URL), tokenapi.WithP12JWT(merchant.ID, p12), tokenapi.WithResponseEncryption(mleKeyID))
	out.addError("New with response encryption and no MLE key", err)

	out.add("log", logs.String())
	for _, want := range []string{"tokenapi retry", "level=DEBUG"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %q; the test no longer drives that path", want)
		}
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
	secrets.mu.Lock()
	bearerTokens := 0
	for _, label := range secrets.values {
		if label == "bearer token" {
			bearerTokens++
		}
	}
	secrets.mu.Unlock()
	if bearerTokens < len(calls)-1 {
		t.Errorf("the server saw %d bearer tokens, want at least %d; the calls no longer reach it", bearerTokens, len(calls)-1)
	}
	if len(out.texts) < 100 {
		t.Errorf("only %d outputs were collected; the test no longer drives every path", len(out.texts))
	}
}
