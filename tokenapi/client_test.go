package tokenapi_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/internal/spec"
	"github.com/paycreds/tms/tokenapi"
)

// testSandbox is the sandbox on a loopback httptest server, every response checked
// against the spec, and a client configured for it.
type testSandbox struct {
	url      string
	merchant sandbox.Merchant
	mleKey   *rsa.PrivateKey
	requests atomic.Int64
	records  chan sandbox.Record
}

func startSandbox(t *testing.T) *testSandbox {
	t.Helper()
	merchant, key, err := sandbox.GenerateMerchant("tokenapi_test")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testSandbox{merchant: merchant, mleKey: key, records: make(chan sandbox.Record, 100)}
	server, err := sandbox.New(sandbox.Config{
		Merchants: []sandbox.Merchant{merchant},
		Tokens:    sandbox.DemoTokens(),
		OnRequest: func(r sandbox.Record) {
			select {
			case ts.records <- r:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Load()
	if err != nil {
		t.Fatal(err)
	}
	checked := sp.CheckingHandler(server, func(err error) { t.Errorf("sandbox response violates the spec: %v", err) })
	httpServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.requests.Add(1)
		checked.ServeHTTP(w, r)
	}))
	t.Cleanup(httpServer.Close)
	ts.url = httpServer.URL
	return ts
}

func (ts *testSandbox) client(t *testing.T, opts ...tokenapi.Option) *tokenapi.Client {
	t.Helper()
	base := []tokenapi.Option{
		tokenapi.WithBaseURL(ts.url),
		tokenapi.WithHTTPSignature(ts.merchant.ID, ts.merchant.KeyID, ts.merchant.SecretKey),
		tokenapi.WithMLEKey(ts.mleKey),
	}
	client, err := tokenapi.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestGenerateAgainstSandbox(t *testing.T) {
	ts := startSandbox(t)
	client := ts.client(t)
	ctx := context.Background()

	visa, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if visa.TokenizedCard.Type != "visa" || visa.TokenizedCard.Number.Reveal() != "4895370000000015" {
		t.Errorf("visa: type %q number %q", visa.TokenizedCard.Type, visa.TokenizedCard.Number.Reveal())
	}
	if len(visa.TokenizedCard.Cryptogram.Reveal()) != 28 || visa.TokenizedCard.ECI != "07" {
		t.Errorf("visa: cryptogram %d chars, eci %q", len(visa.TokenizedCard.Cryptogram.Reveal()), visa.TokenizedCard.ECI)
	}
	if visa.CorrelationID == "" || visa.UniqueTransactionID == "" || len(visa.KeyID) != 40 {
		t.Errorf("visa: correlation %q unique %q kid %q", visa.CorrelationID, visa.UniqueTransactionID, visa.KeyID)
	}

	again, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.TokenizedCard.Cryptogram == visa.TokenizedCard.Cryptogram {
		t.Error("two calls returned the same cryptogram")
	}

	amex, err := client.GeneratePaymentCredentialsV3(ctx, sandbox.DemoAmericanExpressTokenID, &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.SecurityCode})
	if err != nil {
		t.Fatal(err)
	}
	if amex.TokenizedCard.SecurityCode.Reveal() == "" || amex.TokenizedCard.Cryptogram != "" {
		t.Errorf("amex: security code %q cryptogram %q", amex.TokenizedCard.SecurityCode.Reveal(), amex.TokenizedCard.Cryptogram.Reveal())
	}

	card, err := client.GeneratePaymentCredentialsV3(ctx, sandbox.DemoNoNetworkTokenID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if card.Card.Number.Last4() != "5556" || card.TokenizedCard.Number != "" {
		t.Errorf("v3 without network token: card %q tokenized %q", card.Card.Number.Reveal(), card.TokenizedCard.Number.Reveal())
	}
}

func TestGenerateJWEThenDecrypt(t *testing.T) {
	ts := startSandbox(t)
	client := ts.client(t)
	encrypted, err := client.GeneratePaymentCredentialsV3JWE(context.Background(), sandbox.DemoMastercardTokenID,
		&tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}, tokenapi.WithCorrelationID("order-42"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(encrypted.JWE, ".") != 4 || encrypted.CorrelationID != "order-42" || len(encrypted.KeyID) != 40 {
		t.Errorf("encrypted = %v", encrypted)
	}
	if strings.Contains(encrypted.String(), encrypted.JWE) {
		t.Error("String prints the JWE")
	}

	decrypter, err := tokenapi.NewDecrypter([]tokenapi.MLEKey{{Key: ts.mleKey}}, tokenapi.DecrypterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := decrypter.Decrypt(encrypted.JWE)
	if err != nil {
		t.Fatal(err)
	}
	if creds.TokenizedCard.Type != "mastercard" || creds.KeyID != encrypted.KeyID {
		t.Errorf("type %q kid %q", creds.TokenizedCard.Type, creds.KeyID)
	}
}

func TestSandboxErrorsBecomeAPIErrors(t *testing.T) {
	ts := startSandbox(t)
	client := ts.client(t)
	cases := []struct {
		name      string
		tokenID   string
		request   *tokenapi.PaymentCredentialsRequest
		status    int
		errorType string
	}{
		{"deleted", sandbox.DemoDeletedTokenID, nil, http.StatusGone, "notAvailable"},
		{"unknown", "7030000000000099999", nil, http.StatusNotFound, "notFound"},
		{"cryptogram for amex", sandbox.DemoAmericanExpressTokenID, &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}, http.StatusBadRequest, "invalidCombination"},
		{"AFT for mastercard", sandbox.DemoMastercardTokenID, &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram, TransactionType: tokenapi.AccountFunding}, http.StatusBadRequest, "invalidCombination"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := client.GeneratePaymentCredentials(context.Background(), tc.tokenID, tc.request)
			if creds != nil {
				t.Error("credentials returned with an error")
			}
			var apiErr *tokenapi.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			if apiErr.StatusCode != tc.status || apiErr.Type != tc.errorType || apiErr.Message == "" {
				t.Errorf("status %d type %q message %q", apiErr.StatusCode, apiErr.Type, apiErr.Message)
			}
			if apiErr.CorrelationID == "" || apiErr.UniqueTransactionID == "" || len(apiErr.Body) == 0 {
				t.Errorf("correlation %q unique %q body %d bytes", apiErr.CorrelationID, apiErr.UniqueTransactionID, len(apiErr.Body))
			}
			if strings.Contains(err.Error(), tc.tokenID) {
				t.Errorf("the message repeats the whole token id: %v", err)
			}
		})
	}
}

func TestWrongSecretGives401(t *testing.T) {
	ts := startSandbox(t)
	client, err := tokenapi.New(tokenapi.WithBaseURL(ts.url),
		tokenapi.WithHTTPSignature(ts.merchant.ID, ts.merchant.KeyID, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
		tokenapi.WithMLEKey(ts.mleKey))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil)
	var apiErr *tokenapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Message != "Authentication Failed" {
		t.Fatalf("error = %v, want a 401 with the gateway's message", err)
	}
	record := <-ts.records
	if !errors.Is(record.AuthError, sandbox.ErrSignatureMismatch) {
		t.Errorf("the sandbox rejected it for %v, want a signature mismatch", record.AuthError)
	}
}

func TestInvalidInputSendsNothing(t *testing.T) {
	ts := startSandbox(t)
	client := ts.client(t)
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := client.GeneratePaymentCredentials(ctx, "", nil); return err },
		func() error { _, err := client.GeneratePaymentCredentials(ctx, "../admin", nil); return err },
		func() error {
			_, err := client.GeneratePaymentCredentialsV3(ctx, strings.Repeat("7", 33), nil)
			return err
		},
		func() error {
			_, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil, tokenapi.WithProfileID("not-a-uuid"))
			return err
		},
		func() error {
			_, err := client.GeneratePaymentCredentialsJWE(ctx, sandbox.DemoVisaTokenID, &tokenapi.PaymentCredentialsRequest{
				OrderInformation: tokenapi.OrderInformation{BillTo: tokenapi.BillTo{PostalCode: "12345-67890"}},
			})
			return err
		},
		func() error {
			_, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: "TOKEN"})
			return err
		},
	}
	for i, call := range calls {
		err := call()
		var validation *tokenapi.ValidationError
		if !errors.Is(err, tokenapi.ErrInvalidRequest) || !errors.As(err, &validation) {
			t.Errorf("call %d: error = %v, want a *ValidationError", i, err)
		}
	}
	if n := ts.requests.Load(); n != 0 {
		t.Errorf("the sandbox received %d requests for invalid input", n)
	}
}

