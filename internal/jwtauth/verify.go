package jwtauth

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Reasons a token is rejected, matched with errors.Is.
var (
	ErrMalformed            = errors.New("the bearer token is not a compact JWS with a JSON claim set")
	ErrUnsupportedAlgorithm = errors.New("the token algorithm is not RS256 or HS256")
	ErrMissingKeyID         = errors.New("the token header has no kid")
	ErrSignature            = errors.New("the token signature does not verify")
	ErrMissingClaim         = errors.New("a required claim is missing")
	ErrVersion              = errors.New("the v-c-jwt-version claim is not 2")
	ErrExpired              = errors.New("the token has expired")
	ErrIssuedInFuture       = errors.New("the token's iat is ahead of the clock by more than the accepted skew")
	ErrLifetime             = errors.New("the token's exp is not after iat or too far after it")
	ErrDigest               = errors.New("the digest claim does not match the body")
	ErrRequestMismatch      = errors.New("a request claim does not match the request")
)

// maxTokenBytes bounds the token Parse accepts. A version 2 RS256 token is under 1 KB.
const maxTokenBytes = 16 << 10

// Algorithms lists the signature algorithms of the format.
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.HS256}

// Token is a bearer token whose header has been read but whose signature has not been
// checked yet. Select the key by Algorithm and KeyID, then call Verify.
type Token struct {
	Algorithm string
	KeyID     string
	object    *jose.JSONWebSignature
}

// ParseBearer parses the value of an Authorization header, "Bearer <token>" with the
// scheme in any case.
func ParseBearer(header string) (*Token, error) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return nil, fmt.Errorf("%w: the Authorization header is not \"Bearer <token>\"", ErrMalformed)
	}
	return Parse(strings.TrimSpace(token))
}

// Parse reads the header of a compact JWS signed with RS256 or HS256 and with a kid.
func Parse(compact string) (*Token, error) {
	if len(compact) > maxTokenBytes {
		return nil, fmt.Errorf("%w: the token is %d bytes, over the limit of %d", ErrMalformed, len(compact), maxTokenBytes)
	}
	if strings.Count(compact, ".") != 2 {
		return nil, fmt.Errorf("%w: a compact JWS has 3 dot-separated parts", ErrMalformed)
	}
	object, err := jose.ParseSignedCompact(compact, Algorithms)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) {
			return nil, fmt.Errorf("%w: got %q", ErrUnsupportedAlgorithm, unexpected.Got)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(object.Signatures) != 1 {
		return nil, fmt.Errorf("%w: the token has %d signatures", ErrMalformed, len(object.Signatures))
	}
	header := object.Signatures[0].Protected
	if header.KeyID == "" {
		return nil, ErrMissingKeyID
	}
	return &Token{Algorithm: header.Algorithm, KeyID: header.KeyID, object: object}, nil
}

