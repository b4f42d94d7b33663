package tokenapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paycreds/tms/gen"
)

// Version is the version of this library, sent in the User-Agent header.
const Version = "0.1.0"

const userAgent = "paycreds-go/" + Version

// Media types of the operations.
const (
	requestContentType = "application/json;charset=utf-8"
	responseMediaType  = "application/jose;charset=utf-8"
)

// Client calls the Generate Payment Credentials operations. It is safe for concurrent use
// by multiple goroutines; create one and reuse it.
type Client struct {
	server           string // the base URL with a trailing slash, for the generated builders
	sender           authSender
	httpClient       *http.Client
	host             string
	decrypter        *Decrypter // nil when no MLE key is configured
	logger           *slog.Logger
	timeout          time.Duration
	retry            RetryPolicy
	maxResponseBytes int64
	profileID        string
	jweHeaders       jweHeaderCache
}

// New returns a Client. It needs an environment (WithEnvironment or WithBaseURL) and
// credentials (WithHTTPSignature, WithP12JWT or WithSharedSecretJWT). An MLE key
// (WithMLEKey) is needed to decrypt; without one only the ...JWE methods work.
func New(opts ...Option) (*Client, error) {
	s := settings{
		timeout:          DefaultTimeout,
		retry:            noRetry,
		maxResponseBytes: DefaultMaxResponseBytes,
		now:              time.Now,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: a nil Option was passed to New", ErrInvalidOption)
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}

	baseURL := s.baseURL
	if baseURL == nil {
		if s.environment.host == "" {
			return nil, fmt.Errorf("%w: no environment; pass WithEnvironment(tokenapi.Sandbox), WithEnvironment(tokenapi.Production) or WithBaseURL", ErrInvalidOption)
		}
		baseURL, _ = parseBaseURL(s.environment.BaseURL())
	}
	if s.auth == nil {
		return nil, fmt.Errorf("%w: no credentials; pass WithHTTPSignature(merchantID, keyID, secretKey), WithP12JWT or WithSharedSecretJWT", ErrInvalidOption)
	}
	if signature, ok := s.auth.(*httpSignatureAuth); ok && s.portfolioID != "" {
		signature.signerID = s.portfolioID
	}
	if err := configureJWT(&s); err != nil {
		return nil, err
	}

	c := &Client{
		host:             baseURL.Host,
		logger:           s.logger,
		timeout:          s.timeout,
		retry:            s.retry,
		maxResponseBytes: s.maxResponseBytes,
		profileID:        s.profileID,
	}
	if len(s.mleKeys) > 0 {
		d, err := NewDecrypter(s.mleKeys, DecrypterOptions{AllowLegacyAlgorithms: s.legacyJWE})
		if err != nil {
			return nil, err
		}
		c.decrypter = d
	}

	// The generated builders resolve the operation path against the server URL, so a
	// trailing slash keeps a path prefix of the base URL, as gen.NewClient does.
	c.server = baseURL.String()
	if !strings.HasSuffix(c.server, "/") {
		c.server += "/"
	}
	c.httpClient = newHTTPClient(s.httpClient)
	c.sender = authSender{client: c.httpClient, auth: s.auth, now: s.now}
	return c, nil
}

// newHTTPClient returns a copy of user (or a new client) that does not follow redirects.
// A new client's transport requires TLS 1.2 or later and takes proxies from the
// environment, as http.DefaultTransport does. The transport of user is used as it is.
func newHTTPClient(user *http.Client) *http.Client {
	var client http.Client
	if user != nil {
		client = *user
	} else {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		transport.MaxIdleConnsPerHost = 16
		client.Transport = transport
	}
	client.CheckRedirect = noRedirects
	return &client
}

// EncryptedPaymentCredentials is a 201 response whose JWE was not opened, for callers
// that forward it or decrypt it elsewhere.
type EncryptedPaymentCredentials struct {
	// JWE is the compact JWE as received, encrypted to the merchant's MLE public key.
	JWE string
	// KeyID is the kid of the JWE's protected header.
	KeyID string
	// CorrelationID is the v-c-correlation-id response header.
	CorrelationID string
	// UniqueTransactionID is the uniqueTransactionID response header.
	UniqueTransactionID string
}

// String describes the response without the JWE.
func (e EncryptedPaymentCredentials) String() string {
	return fmt.Sprintf("EncryptedPaymentCredentials{kid: %s, correlationId: %s, jwe: %d bytes}", e.KeyID, e.CorrelationID, len(e.JWE))
}

// apiVersion selects the operation.
type apiVersion int

const (
	v2 apiVersion = 2
	v3 apiVersion = 3
)

func (v apiVersion) operation() string {
	if v == v3 {
		return "postTokenPaymentCredentialsV3"
	}
	return "postTokenPaymentCredentials"
}

