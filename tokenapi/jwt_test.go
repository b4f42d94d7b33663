package tokenapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/internal/spec"
	"github.com/paycreds/tms/tokenapi"
)

// jwtSandbox is a sandbox with one merchant that has a P12 file, CyberSource's
// request-encryption key, and a portfolio that may act for the merchant.
type jwtSandbox struct {
	url        string
	merchant   sandbox.Merchant
	mleKey     *rsa.PrivateKey
	mleKeyID   string
	p12        *tokenapi.P12
	p12Bytes   []byte
	portfolio  sandbox.Portfolio
	requestKey *sandbox.RequestEncryptionKey

	mu      sync.Mutex
	records []sandbox.Record
}

var (
	jwtFixtureOnce sync.Once
	jwtFixture     struct {
		merchant   sandbox.Merchant
		mleKey     *rsa.PrivateKey
		cert       *x509.Certificate
		certKey    *rsa.PrivateKey
		requestKey *sandbox.RequestEncryptionKey
		err        error
	}
)

func startJWTSandbox(t *testing.T) *jwtSandbox {
	t.Helper()
	jwtFixtureOnce.Do(func() {
		f := &jwtFixture
		if f.merchant, f.mleKey, f.err = sandbox.GenerateMerchant("tokenapi_jwt"); f.err != nil {
			return
		}
		if f.cert, f.certKey, f.err = sandbox.GenerateCertificate("tokenapi_jwt"); f.err != nil {
			return
		}
		f.requestKey, f.err = sandbox.GenerateRequestEncryptionKey()
	})
	if jwtFixture.err != nil {
		t.Fatal(jwtFixture.err)
	}

	js := &jwtSandbox{merchant: jwtFixture.merchant, mleKey: jwtFixture.mleKey, requestKey: jwtFixture.requestKey}
	js.merchant.Certificates = []*x509.Certificate{jwtFixture.cert}
	var err error
	if js.mleKeyID, err = sandbox.MLEKeyID(&js.mleKey.PublicKey); err != nil {
		t.Fatal(err)
	}
	if js.p12Bytes, err = sandbox.EncodeP12(jwtFixture.certKey, jwtFixture.cert, js.requestKey.Certificate, "tokenapi_jwt"); err != nil {
		t.Fatal(err)
	}
	if js.p12, err = tokenapi.ParseP12(js.p12Bytes, "tokenapi_jwt", ""); err != nil {
		t.Fatal(err)
	}
	js.portfolio = sandbox.Portfolio{
		ID: "tokenapi_portfolio", KeyID: "0f8fad5b-d9cb-469f-a165-70867728950e",
		SecretKey:   "c2hhcmVkIHNlY3JldCBvZiB0aGUgcG9ydGZvbGlvIDMyYg==",
		MerchantIDs: []string{js.merchant.ID},
	}

	server, err := sandbox.New(sandbox.Config{
		Merchants:         []sandbox.Merchant{js.merchant},
		Portfolios:        []sandbox.Portfolio{js.portfolio},
		Tokens:            sandbox.DemoTokens(),
		RequestEncryption: js.requestKey,
		OnRequest: func(r sandbox.Record) {
			js.mu.Lock()
			js.records = append(js.records, r)
			js.mu.Unlock()
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
	js.url = httpServer.URL
	return js
}

func (js *jwtSandbox) lastRecord(t *testing.T) sandbox.Record {
	t.Helper()
	js.mu.Lock()
	defer js.mu.Unlock()
	if len(js.records) == 0 {
		t.Fatal("the sandbox recorded no request")
	}
	return js.records[len(js.records)-1]
}

func (js *jwtSandbox) client(t *testing.T, opts ...tokenapi.Option) *tokenapi.Client {
	t.Helper()
	client, err := tokenapi.New(append([]tokenapi.Option{tokenapi.WithBaseURL(js.url), tokenapi.WithMLEKey(js.mleKey)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestJWTAgainstSandbox(t *testing.T) {
	js := startJWTSandbox(t)
	p12 := tokenapi.WithP12JWT(js.merchant.ID, js.p12)
	sharedSecret := tokenapi.WithSharedSecretJWT(js.merchant.ID, js.merchant.KeyID, js.merchant.SecretKey)
	cases := map[string][]tokenapi.Option{
		"P12":                         {p12},
		"P12, Node SDK claims":        {p12, tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK)},
		"shared secret":               {sharedSecret},
		"shared secret, Node claims":  {sharedSecret, tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK)},
		"portfolio meta key":          {tokenapi.WithSharedSecretJWT(js.merchant.ID, js.portfolio.KeyID, js.portfolio.SecretKey), tokenapi.WithMetaKey(js.portfolio.ID)},
		"request encryption":          {p12, tokenapi.WithRequestEncryption(js.p12.CyberSourceCertificate)},
		"response encryption":         {sharedSecret, tokenapi.WithResponseEncryption(js.mleKeyID)},
		"both encryptions":            {p12, tokenapi.WithRequestEncryption(js.p12.CyberSourceCertificate), tokenapi.WithResponseEncryption(js.mleKeyID)},
		"both encryptions, Node JWTs": {p12, tokenapi.WithRequestEncryption(js.requestKey.Certificate), tokenapi.WithResponseEncryption(js.mleKeyID), tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			client := js.client(t, opts...)
			creds, err := client.GeneratePaymentCredentialsV3(context.Background(), sandbox.DemoVisaTokenID,
				&tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram})
			if err != nil {
				t.Fatalf("%v (sandbox: auth %v, encryption %v)", err, js.lastRecord(t).AuthError, js.lastRecord(t).EncryptionError)
			}
			if creds.TokenizedCard.Cryptogram.Reveal() == "" || creds.TokenizedCard.Number.Last4() != "0015" {
				t.Errorf("credentials: %v", creds)
			}
			rec := js.lastRecord(t)
			wantRequest := strings.Contains(name, "request") || strings.Contains(name, "both")
			wantResponse := strings.Contains(name, "response") || strings.Contains(name, "both")
			if rec.EncryptedRequest != wantRequest || rec.EncryptedResponse != wantResponse {
				t.Errorf("sandbox saw encrypted request %v, encrypted response %v; want %v, %v", rec.EncryptedRequest, rec.EncryptedResponse, wantRequest, wantResponse)
			}
			if rec.MerchantID != js.merchant.ID {
				t.Errorf("Record.MerchantID = %q", rec.MerchantID)
			}
		})
	}
}

func TestJWTEncryptedErrorBody(t *testing.T) {
	js := startJWTSandbox(t)
	client := js.client(t, tokenapi.WithP12JWT(js.merchant.ID, js.p12),
		tokenapi.WithRequestEncryption(js.p12.CyberSourceCertificate), tokenapi.WithResponseEncryption(js.mleKeyID))

	_, err := client.GeneratePaymentCredentials(context.Background(), sandbox.DemoDeletedTokenID, nil)
	apiErr := asAPIError(t, err, http.StatusGone)
	if apiErr.Type != "notAvailable" || apiErr.Message == "" {
		t.Errorf("APIError type %q message %q, want the decrypted notAvailable error", apiErr.Type, apiErr.Message)
	}
	if !js.lastRecord(t).EncryptedResponse {
		t.Error("the sandbox did not encrypt the error body")
	}
	if bytes.Contains(apiErr.Body, []byte("encryptedResponse")) {
		t.Errorf("APIError.Body is the wrapper, want the decrypted body: %s", apiErr.Body)
	}
}

func TestJWTEachAttemptSignedAfresh(t *testing.T) {
	var mu sync.Mutex
	var tokens []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer server.Close()
	js := startJWTSandbox(t)
	client, err := tokenapi.New(tokenapi.WithBaseURL(server.URL), tokenapi.WithP12JWT(js.merchant.ID, js.p12))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := client.GeneratePaymentCredentialsJWE(context.Background(), sandbox.DemoVisaTokenID, nil)
		_ = asAPIError(t, err, http.StatusNotFound)
	}
	if len(tokens) != 2 || tokens[0] == tokens[1] || !strings.HasPrefix(tokens[0], "Bearer ") {
		t.Errorf("Authorization headers = %q, want two different bearer tokens", tokens)
	}
}

func TestJWTOptionErrors(t *testing.T) {
	js := startJWTSandbox(t)
	env := tokenapi.WithEnvironment(tokenapi.Sandbox)
	signature := tokenapi.WithHTTPSignature(js.merchant.ID, js.merchant.KeyID, js.merchant.SecretKey)
	p12 := tokenapi.WithP12JWT(js.merchant.ID, js.p12)
	noSerial := *js.requestKey.Certificate
	noSerial.Subject.SerialNumber = ""

	cases := []struct {
		name    string
		opts    []tokenapi.Option
		mention string
	}{
		{"request encryption with HTTP Signature", []tokenapi.Option{env, signature, tokenapi.WithRequestEncryption(js.requestKey.Certificate)}, "needs JWT"},
		{"response encryption with HTTP Signature", []tokenapi.Option{env, signature, tokenapi.WithMLEKey(js.mleKey), tokenapi.WithResponseEncryption(js.mleKeyID)}, "needs JWT"},
		{"claim style with HTTP Signature", []tokenapi.Option{env, signature, tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK)}, "needs JWT"},
		{"response encryption without MLE key", []tokenapi.Option{env, p12, tokenapi.WithResponseEncryption(js.mleKeyID)}, "WithMLEKey"},
		{"nil request certificate", []tokenapi.Option{env, p12, tokenapi.WithRequestEncryption(nil)}, "nil certificate"},
		{"certificate without serialNumber", []tokenapi.Option{env, p12, tokenapi.WithRequestEncryption(&noSerial)}, "serialNumber"},
		{"nil P12", []tokenapi.Option{env, tokenapi.WithP12JWT(js.merchant.ID, nil)}, "LoadP12File"},
		{"short shared secret", []tokenapi.Option{env, tokenapi.WithSharedSecretJWT("m", "k", "c2hvcnQ=")}, "5 bytes"},
		{"unknown claim style", []tokenapi.Option{env, p12, tokenapi.WithJWTClaimStyle(7)}, "JWTClaimsDocumented"},
		{"P12 and shared secret", []tokenapi.Option{env, p12, tokenapi.WithSharedSecretJWT(js.merchant.ID, js.merchant.KeyID, js.merchant.SecretKey)}, "twice"},
		{"response kid with a quote", []tokenapi.Option{env, p12, tokenapi.WithMLEKey(js.mleKey), tokenapi.WithResponseEncryption(`a"b`)}, "response MLE key id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokenapi.New(tc.opts...)
			if !errors.Is(err, tokenapi.ErrInvalidOption) {
				t.Fatalf("error = %v, want ErrInvalidOption", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestP12LoadsBothFormats(t *testing.T) {
	for _, name := range []string{"fixturemerchant.p12", "fixturemerchant.legacy.p12"} {
		p12, err := tokenapi.LoadP12File("testdata/"+name, "fixturemerchant", "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p12.KeyID != "7400000000000000000001" || p12.CyberSourceCertificate == nil || p12.PrivateKey() == nil {
			t.Errorf("%s: %v", name, p12)
		}
	}
}

func TestP12Errors(t *testing.T) {
	data, err := os.ReadFile("testdata/fixturemerchant.p12")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokenapi.ParseP12(data, "fixturemerchant", "not-the-password"); !errors.Is(err, tokenapi.ErrP12Password) {
		t.Errorf("wrong password: error = %v", err)
	}
	if _, err := tokenapi.ParseP12(data, "othermerchant", "fixturemerchant"); !errors.Is(err, tokenapi.ErrP12Alias) {
		t.Errorf("wrong alias: error = %v", err)
	}
	if _, err := tokenapi.LoadP12File("testdata/mle-private-key.pem", "fixturemerchant", ""); !errors.Is(err, tokenapi.ErrP12Format) || !strings.Contains(err.Error(), "mle-private-key.pem") {
		t.Errorf("PEM file: error = %v, want ErrP12Format naming the file", err)
	}
	if _, err := tokenapi.LoadP12File("testdata/missing.p12", "fixturemerchant", ""); err == nil || !strings.Contains(err.Error(), "missing.p12") {
		t.Errorf("missing file: error = %v", err)
	}
}

func TestP12PrintsWithoutKey(t *testing.T) {
	p12, err := tokenapi.LoadP12File("testdata/fixturemerchant.p12", "fixturemerchant", "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}
	secretParts := []string{p12.PrivateKey().D.String(), p12.PrivateKey().Primes[0].String()}

	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "p12", p12)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", p12), "%+v": fmt.Sprintf("%+v", p12), "%#v": fmt.Sprintf("%#v", p12),
		"%s": fmt.Sprintf("%s", p12), "%d": fmt.Sprintf("%d", p12), "slog": logged.String(),
	}
	for format, output := range outputs {
		for _, part := range secretParts {
			if strings.Contains(output, part) {
				t.Errorf("%s prints key material: %s", format, output)
			}
		}
		if !strings.Contains(output, "7400000000000000000001") || !strings.Contains(output, "[REDACTED]") {
			t.Errorf("%s = %s, want the kid and [REDACTED]", format, output)
		}
	}
}

func TestExpiringCertificateWarns(t *testing.T) {
	js := startJWTSandbox(t)
	expiry := js.p12.Certificate.NotAfter
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"far from expiry", expiry.Add(-365 * 24 * time.Hour), ""},
		{"30 days left", expiry.Add(-30 * 24 * time.Hour), "certificate expires"},
		{"expired", expiry.Add(24 * time.Hour), "certificate expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
			_, err := tokenapi.New(tokenapi.WithEnvironment(tokenapi.Sandbox), tokenapi.WithP12JWT(js.merchant.ID, js.p12),
				tokenapi.WithLogger(logger), tokenapi.WithClockForTest(func() time.Time { return tt.now }))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && logged.Len() > 0 {
				t.Errorf("unexpected warning: %s", logged.String())
			}
			if tt.want != "" && (!strings.Contains(logged.String(), tt.want) || !strings.Contains(logged.String(), "tokenapi_jwt")) {
				t.Errorf("log = %q, want a warning %q naming the certificate", logged.String(), tt.want)
			}
		})
	}
}

// encryptFor returns plaintext as a compact JWE for key with RSA-OAEP-256 and A256GCM.
func encryptFor(t *testing.T, key *rsa.PublicKey, plaintext string) string {
	t.Helper()
	encrypter, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: key, KeyID: "kid"}, nil)
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

// encryptedBody returns {"encryptedResponse":"<JWE>"} with plaintext encrypted to key.
func encryptedBody(t *testing.T, key *rsa.PublicKey, plaintext string) string {
	t.Helper()
	return `{"encryptedResponse":"` + encryptFor(t, key, plaintext) + `"}`
}

func TestEncryptedResponseUnwrapping(t *testing.T) {
	mleKey := fixtureKey(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	credentialsJWE := encryptFor(t, &mleKey.PublicKey, `{"tokenizedCard":{"type":"visa","number":"4895370000000015"}}`)

	t.Run("201 opens twice", func(t *testing.T) {
		url := stubServer(t, http.StatusCreated, "application/json", encryptedBody(t, &mleKey.PublicKey, credentialsJWE))
		creds, err := stubClient(t, url).GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
		if err != nil {
			t.Fatal(err)
		}
		if creds.TokenizedCard.Number.Last4() != "0015" {
			t.Errorf("credentials = %v", creds)
		}
	})

	t.Run("error body opens", func(t *testing.T) {
		url := stubServer(t, http.StatusNotFound, "application/json", encryptedBody(t, &mleKey.PublicKey, `{"errors":[{"type":"notFound","message":"Token not found"}]}`))
		_, err := stubClient(t, url).GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
		apiErr := asAPIError(t, err, http.StatusNotFound)
		if apiErr.Type != "notFound" || apiErr.Message != "Token not found" {
			t.Errorf("APIError type %q message %q", apiErr.Type, apiErr.Message)
		}
	})

	t.Run("error body for another key", func(t *testing.T) {
		url := stubServer(t, http.StatusBadRequest, "application/json", encryptedBody(t, &otherKey.PublicKey, `{"errors":[]}`))
		_, err := stubClient(t, url).GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
		apiErr := asAPIError(t, err, http.StatusBadRequest)
		var decryptErr *tokenapi.DecryptError
		if !errors.As(err, &decryptErr) || !errors.Is(err, tokenapi.ErrDecryptionFailed) {
			t.Errorf("error %v does not carry the decryption failure", err)
		}
		if !bytes.Contains(apiErr.Body, []byte("encryptedResponse")) {
			t.Errorf("APIError.Body = %s, want the raw body", apiErr.Body)
		}
	})

	t.Run("201 for another key", func(t *testing.T) {
		url := stubServer(t, http.StatusCreated, "application/json", encryptedBody(t, &otherKey.PublicKey, credentialsJWE))
		_, err := stubClient(t, url).GeneratePaymentCredentialsJWE(context.Background(), "7030000000000011111", nil)
		if !errors.Is(err, tokenapi.ErrDecryptionFailed) || !strings.Contains(err.Error(), "encryptedResponse") {
			t.Errorf("error = %v, want ErrDecryptionFailed naming the encryptedResponse body", err)
		}
	})

	t.Run("encrypted body without MLE key", func(t *testing.T) {
		url := stubServer(t, http.StatusCreated, "application/json", encryptedBody(t, &mleKey.PublicKey, credentialsJWE))
		client, err := tokenapi.New(tokenapi.WithBaseURL(url), tokenapi.WithHTTPSignature("merchant", "key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), "7030000000000011111", nil); !errors.Is(err, tokenapi.ErrNoMLEKey) {
			t.Errorf("error = %v, want ErrNoMLEKey", err)
		}
	})

	t.Run("JSON without encryptedResponse stays an error body", func(t *testing.T) {
		url := stubServer(t, http.StatusForbidden, "application/json", `{"errors":[{"type":"forbidden","message":"no"}],"note":"encryptedResponse"}`)
		_, err := stubClient(t, url).GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
		if apiErr := asAPIError(t, err, http.StatusForbidden); apiErr.Type != "forbidden" {
			t.Errorf("APIError type %q", apiErr.Type)
		}
	})
}

func TestJWTConcurrentCalls(t *testing.T) {
	js := startJWTSandbox(t)
	client := js.client(t, tokenapi.WithP12JWT(js.merchant.ID, js.p12),
		tokenapi.WithRequestEncryption(js.p12.CyberSourceCertificate), tokenapi.WithResponseEncryption(js.mleKeyID))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := client.GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
