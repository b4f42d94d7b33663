package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SHA-1 only derives a key id from a public key, not a security check.
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultClockSkew is the accepted difference between a request's date header and the
// sandbox clock when Config.ClockSkew is zero.
const DefaultClockSkew = 5 * time.Minute

// Config is the set of merchants, keys and tokens a Server serves, and its settings.
type Config struct {
	Merchants  []Merchant
	Portfolios []Portfolio // meta keys that sign for several merchants
	Tokens     []Token

	// ClockSkew is the accepted difference between the date header, or a JWT's iat and
	// exp, and Now, in either direction. Zero means DefaultClockSkew.
	ClockSkew time.Duration

	// RequestEncryption is CyberSource's request-encryption key, which opens bodies sent
	// as {"encryptedRequest":"<JWE>"}. Nil rejects such bodies with 400.
	RequestEncryption *RequestEncryptionKey

	// RequestHosts lists request-host JWT claims accepted besides the request's Host
	// header, such as "apitest.cybersource.com" for clients that sign the CyberSource
	// host while they reach the sandbox at a loopback address.
	RequestHosts []string

	// Now returns the sandbox clock. Nil means time.Now.
	Now func() time.Time

	// ContentKeyReuse is how many 201 responses of one merchant share a content encryption
	// key (CEK), each with its own random IV. 0 or 1 draws a fresh CEK per response, as
	// CyberSource does. Load tests set it higher to spare the RSA encryption of the CEK,
	// most of the sandbox's CPU time per call.
	ContentKeyReuse int

	// ValidationCacheSize, when positive, remembers up to this many requests that passed
	// the OpenAPI document, so that a repeated request is not validated again (see
	// spec.ValidatingCache). 0 validates every request in full.
	ValidationCacheSize int

	// Logger receives one record per request: method, path with the token id masked,
	// status, duration, correlation id and, on 401, the reason. It never receives a body,
	// a signature, a shared secret or card data. Nil discards the records.
	Logger *slog.Logger

	// OnRequest, when set, is called after each request with what happened, so tests
	// can check why a request failed. It is called on the request's goroutine.
	OnRequest func(Record)
}

// Merchant is a CyberSource merchant account with a shared secret key (HTTP Signature
// and HS256 JWTs), optional P12 certificates (RS256 JWTs) and a TMS
// message-level-encryption (MLE) key.
type Merchant struct {
	ID        string
	KeyID     string // the key id of the shared secret, a UUID as CyberSource issues it
	SecretKey string // the shared secret in standard base64, as CyberSource issues it

	// MLEPublicKey is the merchant's TMS message-level-encryption key. 201 bodies are
	// JWEs encrypted to it with RSA-OAEP-256 and A256GCM.
	MLEPublicKey *rsa.PublicKey

	// MLEKeyID is the kid in the JWE header. Empty means MLEKeyID(MLEPublicKey).
	MLEKeyID string

	// Certificates are the merchant's P12 certificates, which verify RS256 JWTs. The
	// serialNumber attribute of each subject is the kid it is selected by.
	Certificates []*x509.Certificate

	// ProfileIDs, when not empty, lists the TMS profiles this merchant may name in the
	// profile-id header. A request naming another profile gets 403 forbidden. A request
	// without the header is always allowed.
	ProfileIDs []string
}

// Portfolio is a meta key: one key id and shared secret that sign requests for several
// merchants. The signing string carries the portfolio id, and the v-c-merchant-id
// header the transacting merchant.
type Portfolio struct {
	ID          string
	KeyID       string
	SecretKey   string   // standard base64
	MerchantIDs []string // each must be one of Config.Merchants

	// Certificates are the portfolio's P12 certificates for RS256 JWTs, as for Merchant.
	Certificates []*x509.Certificate
}

// MLEKeyID returns the kid the sandbox puts in the JWE header for key when Merchant.MLEKeyID
// is empty: the lower-case hex SHA-1 of the key's PKIX DER encoding, 40 characters like
// the kids CyberSource sends.
func MLEKeyID(key *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", fmt.Errorf("encode MLE public key: %w", err)
	}
	sum := sha1.Sum(der) //nolint:gosec // A key id, as above.
	return hex.EncodeToString(sum[:]), nil
}

// GenerateMerchant returns a merchant with a random key id in UUID form, a random 32-byte
// shared secret and a fresh RSA-2048 MLE key pair, and the MLE private key that opens
// its 201 bodies.
func GenerateMerchant(id string) (Merchant, *rsa.PrivateKey, error) {
	if id == "" {
		return Merchant{}, nil, errors.New("merchant id is empty")
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Merchant{}, nil, fmt.Errorf("generate shared secret: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Merchant{}, nil, fmt.Errorf("generate MLE key: %w", err)
	}
	m := Merchant{
		ID:           id,
		KeyID:        uuid.NewString(),
		SecretKey:    base64.StdEncoding.EncodeToString(secret),
		MLEPublicKey: &key.PublicKey,
	}
	return m, key, nil
}

// minMLEKeyBits is the smallest MLE key accepted. CyberSource's MLE keys are RSA-2048.
const minMLEKeyBits = 2048

func validateMerchant(m Merchant) error {
	if m.ID == "" {
		return errors.New("merchant id is empty")
	}
	if m.KeyID == "" {
		return fmt.Errorf("merchant %s: key id is empty", m.ID)
	}
	if m.MLEPublicKey == nil {
		return fmt.Errorf("merchant %s: MLE public key is missing", m.ID)
	}
	if bits := m.MLEPublicKey.N.BitLen(); bits < minMLEKeyBits {
		return fmt.Errorf("merchant %s: MLE public key has %d bits, want at least %d", m.ID, bits, minMLEKeyBits)
	}
	if strings.ContainsAny(m.MLEKeyID, "\"\\") {
		return fmt.Errorf("merchant %s: MLE key id contains a quote or backslash", m.ID)
	}
	for _, p := range m.ProfileIDs {
		if len(p) != 36 {
			return fmt.Errorf("merchant %s: profile id %q is not 36 characters", m.ID, p)
		}
	}
	return nil
}

func validatePortfolio(p Portfolio, merchants map[string]*merchantState) error {
	if p.ID == "" {
		return errors.New("portfolio id is empty")
	}
	if p.KeyID == "" {
		return fmt.Errorf("portfolio %s: key id is empty", p.ID)
	}
	if len(p.MerchantIDs) == 0 {
		return fmt.Errorf("portfolio %s: no merchant ids", p.ID)
	}
	for _, id := range p.MerchantIDs {
		if merchants[id] == nil {
			return fmt.Errorf("portfolio %s: merchant %s is not in Config.Merchants", p.ID, id)
		}
	}
	return nil
}
