package sandbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
)

// sharedContentKey encrypts the JWEs of one merchant with RSA-OAEP-256 and A256GCM under
// a content encryption key (CEK) that it replaces after maxUses responses, so that the
// RSA encryption of the CEK is paid once per maxUses responses. Each JWE gets a fresh
// random 96-bit IV, so one CEK stays far below the 2^32 messages NIST SP 800-38D allows
// for random IVs. It is safe for concurrent use.
//
// NOTE: CyberSource draws a fresh CEK for every response. A shared CEK serves load tests,
// where the sandbox's RSA work would otherwise cost more CPU than the client it measures.
type sharedContentKey struct {
	recipient       *rsa.PublicKey
	protectedHeader string // base64url of the JSON protected header, also the GCM additional data
	maxUses         int64

	mu      sync.Mutex // serializes the creation of a new CEK
	current atomic.Pointer[contentKey]
}

// contentKey is a CEK with its RSA-OAEP-256 encryption and how often it was handed out.
type contentKey struct {
	key          []byte // 32 bytes, for A256GCM
	encryptedKey string // base64url
	uses         atomic.Int64
}

// joseHeader is the protected header the sandbox's go-jose encrypter writes, with the
// members in the same order.
type joseHeader struct {
	Algorithm   string `json:"alg"`
	ContentType string `json:"cty"`
	Encryption  string `json:"enc"`
	KeyID       string `json:"kid"`
	Type        string `json:"typ"`
}

func newSharedContentKey(recipient *rsa.PublicKey, keyID string, maxUses int64) (*sharedContentKey, error) {
	header, err := json.Marshal(joseHeader{Algorithm: "RSA-OAEP-256", ContentType: "json", Encryption: "A256GCM", KeyID: keyID, Type: "JWT"})
	if err != nil {
		return nil, fmt.Errorf("encode the JWE header: %w", err)
	}
	return &sharedContentKey{
		recipient:       recipient,
		protectedHeader: base64.RawURLEncoding.EncodeToString(header),
		maxUses:         maxUses,
	}, nil
}

// encrypt returns plaintext as a compact JWE.
func (s *sharedContentKey) encrypt(plaintext []byte) (string, error) {
	key, err := s.contentKey()
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key.key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	iv := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	sealed := gcm.Seal(nil, iv, plaintext, []byte(s.protectedHeader))
	ciphertext, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]

	encode := base64.RawURLEncoding.EncodeToString
	return s.protectedHeader + "." + key.encryptedKey + "." + encode(iv) + "." + encode(ciphertext) + "." + encode(tag), nil
}

// contentKey returns the current CEK, or a new one when the current one was handed out
// maxUses times.
func (s *sharedContentKey) contentKey() (*contentKey, error) {
	if key := s.current.Load(); key != nil && key.uses.Add(1) <= s.maxUses {
		return key, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if key := s.current.Load(); key != nil && key.uses.Add(1) <= s.maxUses {
		return key, nil
	}

	key := &contentKey{key: make([]byte, 32)}
	if _, err := rand.Read(key.key); err != nil {
		return nil, err
	}
	encrypted, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, s.recipient, key.key, nil)
	if err != nil {
		return nil, fmt.Errorf("encrypt the content encryption key: %w", err)
	}
	key.encryptedKey = base64.RawURLEncoding.EncodeToString(encrypted)
	key.uses.Store(1)
	s.current.Store(key)
	return key, nil
}
