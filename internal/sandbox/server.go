// Package sandbox is an in-process implementation of CyberSource's two "Generate Payment
// Credentials" operations (POST /tms/v2/tokens/{tokenId}/payment-credentials and its v3
// twin) for tests, for `paycreds demo`, and for the public test kit.
//
// A Server checks each request in this order: the route, a body size limit,
// authentication (HTTP Signature, or a JWT with RS256 or HS256), the opening of an
// {"encryptedRequest"} body, the OpenAPI document in package api, the token, and the
// business rules CyberSource documents. A JWT with v-c-response-mle-kid gets its response
// wrapped in {"encryptedResponse"}. It returns 201 with a compact JWE encrypted to
// the merchant's MLE public key, or an error status with the JSON body CyberSource uses
// for it. Every response carries the v-c-correlation-id and uniqueTransactionID headers,
// except those of the html-error fault.
//
// A Fault, chosen per request with FaultHeader or per token with Token.Fault, delays,
// replaces or corrupts the response to an authenticated, valid request, so that clients
// can test how they handle latency, server errors and broken bodies.
//
// The package holds no mutable package-level state, so several Servers can run side by
// side in one program.
package sandbox

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/paycreds/tms/internal/httpsig"
	"github.com/paycreds/tms/internal/spec"
)

// Operation ids of the two operations, as in the OpenAPI document.
const (
	OperationV2 = "postTokenPaymentCredentials"
	OperationV3 = "postTokenPaymentCredentialsV3"
)

// maxBodyBytes caps the request body the sandbox reads.
//
// NOTE: CyberSource does not publish its limit. 64 KiB holds a request with every field at
// its maximum length and two authenticated identities.
const maxBodyBytes = 64 << 10

// Record describes one request the Server handled. Config.OnRequest receives it.
type Record struct {
	Method        string
	Operation     string // OperationV2 or OperationV3, empty when the path matched neither
	TokenID       string // the tokenId path parameter, unescaped
	MerchantID    string // the v-c-merchant-id header as received, or the JWT claim once verified
	Status        int
	ErrorType     string // the first error type in the body, empty on 201 and 401
	AuthError     error  // the reason for a 401, nil otherwise
	CorrelationID string // the v-c-correlation-id response header
	Fault         string // the fault injected, in the form ParseFault reads; empty for none

	// EncryptionError is the reason an {"encryptedRequest"} body was rejected, nil otherwise.
	EncryptionError error
	// EncryptedRequest and EncryptedResponse report message-level encryption.
	EncryptedRequest  bool
	EncryptedResponse bool
}

// Server serves the two operations. It is an http.Handler and is safe for concurrent
// use.
type Server struct {
	spec      *spec.Spec
	now       func() time.Time
	clockSkew time.Duration
	logger    *slog.Logger
	onRequest func(Record)

	contentKeyReuse int64
	validator       interface {
		ValidateRequest(r *http.Request, body []byte) error
	}

	merchants map[string]*merchantState // by merchant id
	keys      map[string]*signingKey    // by key id, merchants' and portfolios'
	jwt       *jwtState                 // certificates, replay cache, request-encryption key

	mu     sync.RWMutex
	tokens map[string]*tokenState // by token id
}

// merchantState is a configured merchant with what New precomputed for it.
type merchantState struct {
	Merchant
	profiles map[string]bool

	// encrypter is shared by all requests for the merchant. In go-jose v4.1.9 Encrypt
	// only reads the encrypter's fields and draws a fresh CEK and IV on every call, so
	// concurrent use is safe.
	encrypter jose.Encrypter

	// sharedKey, when Config.ContentKeyReuse is over 1, encrypts in place of encrypter.
	sharedKey *sharedContentKey
}

