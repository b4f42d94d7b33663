package sandbox

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/gen"
)

// Reasons an {"encryptedRequest"} body is rejected with 400, recorded in
// Record.EncryptionError and logged.
var (
	ErrEncryptionNeedsJWT      = errors.New("an encrypted request needs JWT authentication")
	ErrNoRequestEncryptionKey  = errors.New("the sandbox has no request-encryption key")
	ErrInvalidEncryptedRequest = errors.New("the encryptedRequest is not a valid JWE for the request-encryption key")
)

// messageEncryption is the message-level encryption of one authenticated exchange: the
// request body may arrive as {"encryptedRequest":"<JWE>"}, and when the JWT asked for it
// with v-c-response-mle-kid, the response goes out as {"encryptedResponse":"<JWE>"}.
type messageEncryption struct {
	server      *Server
	ex          *exchange
	jwt         bool
	responseKID string
	responseKey *rsa.PublicKey // nil when the response is sent in the clear
}

func (s *Server) messageEncryption(verifier authenticator, merchant *merchantState, ex *exchange) *messageEncryption {
	e := &messageEncryption{server: s, ex: ex}
	if v, ok := verifier.(*jwtVerifier); ok {
		e.jwt = true
		if kid := v.claims.ResponseMLEKeyID; kid != "" {
			e.responseKID = kid
			e.responseKey = merchant.MLEPublicKey
		}
	}
	return e
}

// openRequest returns the content of an {"encryptedRequest":"<JWE>"} body, any other body
// unchanged, or the 400 response for an encrypted body that cannot be opened.
func (e *messageEncryption) openRequest(body []byte) ([]byte, *response) {
	trimmed := bytes.TrimSpace(body)
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		return body, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(trimmed, &fields) != nil {
		return body, nil
	}
	raw, encrypted := fields["encryptedRequest"]
	if !encrypted {
		return body, nil
	}
	e.ex.record.EncryptedRequest = true

	reject := func(reason error, message string) ([]byte, *response) {
		e.ex.record.EncryptionError = reason
		e.server.logger.Warn("sandbox: encrypted request rejected", "reason", reason.Error(), "correlation_id", e.ex.record.CorrelationID)
		resp := errorResponse(http.StatusBadRequest, "invalidRequest", message)
		return nil, &resp
	}
	if !e.jwt {
		return reject(ErrEncryptionNeedsJWT, "Encrypted requests need JWT authentication")
	}
	key := e.server.jwt.requestKey
	if key == nil {
		return reject(ErrNoRequestEncryptionKey, "Request encryption is not enabled for this merchant")
	}
	if len(fields) != 1 {
		return reject(fmt.Errorf("%w: the body has fields besides encryptedRequest", ErrInvalidEncryptedRequest), "encryptedRequest must be the only field of the body")
	}
	var compact string
	if err := json.Unmarshal(raw, &compact); err != nil {
		return reject(fmt.Errorf("%w: encryptedRequest is not a string", ErrInvalidEncryptedRequest), "encryptedRequest must be a string")
	}

	plaintext, err := e.decryptRequest(compact, key)
	if err != nil {
		return reject(fmt.Errorf("%w: %w", ErrInvalidEncryptedRequest, err), "The encryptedRequest could not be decrypted")
	}
	return plaintext, nil
}

// decryptRequest checks the JWE header (RSA-OAEP-256, A256GCM, the certificate's kid, an
// iat within the clock skew) and decrypts it.
func (e *messageEncryption) decryptRequest(compact string, key *RequestEncryptionKey) ([]byte, error) {
	object, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, err
	}
	header := object.Header
	if header.KeyID != e.server.jwt.requestKeyID {
		return nil, fmt.Errorf("kid %q is not the request-encryption certificate's %q", header.KeyID, e.server.jwt.requestKeyID)
	}
	iat, ok := header.ExtraHeaders[jose.HeaderKey("iat")].(float64)
	if !ok {
		return nil, errors.New("the protected header has no numeric iat")
	}
	now := e.server.now()
	if offset := now.Sub(time.Unix(int64(iat), 0)); offset > e.server.clockSkew || offset < -e.server.clockSkew {
		return nil, fmt.Errorf("iat is %s from the sandbox clock, limit %s", offset.Round(time.Second), e.server.clockSkew)
	}
	plaintext, err := object.Decrypt(key.PrivateKey)
	if err != nil {
		return nil, errors.New("the JWE does not decrypt with the request-encryption key")
	}
	return plaintext, nil
}

// sealResponse wraps resp's body in {"encryptedResponse":"<JWE>"} when the JWT asked for
// an encrypted response. The JWE is encrypted to the merchant's MLE key with
// RSA-OAEP-256 and A256GCM and carries the requested kid. The plaintext of a 201 is the
// payment-credentials JWE, and of an error the JSON error body.
//
// Faults that stand for a proxy's page or a broken connection are not API responses, so
// they are sent unsealed, except that a cut connection cuts the sealed body instead.
func (e *messageEncryption) sealResponse(resp response) response {
	if e.responseKey == nil || resp.fromProxy || resp.oversized {
		return resp
	}
	compact, err := encryptResponseBody(resp.body, e.responseKey, e.responseKID, e.server.now())
	if err != nil {
		e.server.logger.Error("sandbox: encrypt response failed", "error", err, "correlation_id", e.ex.record.CorrelationID)
		return errorResponse(http.StatusInternalServerError, "internalError", "The response could not be encrypted")
	}

	e.ex.record.EncryptedResponse = true
	sealed := jsonResponse(resp.status, gen.EncryptedResponse{EncryptedResponse: compact}, resp.errorType)
	sealed.allow = resp.allow
	if resp.cutAfter > 0 {
		sealed.cutAfter = len(sealed.body) / 2
	}
	return sealed
}

func encryptResponseBody(plaintext []byte, key *rsa.PublicKey, kid string, now time.Time) (string, error) {
	options := (&jose.EncrypterOptions{}).WithHeader(jose.HeaderKey("iat"), now.Unix())
	encrypter, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: key, KeyID: kid}, options)
	if err != nil {
		return "", err
	}
	object, err := encrypter.Encrypt(plaintext)
	if err != nil {
		return "", err
	}
	return object.CompactSerialize()
}