func TestNoMLEKeyFailsBeforeSending(t *testing.T) {
	ts := startSandbox(t)
	client, err := tokenapi.New(tokenapi.WithBaseURL(ts.url),
		tokenapi.WithHTTPSignature(ts.merchant.ID, ts.merchant.KeyID, ts.merchant.SecretKey))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil)
	if !errors.Is(err, tokenapi.ErrNoMLEKey) {
		t.Fatalf("error = %v, want ErrNoMLEKey", err)
	}
	if n := ts.requests.Load(); n != 0 {
		t.Errorf("a call that cannot decrypt was sent (%d requests), minting credentials in vain", n)
	}
	if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), sandbox.DemoVisaTokenID, nil); err != nil {
		t.Errorf("the JWE call needs no key, got %v", err)
	}
}

func TestProfileIDIsSentAndChecked(t *testing.T) {
	merchant, key, err := sandbox.GenerateMerchant("profile_test")
	if err != nil {
		t.Fatal(err)
	}
	const allowed = "93B32398-AD51-4CC2-A682-EA3E93614EB1"
	merchant.ProfileIDs = []string{allowed}
	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(server)
	defer httpServer.Close()
	client, err := tokenapi.New(tokenapi.WithBaseURL(httpServer.URL),
		tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, merchant.SecretKey),
		tokenapi.WithMLEKey(key), tokenapi.WithDefaultProfileID(allowed))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil); err != nil {
		t.Fatalf("allowed profile: %v", err)
	}
	_, err = client.GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil,
		tokenapi.WithProfileID("00000000-0000-0000-0000-000000000000"))
	var apiErr *tokenapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
		t.Errorf("other profile: error = %v, want 403", err)
	}
}

