package tokenapi

import (
	"crypto"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paycreds/tms/internal/httpsig"
)

// Option configures a Client. New returns an error wrapping ErrInvalidOption for an
// invalid option, naming the value and the fix.
type Option func(*settings) error

type settings struct {
	environment      Environment
	baseURL          *url.URL
	auth             authenticator
	portfolioID      string
	mleKeys          []MLEKey
	legacyJWE        bool
	httpClient       *http.Client
	logger           *slog.Logger
	timeout          time.Duration
	retry            RetryPolicy
	maxResponseBytes int64
	profileID        string
	now              func() time.Time
	jwt              jwtSettings
}

// Defaults of a Client.
const (
	// DefaultTimeout bounds each attempt of a call, including reading the response, when
	// the caller's context has no earlier deadline.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponseBytes bounds the response body. A payment-credentials JWE is 1 to
	// 3 KB; error bodies are smaller.
	DefaultMaxResponseBytes = 64 << 10
)

// WithEnvironment selects a named CyberSource environment, such as Sandbox or Production.
func WithEnvironment(env Environment) Option {
	return func(s *settings) error {
		if env.host == "" {
			return fmt.Errorf("%w: the zero Environment; use a variable such as tokenapi.Sandbox or ParseEnvironment", ErrInvalidOption)
		}
		s.environment = env
		return nil
	}
}

// WithBaseURL sends requests to baseURL instead of an environment's host, such as a proxy
// or a local test server. It must use https, except for loopback IP addresses
// (http://127.0.0.1:8080, http://[::1]:8080), where plain http is accepted. A path in the
// URL prefixes the operation paths. It overrides WithEnvironment.
func WithBaseURL(baseURL string) Option {
	return func(s *settings) error {
		u, err := parseBaseURL(baseURL)
		if err != nil {
			return err
		}
		s.baseURL = u
		return nil
	}
}

// WithHTTPSignature authenticates with HTTP Signature: the merchant id, and the key id
// and shared secret key created in the CyberSource Business Center (Payment Configuration,
// Key Management, REST shared secret). The secret is the base64 string as shown there.
func WithHTTPSignature(merchantID, keyID, secretKey string) Option {
	return func(s *settings) error {
		secret, err := s.sharedSecretCredentials(merchantID, keyID, secretKey)
		if err != nil {
			return err
		}
		signer, err := httpsig.NewSigner(keyID, secret)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidOption, err)
		}
		s.auth = &httpSignatureAuth{merchantID: merchantID, signerID: merchantID, signer: signer}
		return nil
	}
}

// sharedSecretCredentials checks the credentials of WithHTTPSignature and
// WithSharedSecretJWT, which take the same merchant id, key id and base64 secret, and
// returns the decoded secret.
func (s *settings) sharedSecretCredentials(merchantID, keyID, secretKey string) ([]byte, error) {
	if s.auth != nil {
		return nil, fmt.Errorf("%w: credentials are configured twice; pass one authentication option", ErrInvalidOption)
	}
	if err := checkIdentifier("merchant id", merchantID); err != nil {
		return nil, err
	}
	if err := checkIdentifier("key id", keyID); err != nil {
		return nil, err
	}
	secret, err := httpsig.DecodeSecret(strings.TrimSpace(secretKey))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	return secret, nil
}

// WithMetaKey signs with a portfolio's meta key on behalf of the transacting merchant. The
// credentials passed to WithHTTPSignature, WithSharedSecretJWT or WithP12JWT are then the
// portfolio's, and their merchant id is the transacting merchant's. The portfolio id goes
// into the signature, or into the iss claim of a JWT.
func WithMetaKey(portfolioID string) Option {
	return func(s *settings) error {
		if err := checkIdentifier("portfolio id", portfolioID); err != nil {
			return err
		}
		s.portfolioID = portfolioID
		return nil
	}
}

// WithMLEKey adds a private key for decrypting the JWE in 201 responses. With only one
// key, it is used whatever kid the JWE names. To rotate keys, configure both the old and
// the new key with WithMLEKeys, each with its kid.
func WithMLEKey(key crypto.Decrypter) Option {
	return WithMLEKeys(MLEKey{Key: key})
}

// WithMLEKeys adds private keys for decrypting the JWE in 201 responses. With several
// keys, the JWE's kid selects one, so each needs its KeyID.
func WithMLEKeys(keys ...MLEKey) Option {
	return func(s *settings) error {
		if len(keys) == 0 {
			return fmt.Errorf("%w: WithMLEKeys was called with no keys", ErrInvalidOption)
		}
		s.mleKeys = append(s.mleKeys, keys...)
		return nil
	}
}

