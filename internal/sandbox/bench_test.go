package sandbox_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/httpsig"
	"github.com/paycreds/tms/internal/sandbox"
)

// benchmarkServeHTTP measures the sandbox's handler alone, with no network: route,
// signature check, OpenAPI validation, business rules and JWE encryption of one v2 call.
func benchmarkServeHTTP(b *testing.B, cfg sandbox.Config) {
	merchant, _, err := sandbox.GenerateMerchant("bench_merchant")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)
	cfg.Merchants = []sandbox.Merchant{merchant}
	cfg.Tokens = sandbox.DemoTokens()
	cfg.Now = func() time.Time { return now }
	server, err := sandbox.New(cfg)
	if err != nil {
		b.Fatal(err)
	}

	body := []byte(`{"paymentCredentialType":"CRYPTOGRAM"}`)
	template := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/tms/v2/tokens/"+sandbox.DemoVisaTokenID+"/payment-credentials", nil)
	signHTTPSignature(b, template, merchant, body, now)

	b.ReportAllocs()
	for b.Loop() {
		req := template.Clone(template.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		recorder := httptest.NewRecorder()
		server.ServeHTTP(recorder, req)
		if recorder.Code != http.StatusCreated {
			b.Fatalf("status %d, want 201: %s", recorder.Code, recorder.Body)
		}
	}
}

func BenchmarkServeHTTP(b *testing.B) { benchmarkServeHTTP(b, sandbox.Config{}) }

// signHTTPSignature sets the HTTP Signature headers of req for body and date now.
func signHTTPSignature(b *testing.B, req *http.Request, m sandbox.Merchant, body []byte, now time.Time) {
	b.Helper()
	secret, err := httpsig.DecodeSecret(m.SecretKey)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := httpsig.NewSigner(m.KeyID, secret)
	if err != nil {
		b.Fatal(err)
	}
	signed := httpsig.Request{
		Method: req.Method, Host: req.Host, Target: req.URL.RequestURI(),
		Date: now.Format(http.TimeFormat), Digest: httpsig.Digest(body), SignerID: m.ID,
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("v-c-merchant-id", m.ID)
	req.Header.Set("date", signed.Date)
	req.Header.Set("digest", signed.Digest)
	req.Header.Set("signature", signer.SignatureHeader(signed))
	req.ContentLength = int64(len(body))
}

// BenchmarkServeHTTPSharedContentKey is BenchmarkServeHTTP with the content key shared
// by 1000 responses.
func BenchmarkServeHTTPSharedContentKey(b *testing.B) {
	benchmarkServeHTTP(b, sandbox.Config{ContentKeyReuse: 1000})
}

// BenchmarkServeHTTPForLoad adds the validation cache to a shared content key, as
// `paycreds bench` runs its embedded sandbox.
func BenchmarkServeHTTPForLoad(b *testing.B) {
	benchmarkServeHTTP(b, sandbox.Config{ContentKeyReuse: 1000, ValidationCacheSize: 1024})
}