// GeneratePaymentCredentials calls POST /tms/v2/tokens/{tokenId}/payment-credentials and
// returns the decrypted credentials. tokenID is a Customer, Payment Instrument, Instrument
// Identifier or Tokenized Card id; request may be nil for {}. Each successful call mints
// a new cryptogram or dynamic CVV.
//
// Errors: a *ValidationError (ErrInvalidRequest) before sending, ErrNoMLEKey before sending
// when no key is configured, an *APIError for any status but 201, a *DecryptError when the
// JWE does not open, an *IncompleteResponseError when the body was cut off, or an error
// wrapping ErrTransport or the context's error.
func (c *Client) GeneratePaymentCredentials(ctx context.Context, tokenID string, request *PaymentCredentialsRequest, opts ...CallOption) (*PaymentCredentials, error) {
	return c.generate(ctx, v2, tokenID, request, opts)
}

// GeneratePaymentCredentialsV3 calls POST /tms/v3/tokens/{tokenId}/payment-credentials,
// the successor of v2. When the token has no network token, the credentials carry the
// card details in Card. Errors are as for GeneratePaymentCredentials, and v3 also returns
// 409 Conflict.
func (c *Client) GeneratePaymentCredentialsV3(ctx context.Context, tokenID string, request *PaymentCredentialsRequest, opts ...CallOption) (*PaymentCredentials, error) {
	return c.generate(ctx, v3, tokenID, request, opts)
}

// GeneratePaymentCredentialsJWE calls the v2 operation and returns the JWE unopened. It
// needs no MLE key.
func (c *Client) GeneratePaymentCredentialsJWE(ctx context.Context, tokenID string, request *PaymentCredentialsRequest, opts ...CallOption) (*EncryptedPaymentCredentials, error) {
	return c.fetch(ctx, v2, tokenID, request, opts)
}

// GeneratePaymentCredentialsV3JWE calls the v3 operation and returns the JWE unopened.
func (c *Client) GeneratePaymentCredentialsV3JWE(ctx context.Context, tokenID string, request *PaymentCredentialsRequest, opts ...CallOption) (*EncryptedPaymentCredentials, error) {
	return c.fetch(ctx, v3, tokenID, request, opts)
}

// Decrypt opens a JWE from a 201 response with the Client's MLE keys.
func (c *Client) Decrypt(jwe string) (*PaymentCredentials, error) {
	if c.decrypter == nil {
		return nil, ErrNoMLEKey
	}
	return c.decrypter.Decrypt(jwe)
}

func (c *Client) generate(ctx context.Context, version apiVersion, tokenID string, request *PaymentCredentialsRequest, opts []CallOption) (*PaymentCredentials, error) {
	if c.decrypter == nil {
		return nil, ErrNoMLEKey
	}
	encrypted, err := c.fetch(ctx, version, tokenID, request, opts)
	if err != nil {
		return nil, err
	}
	creds, err := c.decrypter.Decrypt(encrypted.JWE)
	if err != nil {
		return nil, err
	}
	creds.CorrelationID = encrypted.CorrelationID
	creds.UniqueTransactionID = encrypted.UniqueTransactionID
	return creds, nil
}

// fetch validates the input, sends the call and returns the JWE of a 201 response.
func (c *Client) fetch(ctx context.Context, version apiVersion, tokenID string, request *PaymentCredentialsRequest, opts []CallOption) (*EncryptedPaymentCredentials, error) {
	call := callSettings{profileID: c.profileID}
	if len(opts) > 0 {
		call = applyCallOptions(call, opts)
	}
	if request == nil {
		request = &PaymentCredentialsRequest{}
	}
	if err := validateCall(tokenID, request, call); err != nil {
		return nil, err
	}
	return c.exchange(ctx, version, tokenID, request, call)
}

// applyCallOptions returns call with opts applied. The options take the address of a
// copy of call, which moves that copy to the heap, so fetch calls this only when there
// are options.
func applyCallOptions(call callSettings, opts []CallOption) callSettings {
	for _, opt := range opts {
		if opt != nil {
			opt(&call)
		}
	}
	return call
}

func validateCall(tokenID string, request *PaymentCredentialsRequest, call callSettings) error {
	var problems []FieldError
	if p := validateTokenID(tokenID); p != nil {
		problems = append(problems, *p)
	}
	if call.profileID != "" {
		if p := validateProfileID(call.profileID); p != nil {
			problems = append(problems, *p)
		}
	}
	if call.correlationID != "" {
		if p := validateCorrelationID(call.correlationID); p != nil {
			problems = append(problems, *p)
		}
	}
	problems = append(problems, validateRequestBody(request)...)
	if len(problems) > 0 {
		return &ValidationError{Fields: problems}
	}
	return nil
}

