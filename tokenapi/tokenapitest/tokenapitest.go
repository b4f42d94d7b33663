// Package tokenapitest runs a stand-in for CyberSource's Generate Payment Credentials
// operations on a loopback HTTP server, for tests of code that uses package tokenapi. No
// request leaves the machine.
//
// A test needs a few lines:
//
//	func TestCheckout(t *testing.T) {
//		srv := tokenapitest.NewServer(t) // stopped by t.Cleanup
//		client, err := tokenapi.New(srv.ClientOptions()...)
//		if err != nil {
//			t.Fatal(err)
//		}
//		creds, err := client.GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil)
//		...
//	}
//
// The server is the sandbox that `paycreds sandbox` also runs. It verifies HTTP Signature
// authentication, validates each request against the API's OpenAPI document, applies
// CyberSource's documented rules per network and token state, and responds with 201 and a
// JWE encrypted to a fresh RSA-2048 MLE key, with a new cryptogram or dynamic CVV each time.
// Errors carry CyberSource's JSON error bodies, and every response the v-c-correlation-id
// and uniqueTransactionID headers.
//
// It also verifies JWT authentication, RS256 with the key of the merchant's P12 file or
// HS256 with the shared secret, and message-level encryption. A JWT test is as short:
//
//	srv := tokenapitest.NewServer(t)
//	client, err := tokenapi.New(append(srv.JWTClientOptions(),
//		tokenapi.WithRequestEncryption(srv.CyberSourceCertificate()),
//		tokenapi.WithResponseEncryption(srv.MLEKeyID()))...)
//
// Faults make the server misbehave on purpose: per token with Token.Fault, or per request
// with the FaultHeader header (see FaultTransport). The text form is the one
// `paycreds sandbox` documents, such as "status=503,times=1" or "close-mid-body".
package tokenapitest

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// FaultHeader is the request header that selects a fault for one request. CyberSource's
// API does not know it and ignores it.
const FaultHeader = sandbox.FaultHeader

// Ids of the tokens every Server starts with, unless WithoutDemoTokens is given.
const (
	VisaTokenID            = sandbox.DemoVisaTokenID            // Visa, active, cryptogram and ECI 07 by default
	MastercardTokenID      = sandbox.DemoMastercardTokenID      // Mastercard, active
	AmericanExpressTokenID = sandbox.DemoAmericanExpressTokenID // American Express, active, dynamic CVV by default
	DeletedTokenID         = sandbox.DemoDeletedTokenID         // Visa, deleted: 410 notAvailable
	NoNetworkTokenID       = sandbox.DemoNoNetworkTokenID       // Visa without a network token: card details from v3
)

// DefaultMerchantID is the merchant id of a Server without WithMerchant.
const DefaultMerchantID = "tokenapitest_merchant"

// Server is a running sandbox. Its exported fields are the credentials that
// ClientOptions passes to tokenapi.
type Server struct {
	URL        string // base URL, such as http://127.0.0.1:41763
	MerchantID string
	KeyID      string
	SecretKey  string // the shared secret in standard base64

	http     *httptest.Server
	sandbox  *sandbox.Server
	mleKey   *rsa.PrivateKey
	mleKeyID string
	jwt      *jwtCredentials

	mu       sync.Mutex
	requests []Request
}

// NewServer starts a Server and stops it when the test ends. It fails the test when an
// option is invalid.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("tokenapitest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server that the caller stops with Close. It suits Example functions,
// TestMain and programs; tests usually call NewServer.
func Start(opts ...Option) (*Server, error) {
	cfg := config{demoTokens: true}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("a nil Option was passed")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}

	merchant, mleKey, err := cfg.merchant()
	if err != nil {
		return nil, err
	}
	kid, err := sandbox.MLEKeyID(&mleKey.PublicKey)
	if err != nil {
		return nil, err
	}
	tokens, err := cfg.sandboxTokens()
	if err != nil {
		return nil, err
	}
	jwt, err := newJWTCredentials(merchant.ID)
	if err != nil {
		return nil, err
	}
	merchant.Certificates = []*x509.Certificate{jwt.certificate}

	s := &Server{
		MerchantID: merchant.ID,
		KeyID:      merchant.KeyID,
		SecretKey:  merchant.SecretKey,
		mleKey:     mleKey,
		mleKeyID:   kid,
		jwt:        jwt,
	}
	s.sandbox, err = sandbox.New(sandbox.Config{
		Merchants:         []sandbox.Merchant{merchant},
		Tokens:            tokens,
		RequestEncryption: jwt.requestKey,
		Now:               cfg.now,
		Logger:            cfg.logger,
		OnRequest:         s.record,
	})
	if err != nil {
		return nil, err
	}
	s.http = httptest.NewServer(s.sandbox)
	s.URL = s.http.URL
	return s, nil
}

// Close stops the server and waits for the requests in progress to end.
func (s *Server) Close() { s.http.Close() }

