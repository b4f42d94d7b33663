package sandbox

import (
	"container/heap"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/paycreds/tms/internal/jwtauth"
	"github.com/paycreds/tms/internal/p12"
)

// Reasons for a 401 with JWT authentication, besides ErrUnknownKeyID,
// ErrMerchantMismatch, ErrDigestMismatch, ErrClockSkew and ErrSignatureMismatch, which
// JWT failures share with HTTP Signature.
var (
	ErrInvalidJWT           = errors.New("the bearer token is not a valid version 2 JWT")
	ErrJWTExpired           = errors.New("the JWT has expired")
	ErrJWTClaimMismatch     = errors.New("a JWT request claim does not match the request")
	ErrJWTReplayed          = errors.New("the JWT's jti was already used")
	ErrCertificateNotValid  = errors.New("the certificate of the JWT's kid is not valid at this time")
	ErrUnknownResponseKeyID = errors.New("the v-c-response-mle-kid claim names no MLE key of the merchant")
)

// maxJWTLifetime bounds exp minus iat.
//
// NOTE: CyberSource does not publish a limit. The official SDKs set exp to iat + 120
// seconds, and the sandbox accepts up to ten minutes. The limit also bounds how long a
// jti stays in the replay cache.
const maxJWTLifetime = 10 * time.Minute

// maxReplayEntries bounds the replay cache. At the limit, the entry that expires first is
// dropped, so a flood of tokens cannot grow memory without bound.
const maxReplayEntries = 100_000

// jwtState is the Server's state for JWT authentication and request encryption.
type jwtState struct {
	certificates map[string]*certificateKey // RS256 keys by kid
	requestHosts []string
	replay       *replayCache
	requestKey   *RequestEncryptionKey // nil when encrypted requests are rejected
	requestKeyID string                // the serialNumber of requestKey's certificate
}

// certificateKey is a registered certificate with its owner, a merchant or a portfolio.
// The owner's secret is not used.
type certificateKey struct {
	certificate *x509.Certificate
	owner       *signingKey
}

// configureJWT registers the certificates of cfg's merchants and portfolios by kid.
func (s *Server) configureJWT(cfg Config) error {
	s.jwt = &jwtState{
		certificates: map[string]*certificateKey{},
		requestHosts: append([]string(nil), cfg.RequestHosts...),
		replay:       newReplayCache(maxReplayEntries),
	}
	for _, m := range cfg.Merchants {
		owner := &signingKey{merchant: s.merchants[m.ID]}
		if err := s.addCertificates(m.Certificates, owner, "merchant "+m.ID); err != nil {
			return err
		}
	}
	for _, p := range cfg.Portfolios {
		key := s.keys[p.KeyID]
		if key == nil || key.portfolio == nil {
			return fmt.Errorf("portfolio %s: key id %s is not registered", p.ID, p.KeyID)
		}
		if err := s.addCertificates(p.Certificates, &signingKey{portfolio: key.portfolio}, "portfolio "+p.ID); err != nil {
			return err
		}
	}
	if key := cfg.RequestEncryption; key != nil {
		if key.Certificate == nil || key.PrivateKey == nil {
			return errors.New("request encryption key: the certificate or the private key is missing")
		}
		if !key.PrivateKey.PublicKey.Equal(key.Certificate.PublicKey) {
			return errors.New("request encryption key: the private key does not belong to the certificate")
		}
		kid, err := p12.SerialNumber(key.Certificate)
		if err != nil {
			return fmt.Errorf("request encryption key: %w", err)
		}
		s.jwt.requestKey = key
		s.jwt.requestKeyID = kid
	}
	return nil
}

func (s *Server) addCertificates(certs []*x509.Certificate, owner *signingKey, name string) error {
	for _, cert := range certs {
		if cert == nil {
			return fmt.Errorf("%s: a certificate is nil", name)
		}
		if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
			return fmt.Errorf("%s: certificate %q has a %T key; RS256 needs RSA", name, cert.Subject.String(), cert.PublicKey)
		}
		kid, err := p12.SerialNumber(cert)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if s.jwt.certificates[kid] != nil {
			return fmt.Errorf("%s: certificate kid %s is already in use", name, kid)
		}
		s.jwt.certificates[kid] = &certificateKey{certificate: cert, owner: owner}
	}
	return nil
}

// jwtVerifier checks CyberSource JWT authentication. After a successful authenticate,
// claims holds the verified claims. A verifier serves one request.
type jwtVerifier struct {
	server *Server
	claims jwtauth.Claims
}