// Verify checks the signature with key, an *rsa.PublicKey for RS256 or the decoded
// shared secret ([]byte) for HS256, and decodes the claims. It does not check the
// claims' values; Claims.Check does.
func (t *Token) Verify(key any) (Claims, error) {
	var claims Claims
	switch key.(type) {
	case *rsa.PublicKey:
		if t.Algorithm != string(jose.RS256) {
			return claims, fmt.Errorf("%w: the key is RSA but the token is %s", ErrSignature, t.Algorithm)
		}
	case []byte:
		if t.Algorithm != string(jose.HS256) {
			return claims, fmt.Errorf("%w: the key is a shared secret but the token is %s", ErrSignature, t.Algorithm)
		}
	default:
		return claims, fmt.Errorf("%w: key type %T is not supported", ErrSignature, key)
	}

	payload, err := t.object.Verify(key)
	if err != nil {
		return claims, ErrSignature
	}
	if !bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{")) {
		return claims, fmt.Errorf("%w: the payload is not a JSON object", ErrMalformed)
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return claims, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return claims, nil
}

// Expectation is the request that carried a token, as the verifier received it.
type Expectation struct {
	Method string   // the request method
	Hosts  []string // the request-host values accepted, such as the Host header
	Target string   // the escaped path and query as received
	Body   []byte   // the body as received

	Now       time.Time
	ClockSkew time.Duration // accepted difference between the clocks, in either direction

	// MaxLifetime bounds exp minus iat. Zero means Lifetime.
	MaxLifetime time.Duration
}

// Check compares the claims with the request: version, presence of every claim, the
// time window, the digest, and the method, host and path. It accepts both claim styles:
// either spelling of the digest algorithm claim and the method in any case.
func (c Claims) Check(e Expectation) error {
	if c.Version != Version {
		return fmt.Errorf("%w: got %q", ErrVersion, c.Version)
	}
	if err := c.checkPresent(e.Method); err != nil {
		return err
	}
	if err := c.checkTime(e); err != nil {
		return err
	}

	if HasBody(e.Method) {
		algorithm := c.DigestAlgorithm
		if algorithm == "" {
			algorithm = c.DigestAlgorithmNode
		}
		if algorithm != DigestAlgorithm {
			return fmt.Errorf("%w: the digest algorithm claim is %q, expected %q", ErrDigest, algorithm, DigestAlgorithm)
		}
		if c.Digest != BodyDigest(e.Body) {
			return ErrDigest
		}
	}

	if !strings.EqualFold(c.RequestMethod, e.Method) {
		return fmt.Errorf("%w: request-method is %q, the request is %s", ErrRequestMismatch, c.RequestMethod, e.Method)
	}
	if !slices.Contains(e.Hosts, c.RequestHost) {
		return fmt.Errorf("%w: request-host is %q, accepted: %s", ErrRequestMismatch, c.RequestHost, strings.Join(e.Hosts, ", "))
	}
	if c.RequestResourcePath != e.Target {
		return fmt.Errorf("%w: request-resource-path is %q, the request target is %q", ErrRequestMismatch, c.RequestResourcePath, e.Target)
	}
	return nil
}

func (c Claims) checkPresent(method string) error {
	required := []struct{ name, value string }{
		{"iss", c.Issuer},
		{"jti", c.ID},
		{"v-c-merchant-id", c.MerchantID},
		{"request-method", c.RequestMethod},
		{"request-host", c.RequestHost},
		{"request-resource-path", c.RequestResourcePath},
	}
	if HasBody(method) {
		required = append(required, struct{ name, value string }{"digest", c.Digest})
	}
	for _, claim := range required {
		if claim.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingClaim, claim.name)
		}
	}
	if c.IssuedAt == 0 {
		return fmt.Errorf("%w: iat", ErrMissingClaim)
	}
	if c.ExpiresAt == 0 {
		return fmt.Errorf("%w: exp", ErrMissingClaim)
	}
	return nil
}

func (c Claims) checkTime(e Expectation) error {
	maxLifetime := e.MaxLifetime
	if maxLifetime == 0 {
		maxLifetime = Lifetime
	}
	issued := time.Unix(c.IssuedAt, 0)
	expires := time.Unix(c.ExpiresAt, 0)
	if !expires.After(issued) || expires.Sub(issued) > maxLifetime {
		return fmt.Errorf("%w: exp - iat is %s, accepted up to %s", ErrLifetime, expires.Sub(issued), maxLifetime)
	}
	if e.Now.After(expires.Add(e.ClockSkew)) {
		return fmt.Errorf("%w: exp was %s before the verifier's clock, accepted skew %s", ErrExpired, e.Now.Sub(expires).Round(time.Second), e.ClockSkew)
	}
	if issued.After(e.Now.Add(e.ClockSkew)) {
		return fmt.Errorf("%w: iat is %s ahead, accepted skew %s", ErrIssuedInFuture, issued.Sub(e.Now).Round(time.Second), e.ClockSkew)
	}
	return nil
}

// ExpiresAtWithSkew returns the time after which a verifier with the given skew rejects
// the token, so a cache of seen jti values may drop it then.
func (c Claims) ExpiresAtWithSkew(skew time.Duration) time.Time {
	return time.Unix(c.ExpiresAt, 0).Add(skew)
}