// stubServer responds to every request with fixed status, content type and body, as a proxy
// or a broken server in front of CyberSource might.
func stubServer(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("v-c-correlation-id", "stub-correlation")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(server.Close)
	return server.URL
}

func stubClient(t *testing.T, url string, opts ...tokenapi.Option) *tokenapi.Client {
	t.Helper()
	key := fixtureKey(t)
	client, err := tokenapi.New(append([]tokenapi.Option{
		tokenapi.WithBaseURL(url),
		tokenapi.WithHTTPSignature("merchant", "key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
		tokenapi.WithMLEKey(key),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestUnusualResponses(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		check       func(t *testing.T, err error)
	}{
		{"HTML error page from a proxy", http.StatusBadGateway, "text/html", "<html><body>Bad gateway</body></html>", func(t *testing.T, err error) {
			apiErr := asAPIError(t, err, http.StatusBadGateway)
			if apiErr.Type != "" || !strings.Contains(string(apiErr.Body), "<html>") || !strings.Contains(err.Error(), "text/html body") {
				t.Errorf("type %q body %q message %q", apiErr.Type, apiErr.Body, err)
			}
		}},
		{"empty error body", http.StatusServiceUnavailable, "", "", func(t *testing.T, err error) {
			apiErr := asAPIError(t, err, http.StatusServiceUnavailable)
			if apiErr.CorrelationID != "stub-correlation" {
				t.Errorf("correlation id %q", apiErr.CorrelationID)
			}
		}},
		{"truncated JSON error", http.StatusInternalServerError, "application/json", `{"errors":[{"type":"internalEr`, func(t *testing.T, err error) {
			apiErr := asAPIError(t, err, http.StatusInternalServerError)
			if apiErr.Type != "" {
				t.Errorf("type %q from a truncated body", apiErr.Type)
			}
		}},
		{"gateway error shape", http.StatusUnauthorized, "application/json", `{"response":{"rmsg":"Authentication Failed"}}`, func(t *testing.T, err error) {
			apiErr := asAPIError(t, err, http.StatusUnauthorized)
			if apiErr.Message != "Authentication Failed" {
				t.Errorf("message %q", apiErr.Message)
			}
		}},
		{"200 instead of 201", http.StatusOK, "application/jose;charset=utf-8", "", func(t *testing.T, err error) {
			_ = asAPIError(t, err, http.StatusOK)
			if !strings.Contains(err.Error(), "201 Created") {
				t.Errorf("message %q does not explain the expected status", err)
			}
		}},
		{"redirect", http.StatusTemporaryRedirect, "", "", func(t *testing.T, err error) {
			_ = asAPIError(t, err, http.StatusTemporaryRedirect)
		}},
		{"201 with JSON", http.StatusCreated, "application/json", `{"tokenizedCard":{}}`, func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrMalformedJWE) || !strings.Contains(err.Error(), "application/json") {
				t.Errorf("error = %v, want ErrMalformedJWE naming the content type", err)
			}
		}},
		{"201 empty", http.StatusCreated, "application/jose", "", func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrMalformedJWE) {
				t.Errorf("error = %v, want ErrMalformedJWE", err)
			}
		}},
		{"201 oversized", http.StatusCreated, "application/jose", strings.Repeat("A", 200<<10), func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrResponseTooLarge) {
				t.Errorf("error = %v, want ErrResponseTooLarge", err)
			}
		}},
		{"error body over the limit", http.StatusBadRequest, "application/json", `{"errors":[{"type":"x","message":"` + strings.Repeat("m", 100<<10) + `"}]}`, func(t *testing.T, err error) {
			apiErr := asAPIError(t, err, http.StatusBadRequest)
			if !apiErr.BodyTruncated || len(apiErr.Body) != tokenapi.MaxErrorBodyBytes {
				t.Errorf("truncated %v, %d bytes kept", apiErr.BodyTruncated, len(apiErr.Body))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := stubClient(t, stubServer(t, tc.status, tc.contentType, tc.body))
			creds, err := client.GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
			if creds != nil || err == nil {
				t.Fatalf("creds %v, err %v: want only an error", creds, err)
			}
			tc.check(t, err)
		})
	}
}