// ClientOptions returns the tokenapi options that point a Client at the server: its base
// URL, the merchant's HTTP Signature credentials and the MLE private key. Options passed
// to tokenapi.New after them add to them; a second authentication option is an error, so
// for JWT use JWTClientOptions or SharedSecretJWTClientOptions instead.
func (s *Server) ClientOptions() []tokenapi.Option {
	return []tokenapi.Option{
		tokenapi.WithBaseURL(s.URL),
		tokenapi.WithHTTPSignature(s.MerchantID, s.KeyID, s.SecretKey),
		tokenapi.WithMLEKey(s.mleKey),
	}
}

// MLEKey returns the private key that opens the server's JWEs.
func (s *Server) MLEKey() *rsa.PrivateKey { return s.mleKey }

// MLEKeyID returns the kid in the protected header of the server's JWEs: the lower-case
// hex SHA-1 of the MLE public key's PKIX encoding.
func (s *Server) MLEKeyID() string { return s.mleKeyID }

// AddToken adds a token while the server runs. It returns an error that names the field
// at fault when the token is invalid or its id is already in use.
func (s *Server) AddToken(token Token) error {
	st, err := token.sandboxToken()
	if err != nil {
		return err
	}
	return s.sandbox.AddToken(st)
}

// Request is a request the server handled.
type Request struct {
	Operation     string // postTokenPaymentCredentials (v2), postTokenPaymentCredentialsV3, or empty for another path
	TokenID       string
	MerchantID    string // the v-c-merchant-id header
	Status        int
	ErrorType     string // CyberSource's error type, such as notFound; empty on 201 and 401
	AuthError     string // the reason for a 401, such as "the signature does not match the signing string"
	CorrelationID string // the v-c-correlation-id response header
	Fault         string // the fault injected, such as "status=503"; empty for none

	// EncryptedRequest reports a body sent as {"encryptedRequest":"<JWE>"}, and
	// EncryptedResponse a response sent as {"encryptedResponse":"<JWE>"}.
	EncryptedRequest  bool
	EncryptedResponse bool
	// EncryptionError is the reason an encrypted body was rejected with 400, such as a
	// JWE encrypted to another certificate. It is empty otherwise.
	EncryptionError string
}

// Requests returns the requests handled so far, oldest first. A request appears once its
// response has been written.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(rec sandbox.Record) {
	r := Request{
		Operation:     rec.Operation,
		TokenID:       rec.TokenID,
		MerchantID:    rec.MerchantID,
		Status:        rec.Status,
		ErrorType:     rec.ErrorType,
		CorrelationID: rec.CorrelationID,
		Fault:         rec.Fault,

		EncryptedRequest:  rec.EncryptedRequest,
		EncryptedResponse: rec.EncryptedResponse,
	}
	if rec.AuthError != nil {
		r.AuthError = rec.AuthError.Error()
	}
	if rec.EncryptionError != nil {
		r.EncryptionError = rec.EncryptionError.Error()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

// FaultTransport returns an http.RoundTripper that sets the FaultHeader header to fault on
// every request and sends it with base, or http.DefaultTransport when base is nil. Pass it
// to tokenapi.WithHTTPClient to make every call of a Client meet the fault; the header is
// not signed, so the signature stays valid.
func FaultTransport(base http.RoundTripper, fault string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return faultTransport{base: base, fault: fault}
}

type faultTransport struct {
	base  http.RoundTripper
	fault string
}

func (f faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Header.Set(FaultHeader, f.fault)
	return f.base.RoundTrip(out)
}

// config is the server configuration that the options set.
type config struct {
	merchantID, keyID, secretKey string
	mleKey                       *rsa.PrivateKey
	profileIDs                   []string
	now                          func() time.Time
	logger                       *slog.Logger
	tokens                       []Token
	demoTokens                   bool
}

// merchant returns the merchant the options describe, generating what they leave out.
func (c *config) merchant() (sandbox.Merchant, *rsa.PrivateKey, error) {
	id := c.merchantID
	if id == "" {
		id = DefaultMerchantID
	}
	merchant, generatedKey, err := generateMerchant(id, c.mleKey == nil)
	if err != nil {
		return sandbox.Merchant{}, nil, err
	}
	key := c.mleKey
	if key == nil {
		key = generatedKey
	}
	merchant.MLEPublicKey = &key.PublicKey
	if c.keyID != "" {
		merchant.KeyID, merchant.SecretKey = c.keyID, c.secretKey
	}
	merchant.ProfileIDs = c.profileIDs
	return merchant, key, nil
}

func (c *config) sandboxTokens() ([]sandbox.Token, error) {
	var tokens []sandbox.Token
	if c.demoTokens {
		tokens = sandbox.DemoTokens()
	}
	for _, t := range c.tokens {
		st, err := t.sandboxToken()
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, st)
	}
	return tokens, nil
}