func (v *jwtVerifier) authenticate(r *http.Request, body []byte) (*merchantState, error) {
	s := v.server
	token, err := jwtauth.ParseBearer(r.Header.Get(jwtauth.HeaderAuthorization))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidJWT, err)
	}

	now := s.now()
	var key any
	var owner *signingKey
	switch token.Algorithm {
	case "RS256":
		entry := s.jwt.certificates[token.KeyID]
		if entry == nil {
			return nil, fmt.Errorf("%w: no certificate has kid %q", ErrUnknownKeyID, token.KeyID)
		}
		if now.Before(entry.certificate.NotBefore) || now.After(entry.certificate.NotAfter) {
			return nil, fmt.Errorf("%w: kid %s is valid from %s to %s", ErrCertificateNotValid, token.KeyID,
				entry.certificate.NotBefore.UTC().Format(time.RFC3339), entry.certificate.NotAfter.UTC().Format(time.RFC3339))
		}
		key, owner = entry.certificate.PublicKey, entry.owner
	default: // HS256, the only other algorithm ParseBearer accepts
		entry := s.keys[token.KeyID]
		if entry == nil {
			return nil, fmt.Errorf("%w: no shared secret has key id %q", ErrUnknownKeyID, token.KeyID)
		}
		key, owner = entry.secret, entry
	}

	claims, err := token.Verify(key)
	if errors.Is(err, jwtauth.ErrSignature) {
		return nil, fmt.Errorf("%w: %w", ErrSignatureMismatch, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidJWT, err)
	}

	if err := claims.Check(jwtauth.Expectation{
		Method:      r.Method,
		Hosts:       append([]string{r.Host}, s.jwt.requestHosts...),
		Target:      requestTarget(r),
		Body:        body,
		Now:         now,
		ClockSkew:   s.clockSkew,
		MaxLifetime: maxJWTLifetime,
	}); err != nil {
		return nil, classifyClaimError(err)
	}

	merchant, issuer, err := s.transactingMerchant(owner, claims.MerchantID)
	if err != nil {
		return nil, err
	}
	if claims.Issuer != issuer {
		return nil, fmt.Errorf("%w: iss is %q, expected %q for this key", ErrMerchantMismatch, claims.Issuer, issuer)
	}
	if kid := claims.ResponseMLEKeyID; kid != "" && kid != merchant.MLEKeyID {
		return nil, fmt.Errorf("%w: %q, merchant %s has %q", ErrUnknownResponseKeyID, kid, merchant.ID, merchant.MLEKeyID)
	}

	// The jti is recorded last, so that a token rejected for another reason does not
	// use it up.
	if !s.jwt.replay.add(claims.ID, claims.ExpiresAtWithSkew(s.clockSkew), now) {
		return nil, fmt.Errorf("%w: jti %s", ErrJWTReplayed, claims.ID)
	}
	v.claims = claims
	return merchant, nil
}

// classifyClaimError maps a jwtauth claim error to the sandbox's reasons. The result
// matches both the reason and err with errors.Is, and its message is err's alone, since
// the two sentinels mean the same.
func classifyClaimError(err error) error {
	reason := ErrInvalidJWT
	switch {
	case errors.Is(err, jwtauth.ErrDigest):
		reason = ErrDigestMismatch
	case errors.Is(err, jwtauth.ErrExpired):
		reason = ErrJWTExpired
	case errors.Is(err, jwtauth.ErrIssuedInFuture):
		reason = ErrClockSkew
	case errors.Is(err, jwtauth.ErrRequestMismatch):
		reason = ErrJWTClaimMismatch
	}
	return classifiedError{reason: reason, err: err}
}

// classifiedError is err, also matching reason with errors.Is.
type classifiedError struct {
	reason, err error
}

func (e classifiedError) Error() string   { return e.err.Error() }
func (e classifiedError) Unwrap() []error { return []error{e.reason, e.err} }

// replayCache records the jti of every accepted JWT until it expires. It is safe for
// concurrent use.
type replayCache struct {
	mu      sync.Mutex
	max     int
	expires map[string]time.Time
	order   expiryHeap
	dropped int // entries dropped at the size limit before they expired
}

func newReplayCache(maxEntries int) *replayCache {
	return &replayCache{max: maxEntries, expires: map[string]time.Time{}}
}

// add records jti until expires and reports whether it was new. It first drops the
// entries that expired before now.
func (c *replayCache) add(jti string, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	for c.order.Len() > 0 && c.order[0].expires.Before(now) {
		delete(c.expires, heap.Pop(&c.order).(replayEntry).jti)
	}
	if _, seen := c.expires[jti]; seen {
		return false
	}
	if len(c.expires) >= c.max {
		delete(c.expires, heap.Pop(&c.order).(replayEntry).jti)
		c.dropped++
	}
	c.expires[jti] = expires
	heap.Push(&c.order, replayEntry{jti: jti, expires: expires})
	return true
}

// len returns the number of recorded jti values.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expires)
}

type replayEntry struct {
	jti     string
	expires time.Time
}

// expiryHeap is a min-heap of entries by expiry.
type expiryHeap []replayEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(replayEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	last := old[len(old)-1]
	*h = old[:len(old)-1]
	return last
}