func asAPIError(t *testing.T, err error, status int) *tokenapi.APIError {
	t.Helper()
	var apiErr *tokenapi.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v (%T), want an *APIError", err, err)
	}
	if apiErr.StatusCode != status {
		t.Errorf("status %d, want %d", apiErr.StatusCode, status)
	}
	return apiErr
}

func TestContextCancelReturnsContextError(t *testing.T) {
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer server.Close()
	defer close(release)
	client := stubClient(t, server.URL)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, err := client.GeneratePaymentCredentials(ctx, "7030000000000011111", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}

	client = stubClient(t, server.URL, tokenapi.WithTimeout(30*time.Millisecond))
	_, err = client.GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
}

func TestConnectionRefusedIsTransportError(t *testing.T) {
	server := httptest.NewServer(http.NotFoundHandler())
	url := server.URL
	server.Close()
	_, err := stubClient(t, url).GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
	if !errors.Is(err, tokenapi.ErrTransport) {
		t.Errorf("error = %v, want ErrTransport", err)
	}
	if strings.Contains(err.Error(), "7030000000000011111") {
		t.Errorf("the message repeats the whole token id: %v", err)
	}
}

func TestLoggerRecordsMetadataOnly(t *testing.T) {
	ts := startSandbox(t)
	var logs bytes.Buffer
	client := ts.client(t, tokenapi.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	creds, err := client.GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil)
	if err != nil {
		t.Fatal(err)
	}
	output := logs.String()
	for _, want := range []string{`"operation":"postTokenPaymentCredentials"`, `"status":201`, `"correlation_id"`} {
		if !strings.Contains(output, want) {
			t.Errorf("log lacks %s: %s", want, output)
		}
	}
	for _, secret := range []string{creds.TokenizedCard.Number.Reveal(), creds.TokenizedCard.Cryptogram.Reveal(), ts.merchant.SecretKey, sandbox.DemoVisaTokenID} {
		if strings.Contains(output, secret) {
			t.Errorf("log contains %q: %s", secret, output)
		}
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	const secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	signature := tokenapi.WithHTTPSignature("merchant", "key", secret)
	env := tokenapi.WithEnvironment(tokenapi.Sandbox)
	cases := map[string][]tokenapi.Option{
		"no environment":      {signature},
		"no credentials":      {env},
		"zero environment":    {tokenapi.WithEnvironment(tokenapi.Environment{}), signature},
		"plain http remote":   {tokenapi.WithBaseURL("http://api.example.com"), signature},
		"plain http hostname": {tokenapi.WithBaseURL("http://localhost:8080"), signature},
		"ftp base URL":        {tokenapi.WithBaseURL("ftp://127.0.0.1"), signature},
		"base URL with query": {tokenapi.WithBaseURL("https://api.example.com/?x=1"), signature},
		"base URL with user":  {tokenapi.WithBaseURL("https://u:p@api.example.com"), signature},
		"no host":             {tokenapi.WithBaseURL("https://"), signature},
		"secret not base64":   {env, tokenapi.WithHTTPSignature("merchant", "key", "not base64!")},
		"empty merchant":      {env, tokenapi.WithHTTPSignature("", "key", secret)},
		"quote in key id":     {env, tokenapi.WithHTTPSignature("merchant", `k"ey`, secret)},
		"credentials twice":   {env, signature, signature},
		"nil HTTP client":     {env, signature, tokenapi.WithHTTPClient(nil)},
		"negative timeout":    {env, signature, tokenapi.WithTimeout(-time.Second)},
		"tiny response limit": {env, signature, tokenapi.WithMaxResponseBytes(10)},
		"short profile id":    {env, signature, tokenapi.WithDefaultProfileID("abc")},
		"nil MLE key":         {env, signature, tokenapi.WithMLEKey(nil)},
		"nil option":          {env, signature, nil},
	}
	for name, opts := range cases {
		if _, err := tokenapi.New(opts...); !errors.Is(err, tokenapi.ErrInvalidOption) {
			t.Errorf("%s: error = %v, want ErrInvalidOption", name, err)
		}
	}
	for _, raw := range []string{"http://127.0.0.1:8080", "http://[::1]:9000/prefix", "https://proxy.example.com/cybersource"} {
		if _, err := tokenapi.New(tokenapi.WithBaseURL(raw), signature); err != nil {
			t.Errorf("base URL %s rejected: %v", raw, err)
		}
	}
	if _, err := tokenapi.New(tokenapi.WithBaseURL("https://x.example.com"), tokenapi.WithHTTPSignature("m", "k", "bad!")); err == nil || strings.Contains(err.Error(), "bad!") {
		t.Errorf("error %v should reject the secret without repeating it", err)
	}
}

func TestBaseURLPathPrefix(t *testing.T) {
	var gotPath string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer server.Close()
	client := stubClient(t, server.URL+"/cybersource/")
	_, err := client.GeneratePaymentCredentialsV3(context.Background(), "7030000000000011111", nil)
	_ = asAPIError(t, err, http.StatusNotFound)
	if gotPath != "/cybersource/tms/v3/tokens/7030000000000011111/payment-credentials" {
		t.Errorf("path = %q", gotPath)
	}
}
