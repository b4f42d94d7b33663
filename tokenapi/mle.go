package tokenapi

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/p12"
)

// WithRequestEncryption encrypts every request body to CyberSource's request-encryption
// certificate: the body becomes {"encryptedRequest":"<JWE>"} with RSA-OAEP-256 and
// A256GCM, and kid (the certificate's subject serialNumber) and iat in the protected
// header. The JWT digest covers the wrapped body. Take the certificate from the P12 file
// (P12.CyberSourceCertificate) or from a PEM file with LoadCertificateFile.
//
// It needs JWT authentication; New rejects it with WithHTTPSignature.
func WithRequestEncryption(cert *x509.Certificate) Option {
	return func(s *settings) error {
		if cert == nil {
			return fmt.Errorf("%w: WithRequestEncryption was passed a nil certificate; use P12.CyberSourceCertificate or LoadCertificateFile", ErrInvalidOption)
		}
		if _, err := requestEncryptionKey(cert); err != nil {
			return err
		}
		s.jwt.requestCert = cert
		s.jwt.certificatesToAge = append(s.jwt.certificatesToAge, namedCertificate{"request-encryption certificate", cert})
		return nil
	}
}

// WithResponseEncryption requests that CyberSource encrypt responses to the merchant's
// MLE key whose kid is given, through the v-c-response-mle-kid JWT claim. Bodies that
// arrive as {"encryptedResponse":"<JWE>"}, error bodies included, are opened with the
// keys of WithMLEKey or WithMLEKeys before anything else reads them. A body that arrives
// in the clear is read as it is.
//
// It needs JWT authentication and an MLE private key.
func WithResponseEncryption(kid string) Option {
	return func(s *settings) error {
		if err := checkIdentifier("response MLE key id", kid); err != nil {
			return err
		}
		s.jwt.responseMLEKeyID = kid
		return nil
	}
}

// minRequestKeyBits is the smallest request-encryption key accepted. CyberSource's
// certificate holds an RSA-2048 key.
const minRequestKeyBits = 2048

func requestEncryptionKey(cert *x509.Certificate) (*rsa.PublicKey, error) {
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the request-encryption certificate %q contains a %T key; CyberSource's is RSA", ErrInvalidOption, cert.Subject.String(), cert.PublicKey)
	}
	if bits := key.N.BitLen(); bits < minRequestKeyBits {
		return nil, fmt.Errorf("%w: the request-encryption certificate %q has a %d-bit key; expected at least %d", ErrInvalidOption, cert.Subject.String(), bits, minRequestKeyBits)
	}
	if _, err := p12.SerialNumber(cert); err != nil {
		return nil, fmt.Errorf("%w: request-encryption certificate: %w", ErrInvalidOption, err)
	}
	return key, nil
}

// requestEncrypter wraps request bodies in {"encryptedRequest":"<JWE>"}.
type requestEncrypter struct {
	key   *rsa.PublicKey
	keyID string
}

func newRequestEncrypter(cert *x509.Certificate) (*requestEncrypter, error) {
	key, err := requestEncryptionKey(cert)
	if err != nil {
		return nil, err
	}
	kid, _ := p12.SerialNumber(cert) // checked by requestEncryptionKey
	return &requestEncrypter{key: key, keyID: kid}, nil
}

// encrypt returns the wrapped body. The iat header is the attempt's clock reading, so a
// go-jose encrypter is built per attempt; building one costs no key generation.
func (e *requestEncrypter) encrypt(body []byte, now time.Time) ([]byte, error) {
	options := (&jose.EncrypterOptions{}).WithHeader(jose.HeaderKey("iat"), now.Unix())
	encrypter, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: e.key, KeyID: e.keyID}, options)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: creating the request encrypter: %w", err)
	}
	object, err := encrypter.Encrypt(body)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: encrypting the request: %w", err)
	}
	compact, err := object.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("tokenapi: encrypting the request: %w", err)
	}
	return json.Marshal(gen.EncryptedRequest{EncryptedRequest: compact})
}

// replaceBody makes req send body, for a retry too.
func replaceBody(req *http.Request, body []byte) {
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
}

// encryptedResponse is the body of an encrypted response.
type encryptedResponse struct {
	EncryptedResponse *string `json:"encryptedResponse"`
}

// openEncryptedResponse returns the content of a {"encryptedResponse":"<JWE>"} body, and
// any other body unchanged. For a 201 the content is the payment-credentials JWE; for an
// error status it is CyberSource's JSON error body.
func (c *Client) openEncryptedResponse(body []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if !bytes.HasPrefix(trimmed, []byte("{")) || !bytes.Contains(trimmed, []byte(`"encryptedResponse"`)) {
		return body, nil
	}
	// A body that is not this JSON object is not encrypted, and is read as it is.
	var wrapper encryptedResponse
	if !isEncryptedResponse(trimmed, &wrapper) {
		return body, nil
	}
	if c.decrypter == nil {
		return nil, fmt.Errorf("%w: the response body is encrypted (encryptedResponse)", ErrNoMLEKey)
	}

	plaintext, _, err := c.decrypter.open(*wrapper.EncryptedResponse)
	if err != nil {
		var decryptErr *DecryptError
		if errors.As(err, &decryptErr) {
			decryptErr.Detail = "the encryptedResponse body: " + decryptErr.Detail
		}
		return nil, err
	}

	// The content of a 201 is the compact JWE itself. Accept it also as a JSON string.
	inner := bytes.TrimSpace(plaintext)
	if bytes.HasPrefix(inner, []byte(`"`)) {
		var jwe string
		if json.Unmarshal(inner, &jwe) == nil {
			inner = []byte(jwe)
		}
	}
	return inner, nil
}

func isEncryptedResponse(body []byte, wrapper *encryptedResponse) bool {
	return json.Unmarshal(body, wrapper) == nil && wrapper.EncryptedResponse != nil
}

// encryptedErrorBodyError is an error status whose encryptedResponse body did not open.
// errors.As finds both the *APIError, with the status and the raw body, and the
// decryption error.
type encryptedErrorBodyError struct {
	api     *APIError
	decrypt error
}

func (e *encryptedErrorBodyError) Error() string {
	return e.api.Error() + "; its encrypted body did not open: " + strings.TrimPrefix(e.decrypt.Error(), "tokenapi: ")
}

func (e *encryptedErrorBodyError) Unwrap() []error { return []error{e.api, e.decrypt} }