// WithLegacyJWEAlgorithms also accepts JWEs encrypted with RSA-OAEP (SHA-1) and A128GCM.
// CyberSource sends RSA-OAEP-256 with A256GCM; the wider set exists for JWEs from other
// sources, such as tools built on the official Node SDK.
func WithLegacyJWEAlgorithms() Option {
	return func(s *settings) error {
		s.legacyJWE = true
		return nil
	}
}

// WithHTTPClient sends requests through client, for example one with a proxy, a client
// certificate or instrumentation. The Client copies it and does not follow redirects.
// Requests reach its Transport (nil means http.DefaultTransport) already signed, so a
// Transport that changes the path or the body breaks the signature. The TLS settings of
// client are used as they are.
func WithHTTPClient(client *http.Client) Option {
	return func(s *settings) error {
		if client == nil {
			return fmt.Errorf("%w: WithHTTPClient was passed a nil *http.Client", ErrInvalidOption)
		}
		s.httpClient = client
		return nil
	}
}

// WithLogger logs one record per attempt at debug level (operation, host, attempt,
// status, duration and correlation id) and each retry at info level (attempt, reason and
// delay). It never logs bodies, headers, secrets, card data or whole token ids. Without
// it the Client is silent.
func WithLogger(logger *slog.Logger) Option {
	return func(s *settings) error {
		if logger == nil {
			return fmt.Errorf("%w: WithLogger was passed a nil *slog.Logger", ErrInvalidOption)
		}
		s.logger = logger
		return nil
	}
}

// WithTimeout bounds each attempt of a call, from sending the request to reading the last
// byte of the response, when the caller's context has no earlier deadline. Without
// WithRetry a call is one attempt. The default is DefaultTimeout; zero turns the bound
// off, leaving only the context. A call ended by this timeout returns an error wrapping
// context.DeadlineExceeded.
func WithTimeout(timeout time.Duration) Option {
	return func(s *settings) error {
		if timeout < 0 {
			return fmt.Errorf("%w: timeout %v is negative; use 0 to turn the timeout off", ErrInvalidOption, timeout)
		}
		s.timeout = timeout
		return nil
	}
}

// WithMaxResponseBytes bounds the response body read from CyberSource. The default is
// DefaultMaxResponseBytes.
func WithMaxResponseBytes(limit int64) Option {
	return func(s *settings) error {
		if limit < 1024 {
			return fmt.Errorf("%w: response limit %d bytes is below 1024; a payment-credentials JWE alone is over 1000 bytes", ErrInvalidOption, limit)
		}
		s.maxResponseBytes = limit
		return nil
	}
}

// WithDefaultProfileID sends the profile-id header with every call that does not set its
// own with WithProfileID. A profile id selects the TMS settings to apply; it is a UUID.
func WithDefaultProfileID(profileID string) Option {
	return func(s *settings) error {
		if problem := validateProfileID(profileID); problem != nil {
			return fmt.Errorf("%w: profile id %s", ErrInvalidOption, problem.Problem)
		}
		s.profileID = profileID
		return nil
	}
}

// checkIdentifier checks a merchant, key or portfolio id: not empty, printable ASCII with
// no space, quote or backslash, since it goes into HTTP headers and quoted parameters.
func checkIdentifier(name, value string) error {
	if value == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidOption, name)
	}
	if len(value) > 256 {
		return fmt.Errorf("%w: %s is %d characters; CyberSource ids are far shorter, check the value", ErrInvalidOption, name, len(value))
	}
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("%w: %s contains %s at position %d; ids are printable ASCII without spaces or quotes", ErrInvalidOption, name, describeByte(c), i+1)
		}
	}
	return nil
}

// CallOption adjusts one call.
type CallOption func(*callSettings)

type callSettings struct {
	profileID     string
	correlationID string
}

// WithProfileID sends the profile-id header, a UUID naming the TMS profile whose settings
// apply to this call. It overrides WithDefaultProfileID.
func WithProfileID(profileID string) CallOption {
	return func(c *callSettings) { c.profileID = profileID }
}

// WithCorrelationID sends the v-c-correlation-id header, which CyberSource echoes in its
// response, to trace the call across systems. It is printable ASCII of at most 64 bytes.
func WithCorrelationID(id string) CallOption {
	return func(c *callSettings) { c.correlationID = id }
}

// maxCorrelationIDLength bounds a caller's correlation id.
const maxCorrelationIDLength = 64

func validateCorrelationID(id string) *FieldError {
	if len(id) > maxCorrelationIDLength {
		return &FieldError{Field: "v-c-correlation-id", Problem: fmt.Sprintf("is %d bytes, over the maximum of %d", len(id), maxCorrelationIDLength)}
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return &FieldError{Field: "v-c-correlation-id", Problem: fmt.Sprintf("contains %s at position %d; use printable ASCII", describeByte(id[i]), i+1)}
		}
	}
	return nil
}
