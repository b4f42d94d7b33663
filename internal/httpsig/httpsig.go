// Package httpsig computes and checks CyberSource HTTP Signature authentication: the
// digest header, the signing string and the HMAC-SHA256 signature header.
//
// The functions are pure. Given the method, host, escaped request target, date, body and
// key they return header values, so the client's transport and the sandbox's verifier
// share them and the official SDK's vectors test them.
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
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// HasBody reports whether requests with this method carry a body and so sign a digest.
func HasBody(method string) bool {
	switch strings.ToUpper(method) {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}

// Request is what a signature covers.
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
	var b strings.Builder
	b.Grow(len(r.Host) + len(r.Date) + len(r.Target) + len(r.Digest) + len(r.SignerID) + 64)
	b.WriteString("host: ")
	b.WriteString(r.Host)
	b.WriteString("\ndate: ")
	b.WriteString(r.Date)
	b.WriteString("\nrequest-target: ")
	writeLower(&b, r.Method)
	b.WriteByte(' ')
	b.WriteString(r.Target)
	if HasBody(r.Method) {
		b.WriteString("\ndigest: ")
		b.WriteString(r.Digest)
	}
	b.WriteString("\nv-c-merchant-id: ")
	b.WriteString(r.SignerID)
	return b.String()
}

func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

// Signer signs requests with one key. It is safe for concurrent use and keeps the HMAC
// state for its key between calls.
type Signer struct {
	keyID string
	pool  sync.Pool // of hash.Hash keyed with the secret
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
	s := &Signer{keyID: keyID}
	s.pool.New = func() any { return hmac.New(sha256.New, key) }
	return s, nil
}

// KeyID returns the key id the signer puts in the signature header.
func (s *Signer) KeyID() string { return s.keyID }

// Signature returns the base64 HMAC-SHA256 of the signing string of r.
func (s *Signer) Signature(r Request) string {
	return s.mac(SigningString(r))
}

func (s *Signer) mac(signingString string) string {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(signingString))
	var sum [sha256.Size]byte
	value := base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
	s.pool.Put(h)
	return value
}

// SignatureHeader returns the complete signature header value for r.
func (s *Signer) SignatureHeader(r Request) string {
	headers := headersWithoutDigest
	if HasBody(r.Method) {
		headers = headersWithDigest
	}
	return FormatSignatureHeader(s.keyID, headers, s.Signature(r))
}

// FormatSignatureHeader formats a signature header value:
// keyid="…", algorithm="HmacSHA256", headers="…", signature="…".
func FormatSignatureHeader(keyID string, headers []string, signature string) string {
	return `keyid="` + keyID + `", algorithm="` + Algorithm + `", headers="` +
		strings.Join(headers, " ") + `", signature="` + signature + `"`
}
