package sandbox_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/httpsig"
	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/internal/spec"
)

// testMerchant is a generated merchant with the private half of its MLE key.
type testMerchant struct {
	sandbox.Merchant
	mleKey *rsa.PrivateKey
}

var (
	merchantsOnce sync.Once
	merchants     []testMerchant
	merchantsErr  error
)

// generatedMerchants returns three merchants generated once per test binary, because
// RSA key generation is slow.
func generatedMerchants(t *testing.T) []testMerchant {
	t.Helper()
	merchantsOnce.Do(func() {
		for _, id := range []string{"merchant_alpha", "merchant_beta", "merchant_gamma"} {
			m, key, err := sandbox.GenerateMerchant(id)
			if err != nil {
				merchantsErr = err
				return
			}
			merchants = append(merchants, testMerchant{Merchant: m, mleKey: key})
		}
	})
	if merchantsErr != nil {
		t.Fatalf("GenerateMerchant: %v", merchantsErr)
	}
	return merchants
}

// sandboxServer is a sandbox on a loopback httptest server whose responses are checked
// against the OpenAPI document.
type sandboxServer struct {
	*httptest.Server
	sandbox *sandbox.Server

	mu      sync.Mutex
	records []sandbox.Record
}

// lastRecord returns the record of the most recent request.
func (s *sandboxServer) lastRecord(t *testing.T) sandbox.Record {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.records) == 0 {
		t.Fatal("the sandbox recorded no request")
	}
	return s.records[len(s.records)-1]
}

// startSandbox starts a sandbox with cfg on 127.0.0.1. Every response violating the
// OpenAPI document fails the test.
func startSandbox(t *testing.T, cfg sandbox.Config) *sandboxServer {
	t.Helper()
	ss := &sandboxServer{}
	cfg.OnRequest = func(rec sandbox.Record) {
		ss.mu.Lock()
		ss.records = append(ss.records, rec)
		ss.mu.Unlock()
	}
	server, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	document, err := spec.Load()
	if err != nil {
		t.Fatalf("spec.Load: %v", err)
	}
	ss.sandbox = server
	ss.Server = httptest.NewServer(document.CheckingHandler(server, func(err error) {
		t.Errorf("response breaks the OpenAPI document: %v", err)
	}))
	t.Cleanup(ss.Close)
	return ss
}

// defaultSandbox starts a sandbox with the generated merchants and the demo tokens.
func defaultSandbox(t *testing.T) (*sandboxServer, []testMerchant) {
	t.Helper()
	ms := generatedMerchants(t)
	cfg := sandbox.Config{Tokens: sandbox.DemoTokens()}
	for _, m := range ms {
		cfg.Merchants = append(cfg.Merchants, m.Merchant)
	}
	return startSandbox(t, cfg), ms
}

// signingTransport signs each request with HTTP Signature the way CyberSource expects:
// it clones the request, reads the clock once, digests the exact body bytes and signs
// the escaped path as sent.
type signingTransport struct {
	merchantID string // the v-c-merchant-id header
	signerID   string // the signing string's v-c-merchant-id line; empty means merchantID
	keyID      string
	secret     string // standard base64

	now func() time.Time // nil means time.Now

	// target, when set, replaces the request target that is signed.
	target func(*http.Request) string
	// headerList, when set, replaces the headers list in the signature header.
	headerList []string
	// algorithm, when set, replaces the algorithm in the signature header.
	algorithm string
	// afterSigning, when set, changes the signed request before it is sent.
	afterSigning func(*http.Request)
}

func signerFor(m testMerchant) *signingTransport {
	return &signingTransport{merchantID: m.ID, keyID: m.KeyID, secret: m.SecretKey}
}

func (s *signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))

	now := time.Now
	if s.now != nil {
		now = s.now
	}
	date := now().UTC().Format(http.TimeFormat)
	digest := httpsig.Digest(body)
	target := out.URL.RequestURI()
	if s.target != nil {
		target = s.target(out)
	}
	signerID := s.signerID
	if signerID == "" {
		signerID = s.merchantID
	}

	secret, err := httpsig.DecodeSecret(s.secret)
	if err != nil {
		return nil, err
	}
	signer, err := httpsig.NewSigner(s.keyID, secret)
	if err != nil {
		return nil, err
	}
	signed := httpsig.Request{Method: out.Method, Host: out.URL.Host, Target: target, Date: date, Digest: digest, SignerID: signerID}
	headerList := s.headerList
	if headerList == nil {
		headerList = []string{"host", "date", "request-target", "digest", "v-c-merchant-id"}
	}
	algorithm := httpsig.Algorithm
	if s.algorithm != "" {
		algorithm = s.algorithm
	}
	signature := strings.Replace(
		httpsig.FormatSignatureHeader(s.keyID, headerList, signer.Signature(signed)),
		`algorithm="`+httpsig.Algorithm+`"`, `algorithm="`+algorithm+`"`, 1)

	out.Header.Set("v-c-merchant-id", s.merchantID)
	out.Header.Set("date", date)
	out.Header.Set("digest", digest)
	out.Header.Set("signature", signature)
	if s.afterSigning != nil {
		s.afterSigning(out)
	}
	return http.DefaultTransport.RoundTrip(out)
}