// New checks cfg and returns a Server. It decodes every shared secret and builds one JWE
// encrypter per merchant up front.
func New(cfg Config) (*Server, error) {
	sp, err := spec.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{
		spec:      sp,
		now:       cfg.Now,
		clockSkew: cfg.ClockSkew,
		logger:    cfg.Logger,
		onRequest: cfg.OnRequest,
		merchants: map[string]*merchantState{},
		keys:      map[string]*signingKey{},
		tokens:    map[string]*tokenState{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case s.clockSkew == 0:
		s.clockSkew = DefaultClockSkew
	case s.clockSkew < 0:
		return nil, fmt.Errorf("clock skew %s is negative", s.clockSkew)
	}
	if cfg.ContentKeyReuse < 0 {
		return nil, fmt.Errorf("content key reuse %d is negative; use 0 for a fresh key per response", cfg.ContentKeyReuse)
	}
	s.contentKeyReuse = int64(cfg.ContentKeyReuse)
	s.validator = sp
	if cfg.ValidationCacheSize > 0 {
		s.validator = spec.NewValidatingCache(sp, cfg.ValidationCacheSize)
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}

	for _, m := range cfg.Merchants {
		if err := s.addMerchant(m); err != nil {
			return nil, err
		}
	}
	for _, p := range cfg.Portfolios {
		if err := s.addPortfolio(p); err != nil {
			return nil, err
		}
	}
	if err := s.configureJWT(cfg); err != nil {
		return nil, err
	}
	for _, t := range cfg.Tokens {
		if err := s.AddToken(t); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) addMerchant(m Merchant) error {
	if err := validateMerchant(m); err != nil {
		return err
	}
	if s.merchants[m.ID] != nil {
		return fmt.Errorf("merchant %s is configured twice", m.ID)
	}
	if m.MLEKeyID == "" {
		kid, err := MLEKeyID(m.MLEPublicKey)
		if err != nil {
			return fmt.Errorf("merchant %s: %w", m.ID, err)
		}
		m.MLEKeyID = kid
	}
	encrypter, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: m.MLEPublicKey, KeyID: m.MLEKeyID},
		(&jose.EncrypterOptions{}).WithContentType("json").WithType("JWT"))
	if err != nil {
		return fmt.Errorf("merchant %s: create JWE encrypter: %w", m.ID, err)
	}

	state := &merchantState{Merchant: m, encrypter: encrypter, profiles: map[string]bool{}}
	if s.contentKeyReuse > 1 {
		if state.sharedKey, err = newSharedContentKey(m.MLEPublicKey, m.MLEKeyID, s.contentKeyReuse); err != nil {
			return fmt.Errorf("merchant %s: %w", m.ID, err)
		}
	}
	for _, p := range m.ProfileIDs {
		state.profiles[p] = true
	}
	s.merchants[m.ID] = state
	return s.addKey(m.KeyID, m.SecretKey, &signingKey{merchant: state}, "merchant "+m.ID)
}

func (s *Server) addPortfolio(p Portfolio) error {
	if err := validatePortfolio(p, s.merchants); err != nil {
		return err
	}
	state := &portfolioState{id: p.ID, merchants: map[string]bool{}}
	for _, id := range p.MerchantIDs {
		state.merchants[id] = true
	}
	return s.addKey(p.KeyID, p.SecretKey, &signingKey{portfolio: state}, "portfolio "+p.ID)
}

func (s *Server) addKey(keyID, secret string, key *signingKey, owner string) error {
	if s.keys[keyID] != nil {
		return fmt.Errorf("%s: key id %s is already in use", owner, keyID)
	}
	decoded, err := httpsig.DecodeSecret(secret)
	if err != nil {
		return fmt.Errorf("%s: %w", owner, err)
	}
	key.secret = decoded
	s.keys[keyID] = key
	return nil
}

// AddToken adds a token. It fails when the token is invalid or its id is already in use.
// It is safe to call while the Server handles requests.
func (s *Server) AddToken(t Token) error {
	t, err := validateToken(t)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[t.ID] != nil {
		return fmt.Errorf("token %s already exists", t.ID)
	}
	s.tokens[t.ID] = &tokenState{Token: t}
	return nil
}

func (s *Server) token(id string) *tokenState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tokens[id]
}

