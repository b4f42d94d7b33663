package jwtauth

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// MinSecretBytes is the shortest HS256 key accepted. go-jose v4.1.9 refuses to sign with
// an HMAC key shorter than the hash output, and CyberSource issues 32-byte secrets.
const MinSecretBytes = 32

// minRSABits is the smallest RS256 key accepted. CyberSource's P12 keys are RSA-2048.
const minRSABits = 2048

// Signer signs claims as a compact JWS with the header {"alg", "kid", "typ":"JWT"}. It is
// safe for concurrent use, because go-jose v4.1.9's Sign only reads the signer's fields.
type Signer struct {
	signer    jose.Signer
	algorithm jose.SignatureAlgorithm
	keyID     string
}

// NewRS256Signer returns a Signer for the merchant's RSA key from a P12 file. kid is the
// serialNumber attribute of the certificate's subject.
func NewRS256Signer(kid string, key *rsa.PrivateKey) (*Signer, error) {
	if key == nil {
		return nil, errors.New("the RSA key is nil")
	}
	if bits := key.N.BitLen(); bits < minRSABits {
		return nil, fmt.Errorf("the RSA key has %d bits; use a key of at least %d bits", bits, minRSABits)
	}
	return newSigner(jose.RS256, kid, key)
}

// NewHS256Signer returns a Signer for a shared secret: secret is the base64-decoded key,
// and kid its key id.
func NewHS256Signer(kid string, secret []byte) (*Signer, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("the shared secret decodes to %d bytes; HS256 needs at least %d, and CyberSource issues 32-byte secrets", len(secret), MinSecretBytes)
	}
	return newSigner(jose.HS256, kid, secret)
}

func newSigner(algorithm jose.SignatureAlgorithm, kid string, key any) (*Signer, error) {
	if kid == "" {
		return nil, errors.New("the key id (kid) is empty")
	}
	options := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: algorithm, Key: key}, options)
	if err != nil {
		return nil, fmt.Errorf("create %s signer: %w", algorithm, err)
	}
	return &Signer{signer: signer, algorithm: algorithm, keyID: kid}, nil
}

// Algorithm returns "RS256" or "HS256".
func (s *Signer) Algorithm() string { return string(s.algorithm) }

// KeyID returns the kid of the token header.
func (s *Signer) KeyID() string { return s.keyID }

// Sign returns the claims as a compact JWS.
func (s *Signer) Sign(claims Claims) (string, error) {
	payload, err := json.Marshal(claims) //nolint:gosec // G117 flags the v-c-jwt-version claim by name; the claims hold no secret.
	if err != nil {
		return "", fmt.Errorf("encode JWT claims: %w", err)
	}
	object, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: %w", s.algorithm, err)
	}
	return object.CompactSerialize()
}
