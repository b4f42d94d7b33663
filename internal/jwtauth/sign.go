package jwtauth

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// MinSecretBytes is the shortest HS256 key accepted: RFC 7518 section 3.2 requires a key
// at least as long as the hash output, and CyberSource issues 32-byte secrets.
const MinSecretBytes = 32

// minRSABits is the smallest RS256 key accepted. CyberSource's P12 keys are RSA-2048.
const minRSABits = 2048

// Algorithm names of the JWS header (RFC 7518 section 3.1).
const (
	algorithmRS256 = "RS256"
	algorithmHS256 = "HS256"
)

// Signer signs claims as a compact JWS (RFC 7515 section 7.1) with the protected header
// {"alg","kid","typ":"JWT"}. The header is the same for every token of a Signer, so it
// is encoded once, in NewRS256Signer or NewHS256Signer. A Signer is safe for concurrent
// use: Sign only reads its fields.
type Signer struct {
	algorithm string
	keyID     string
	header    string          // the base64url protected header
	rsaKey    *rsa.PrivateKey // for RS256
	secret    []byte          // for HS256
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
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("create %s signer: %w", algorithmRS256, err)
	}
	s, err := newSigner(algorithmRS256, kid)
	if err != nil {
		return nil, err
	}
	s.rsaKey = key
	return s, nil
}

// NewHS256Signer returns a Signer for a shared secret: secret is the base64-decoded key,
// and kid its key id.
func NewHS256Signer(kid string, secret []byte) (*Signer, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("the shared secret decodes to %d bytes; HS256 needs at least %d, and CyberSource issues 32-byte secrets", len(secret), MinSecretBytes)
	}
	s, err := newSigner(algorithmHS256, kid)
	if err != nil {
		return nil, err
	}
	s.secret = append([]byte(nil), secret...)
	return s, nil
}

// protectedHeader is the JWS header of every token, its members in the order go-jose
// v4.1.9 writes them, so that the tokens are byte for byte the ones go-jose signed.
type protectedHeader struct {
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid"`
	Type      string `json:"typ"`
}

func newSigner(algorithm, kid string) (*Signer, error) {
	if kid == "" {
		return nil, errors.New("the key id (kid) is empty")
	}
	header, err := json.Marshal(protectedHeader{Algorithm: algorithm, KeyID: kid, Type: "JWT"})
	if err != nil {
		return nil, fmt.Errorf("encode the %s JWS header: %w", algorithm, err)
	}
	return &Signer{algorithm: algorithm, keyID: kid, header: base64.RawURLEncoding.EncodeToString(header)}, nil
}

// Algorithm returns "RS256" or "HS256".
func (s *Signer) Algorithm() string { return s.algorithm }

// KeyID returns the kid of the token header.
func (s *Signer) KeyID() string { return s.keyID }

// Sign returns the claims as a compact JWS: the encoded header, the base64url claims and
// the base64url signature of the two, joined by dots.
func (s *Signer) Sign(claims Claims) (string, error) {
	payload, err := json.Marshal(claims) //nolint:gosec // G117 flags the v-c-jwt-version claim by name; the claims hold no secret.
	if err != nil {
		return "", fmt.Errorf("encode JWT claims: %w", err)
	}

	encoding := base64.RawURLEncoding
	// An RS256 signature is as long as the modulus, an HS256 one as the SHA-256 output.
	signatureLength := sha256.Size
	if s.rsaKey != nil {
		signatureLength = s.rsaKey.Size()
	}
	token := make([]byte, 0, len(s.header)+1+encoding.EncodedLen(len(payload))+1+encoding.EncodedLen(signatureLength))
	token = append(token, s.header...)
	token = append(token, '.')
	token = encoding.AppendEncode(token, payload)

	signature, err := s.sign(token)
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: %w", s.algorithm, err)
	}
	token = append(token, '.')
	token = encoding.AppendEncode(token, signature)
	return string(token), nil
}

// sign returns the signature of the JWS signing input: RSASSA-PKCS1-v1_5 with SHA-256
// for RS256, HMAC-SHA256 for HS256.
func (s *Signer) sign(signingInput []byte) ([]byte, error) {
	if s.rsaKey != nil {
		digest := sha256.Sum256(signingInput)
		return rsa.SignPKCS1v15(rand.Reader, s.rsaKey, crypto.SHA256, digest[:])
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write(signingInput)
	return mac.Sum(nil), nil
}
