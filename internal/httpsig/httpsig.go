// Package httpsig computes and checks CyberSource HTTP Signature authentication: the
// digest header, the signing string and the HMAC-SHA256 signature header.
//
// The functions are pure. Given the method, host, escaped request target, date, body and
// key they return header values, so the client and the sandbox's verifier share them
// and the official SDK's vectors test them.
package httpsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Algorithm is the value of the algorithm parameter of the signature header.
const Algorithm = "HmacSHA256"

// Header names that HTTP Signature adds to a request, in the lower case CyberSource uses.
const (
	HeaderMerchantID = "v-c-merchant-id"
	HeaderDate       = "date"
	HeaderHost       = "host"
	HeaderDigest     = "digest"
	HeaderSignature  = "signature"
)

// Signed header lists: requests with a body (POST, PUT, PATCH) sign the digest, others do not.
var (
	headersWithDigest    = []string{"host", "date", "request-target", "digest", "v-c-merchant-id"}
	headersWithoutDigest = []string{"host", "date", "request-target", "v-c-merchant-id"}
)

// DecodeSecret decodes a shared secret key as CyberSource issues it: standard base64 with
// padding. The decoded bytes are the HMAC key.
func DecodeSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("shared secret key is empty")
	}
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("shared secret key is not standard base64 (as shown in the CyberSource Business Center): %w", err)
	}
	return key, nil
}

// Digest returns the digest header value for body: "SHA-256=" and the padded standard
// base64 of its SHA-256 hash.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	var value [len(digestPrefix) + digestBase64Len]byte
	copy(value[:], digestPrefix)
	base64.StdEncoding.Encode(value[len(digestPrefix):], sum[:])
	return string(value[:])
}

const (
	digestPrefix = "SHA-256="
	// digestBase64Len is the length of a SHA-256 or HMAC-SHA256 sum in padded base64.
	digestBase64Len = (sha256.Size + 2) / 3 * 4
)

// HasBody reports whether requests with this method carry a body and so sign a digest.
func HasBody(method string) bool {
	switch strings.ToUpper(method) {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}

// Request is the part of an HTTP request that a signature covers.
type Request struct {
	Method string // HTTP method in any case; the signing string uses lower case
	Host   string // host, or host:port when the URL names a port
	Target string // escaped path as sent on the wire, plus "?query" when there is one
	Date   string // IMF-fixdate, as in http.TimeFormat
	Digest string // digest header value; ignored for methods without a body

	// SignerID is the id on the signing string's v-c-merchant-id line: the merchant id, or
	// the portfolio id when a meta key signs for a transacting merchant.
	SignerID string
}

// SigningString returns the lines the signature covers, joined by "\n" with no trailing
// newline.
func SigningString(r Request) string {
	return string(appendSigningString(make([]byte, 0, signingStringLen(r)), r))
}

func signingStringLen(r Request) int {
	return len(r.Host) + len(r.Date) + len(r.Method) + len(r.Target) + len(r.Digest) + len(r.SignerID) + 64
}

// appendSigningString appends the signing string of r to dst.
func appendSigningString(dst []byte, r Request) []byte {
	dst = append(dst, "host: "...)
	dst = append(dst, r.Host...)
	dst = append(dst, "\ndate: "...)
	dst = append(dst, r.Date...)
	dst = append(dst, "\nrequest-target: "...)
	dst = appendLower(dst, r.Method)
	dst = append(dst, ' ')
	dst = append(dst, r.Target...)
	if HasBody(r.Method) {
		dst = append(dst, "\ndigest: "...)
		dst = append(dst, r.Digest...)
	}
	dst = append(dst, "\nv-c-merchant-id: "...)
	dst = append(dst, r.SignerID...)
	return dst
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Signer signs requests with one key. It is safe for concurrent use. It keeps keyed HMAC
// states and signing-string buffers between calls, and formats the constant start of its
// signature header once.
type Signer struct {
	keyID string
	pool  sync.Pool // of *signingState

	// headerPrefixWithDigest and headerPrefixWithoutDigest are the signature header up to
	// the opening quote of the signature parameter, for each signed header list.
	headerPrefixWithDigest    string
	headerPrefixWithoutDigest string
}

// signingState is the reusable part of one signature: an HMAC state keyed with the secret,
// a buffer for the signing string and one for the sum.
type signingState struct {
	mac    hash.Hash
	buffer []byte
	sum    [sha256.Size]byte // a local array passed to mac.Sum would escape to the heap
}

// NewSigner returns a Signer for the key id and the decoded shared secret.
func NewSigner(keyID string, secret []byte) (*Signer, error) {
	if keyID == "" {
		return nil, errors.New("key id is empty")
	}
	if len(secret) == 0 {
		return nil, errors.New("shared secret key is empty")
	}
	key := append([]byte(nil), secret...)
	s := &Signer{
		keyID:                     keyID,
		headerPrefixWithDigest:    signatureHeaderPrefix(keyID, headersWithDigest),
		headerPrefixWithoutDigest: signatureHeaderPrefix(keyID, headersWithoutDigest),
	}
	s.pool.New = func() any {
		return &signingState{mac: hmac.New(sha256.New, key), buffer: make([]byte, 0, 256)}
	}
	return s, nil
}

// KeyID returns the key id the signer puts in the signature header.
func (s *Signer) KeyID() string { return s.keyID }

// Signature returns the base64 HMAC-SHA256 of the signing string of r.
func (s *Signer) Signature(r Request) string {
	var signature [digestBase64Len]byte
	s.sign(&signature, r)
	return string(signature[:])
}

// sign writes the base64 HMAC-SHA256 of the signing string of r to signature.
func (s *Signer) sign(signature *[digestBase64Len]byte, r Request) {
	state := s.pool.Get().(*signingState)
	state.buffer = appendSigningString(state.buffer[:0], r)
	state.mac.Reset()
	state.mac.Write(state.buffer)
	base64.StdEncoding.Encode(signature[:], state.mac.Sum(state.sum[:0]))
	s.pool.Put(state)
}

// SignatureHeader returns the complete signature header value for r.
func (s *Signer) SignatureHeader(r Request) string {
	prefix := s.headerPrefixWithoutDigest
	if HasBody(r.Method) {
		prefix = s.headerPrefixWithDigest
	}
	var signature [digestBase64Len]byte
	s.sign(&signature, r)
	return prefix + string(signature[:]) + `"`
}

// signatureHeaderPrefix returns a signature header value up to the opening quote of its
// signature parameter.
func signatureHeaderPrefix(keyID string, headers []string) string {
	full := FormatSignatureHeader(keyID, headers, "")
	return full[:len(full)-1]
}

// FormatSignatureHeader formats a signature header value:
// keyid="…", algorithm="HmacSHA256", headers="…", signature="…".
func FormatSignatureHeader(keyID string, headers []string, signature string) string {
	return `keyid="` + keyID + `", algorithm="` + Algorithm + `", headers="` +
		strings.Join(headers, " ") + `", signature="` + signature + `"`
}