// send encodes the body, builds the request with the generated builder, and hands it to
// the sender, which signs these exact bytes and sends them. Each attempt calls send, so
// each attempt is built and signed afresh.
func (c *Client) send(ctx context.Context, version apiVersion, tokenID string, request *PaymentCredentialsRequest, call callSettings) (*http.Response, error) {
	body, err := json.Marshal(request)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: encoding the request body: %w", err)
	}
	req, err := c.newRequest(version, tokenID, call.profileID, body)
	if err != nil {
		return nil, err
	}
	req = req.WithContext(ctx)
	setCallHeaders(req.Header, call.correlationID)
	return c.sender.send(req, body)
}

// newRequest builds the request of an operation with the generated builder, which escapes
// the token id into the path and sets Content-Type and profile-id.
func (c *Client) newRequest(version apiVersion, tokenID, profileID string, body []byte) (*http.Request, error) {
	var profile *string
	if profileID != "" {
		profile = &profileID
	}
	if version == v3 {
		params := &gen.PostTokenPaymentCredentialsV3Params{ProfileID: profile}
		return gen.NewPostTokenPaymentCredentialsV3RequestWithBody(c.server, tokenID, params, requestContentType, bytes.NewReader(body))
	}
	params := &gen.PostTokenPaymentCredentialsParams{ProfileID: profile}
	return gen.NewPostTokenPaymentCredentialsRequestWithBody(c.server, tokenID, params, requestContentType, bytes.NewReader(body))
}

// transportError wraps a failure to complete the exchange. When the context ended the
// call, the error wraps ctx.Err(). A *url.Error is replaced by its cause, because its
// message repeats the URL and so the whole token id.
func (c *Client) transportError(ctx context.Context, operation, tokenID string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("tokenapi: %s for token %s: %w", operation, maskTokenID(tokenID), ctxErr)
	}
	return fmt.Errorf("%w: %s for token %s: %w", ErrTransport, operation, maskTokenID(tokenID), unwrapURLError(err))
}

// readResponse reads the body through the size limit and turns it into the JWE of a 201
// or an *APIError. The body is read into a pooled buffer, so everything returned is
// copied out of it: the JWE string here, and the body and fields of an *APIError by
// newAPIError.
func (c *Client) readResponse(ctx context.Context, operation, tokenID string, resp *http.Response) (*EncryptedPaymentCredentials, error) {
	buffer := getResponseBuffer()
	defer buffer.release()
	body, truncated, err := readLimited(resp.Body, buffer.bytes, c.maxResponseBytes, resp.ContentLength)
	buffer.bytes = body
	if err != nil {
		return nil, c.readError(ctx, operation, tokenID, resp, err)
	}

	if !truncated {
		inner, err := c.openEncryptedResponse(body)
		if err != nil && resp.StatusCode != http.StatusCreated {
			return nil, &encryptedErrorBodyError{api: newAPIError(operation, maskTokenID(tokenID), resp, body, false), decrypt: err}
		}
		if err != nil {
			return nil, err
		}
		body = inner
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, newAPIError(operation, maskTokenID(tokenID), resp, body, truncated)
	}
	if truncated {
		return nil, fmt.Errorf("%w: %s for token %s: the 201 body exceeds %d bytes; a payment-credentials JWE is a few KB (raise the limit with WithMaxResponseBytes if this is expected)",
			ErrResponseTooLarge, operation, maskTokenID(tokenID), c.maxResponseBytes)
	}

	jwe := string(bytes.TrimSpace(body))
	header, err := c.jweHeaders.parse(jwe)
	if err != nil {
		var decryptErr *DecryptError
		if errors.As(err, &decryptErr) {
			decryptErr.Detail = "the 201 body (" + describeMediaType(resp.Header.Get("Content-Type")) + ", " + fmt.Sprint(len(body)) + " bytes) is not a compact JWE: " + decryptErr.Detail
		}
		return nil, err
	}
	return &EncryptedPaymentCredentials{
		JWE:                 jwe,
		KeyID:               header.KeyID,
		CorrelationID:       sanitizeHeader(resp.Header.Get(canonicalCorrelationID)),
		UniqueTransactionID: sanitizeHeader(resp.Header.Get(canonicalUniqueTransactionID)),
	}, nil
}

// logCall records one attempt at debug level. header is the response's, nil when no
// response arrived.
func (c *Client) logCall(ctx context.Context, operation string, status int, header http.Header, start time.Time, err error, attempt int) {
	if c.logger == nil {
		return
	}
	correlationID := header.Get(canonicalCorrelationID)
	attrs := []slog.Attr{
		slog.String("operation", operation),
		slog.String("host", c.host),
		slog.Int("attempt", attempt),
		slog.Duration("duration", time.Since(start)),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if correlationID != "" {
		attrs = append(attrs, slog.String("correlation_id", sanitizeHeader(correlationID)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "tokenapi call", attrs...)
}