// ServeHTTP handles one request and records it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ex := &exchange{
		record: Record{
			Method:        r.Method,
			MerchantID:    r.Header.Get(httpsig.HeaderMerchantID),
			CorrelationID: correlationID(r),
		},
	}

	resp := s.serve(r, ex)
	ex.record.Status = resp.status
	ex.record.ErrorType = resp.errorType

	h := w.Header()
	h.Set("Content-Type", resp.contentType)
	h.Set("Content-Length", strconv.Itoa(resp.contentLength()))
	if !resp.fromProxy {
		h.Set("v-c-correlation-id", ex.record.CorrelationID)
		h.Set("uniqueTransactionID", uuid.NewString())
	}
	if resp.allow != "" {
		h.Set("Allow", resp.allow)
	}
	w.WriteHeader(resp.status)
	err := resp.writeBody(w)
	if err != nil && !errors.Is(err, errConnectionCut) {
		s.logger.Warn("sandbox: write response failed", "error", err, "correlation_id", ex.record.CorrelationID)
	}

	s.log(ex, time.Since(start))
	if s.onRequest != nil {
		s.onRequest(ex.record)
	}
	if errors.Is(err, errConnectionCut) {
		// net/http closes the connection without logging a stack trace.
		panic(http.ErrAbortHandler)
	}
}

// exchange collects what is known about a request while it is handled.
type exchange struct {
	record     Record
	maskedPath string
}

func (s *Server) serve(r *http.Request, ex *exchange) response {
	route, err := s.spec.FindRoute(r)
	ex.maskedPath = maskPath(r, route)
	switch {
	case errors.Is(err, spec.ErrMethodNotAllowed):
		resp := errorResponse(http.StatusMethodNotAllowed, "methodNotAllowed", "Only POST is allowed on this path")
		resp.allow = http.MethodPost
		return resp
	case err != nil:
		return errorResponse(http.StatusNotFound, "notFound", "No resource has this path")
	}
	ex.record.Operation = route.OperationID
	ex.record.TokenID = route.PathParams["tokenId"]

	body, err := readBody(r)
	if err != nil {
		return errorResponse(http.StatusBadRequest, "invalidRequest", err.Error())
	}

	verifier := s.authenticatorFor(r)
	merchant, err := verifier.authenticate(r, body)
	if err != nil {
		ex.record.AuthError = err
		return unauthorizedResponse()
	}
	if ex.record.MerchantID == "" {
		ex.record.MerchantID = merchant.ID
	}

	encryption := s.messageEncryption(verifier, merchant, ex)
	body, failure := encryption.openRequest(body)
	if failure != nil {
		return encryption.sealResponse(*failure)
	}
	return encryption.sealResponse(s.serveAuthenticated(r, ex, route, merchant, body))
}

// serveAuthenticated validates an authenticated request, with body in the clear, applies
// the fault chosen for it, and generates the credentials.
func (s *Server) serveAuthenticated(r *http.Request, ex *exchange, route spec.Route, merchant *merchantState, body []byte) response {
	if err := s.validator.ValidateRequest(r, body); err != nil {
		return validationResponse(err)
	}

	token := s.token(ex.record.TokenID)
	fault, err := faultFor(r, token)
	if err != nil {
		return invalidFaultResponse(err)
	}
	ex.record.Fault = fault.String()
	fault.wait(r.Context())
	if resp, ok := fault.replacement(); ok {
		return resp
	}
	return fault.alter(s.respond(r, route, merchant, token, body))
}

// respond returns the sandbox's response to an authenticated, valid request for token,
// which is nil when no token has the requested id.
func (s *Server) respond(r *http.Request, route spec.Route, merchant *merchantState, token *tokenState, body []byte) response {
	switch {
	case token == nil:
		return errorResponse(http.StatusNotFound, "notFound", "Token not found")
	case token.State == TokenDeleted:
		return errorResponse(http.StatusGone, "notAvailable", "Token not available")
	}
	if profile := r.Header.Get("profile-id"); profile != "" && len(merchant.profiles) > 0 && !merchant.profiles[profile] {
		return errorResponse(http.StatusForbidden, "forbidden", "The merchant may not use this profile-id")
	}

	return s.generate(route.OperationID, merchant, token, body, r.URL.EscapedPath())
}

var errBodyTooLarge = fmt.Errorf("the request body is larger than %d bytes", maxBodyBytes)

// readBody reads at most maxBodyBytes and fails on anything longer.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, errors.New("the request body could not be read")
	}
	if len(body) > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// correlationID returns the request's v-c-correlation-id when it is 1 to 64 characters
// of letters, digits, '-', '_' and '.', and a fresh UUID otherwise.
func correlationID(r *http.Request) string {
	id := r.Header.Get("v-c-correlation-id")
	if id == "" || len(id) > 64 {
		return uuid.NewString()
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return uuid.NewString()
		}
	}
	return id
}