// newClient returns the generated client for the sandbox, signing with transport.
func newClient(t *testing.T, ss *sandboxServer, transport http.RoundTripper) *gen.Client {
	t.Helper()
	client, err := gen.NewClient(ss.URL, gen.WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		t.Fatalf("gen.NewClient: %v", err)
	}
	return client
}

// result is a response read in full.
type result struct {
	status int
	header http.Header
	body   []byte
}

// callOptions are the optional parts of a call.
type callOptions struct {
	profileID   string
	contentType string // with rawBody: sends rawBody with this Content-Type
	rawBody     string
	editors     []gen.RequestEditorFn
}

// call sends one request with the generated client: v2 or v3, for tokenID, with the
// typed body unless opts sets a raw one. It fails the test when no response arrives.
func call(t *testing.T, client *gen.Client, version, tokenID string, body gen.PaymentCredentialsRequest, opts callOptions) result {
	t.Helper()
	res, err := send(client, version, tokenID, body, opts)
	if err != nil {
		t.Fatalf("%s call for token %q: %v", version, tokenID, err)
	}
	return res
}

// send is call for goroutines other than the test's own.
func send(client *gen.Client, version, tokenID string, body gen.PaymentCredentialsRequest, opts callOptions) (result, error) {
	ctx := context.Background()
	var profile *string
	if opts.profileID != "" {
		profile = &opts.profileID
	}

	var resp *http.Response
	var err error
	switch {
	case version == "v2" && opts.contentType != "":
		resp, err = client.PostTokenPaymentCredentialsWithBody(ctx, tokenID, &gen.PostTokenPaymentCredentialsParams{ProfileID: profile}, opts.contentType, strings.NewReader(opts.rawBody), opts.editors...)
	case version == "v2":
		resp, err = client.PostTokenPaymentCredentialsWithApplicationJSONCharsetUTF8Body(ctx, tokenID, &gen.PostTokenPaymentCredentialsParams{ProfileID: profile}, body, opts.editors...)
	case version == "v3" && opts.contentType != "":
		resp, err = client.PostTokenPaymentCredentialsV3WithBody(ctx, tokenID, &gen.PostTokenPaymentCredentialsV3Params{ProfileID: profile}, opts.contentType, strings.NewReader(opts.rawBody), opts.editors...)
	case version == "v3":
		resp, err = client.PostTokenPaymentCredentialsV3WithApplicationJSONCharsetUTF8Body(ctx, tokenID, &gen.PostTokenPaymentCredentialsV3Params{ProfileID: profile}, body, opts.editors...)
	default:
		return result{}, fmt.Errorf("unknown version %q", version)
	}
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, fmt.Errorf("read response: %w", err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// decrypt opens a 201 body with the merchant's MLE private key.
func decrypt(t *testing.T, m testMerchant, res result) gen.PaymentCredentials {
	t.Helper()
	if res.status != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body: %s", res.status, res.body)
	}
	if got := res.header.Get("Content-Type"); got != "application/jose;charset=utf-8" {
		t.Errorf("Content-Type = %q, want application/jose;charset=utf-8", got)
	}
	object, err := jose.ParseEncryptedCompact(string(res.body),
		[]jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("parse JWE: %v", err)
	}
	plaintext, err := object.Decrypt(m.mleKey)
	if err != nil {
		t.Fatalf("decrypt JWE: %v", err)
	}
	var credentials gen.PaymentCredentials
	if err := json.Unmarshal(plaintext, &credentials); err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	return credentials
}

// errorBody decodes a JSON error body and checks the status and the first error type.
func errorBody(t *testing.T, res result, status int, errorType string) gen.ErrorResponse {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body: %s", res.status, status, res.body)
	}
	if got := res.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var body gen.ErrorResponse
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatalf("decode error body %q: %v", res.body, err)
	}
	if len(body.Errors) == 0 {
		t.Fatalf("error body %s has no errors", res.body)
	}
	if body.Errors[0].Type != errorType {
		t.Errorf("error type = %q, want %q (message %q)", body.Errors[0].Type, errorType, body.Errors[0].Message)
	}
	if body.Errors[0].Message == "" {
		t.Error("error has no message")
	}
	return body
}

// protectedHeader decodes the first part of a compact JWE.
func protectedHeader(t *testing.T, compact string) map[string]any {
	t.Helper()
	first, _, _ := strings.Cut(compact, ".")
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		t.Fatalf("decode protected header: %v", err)
	}
	header := map[string]any{}
	if err := json.Unmarshal(raw, &header); err != nil {
		t.Fatalf("parse protected header %s: %v", raw, err)
	}
	return header
}
