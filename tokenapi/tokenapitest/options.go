package tokenapitest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/paycreds/tms/internal/httpsig"
	"github.com/paycreds/tms/internal/sandbox"
)

// Option configures a Server. Start returns an error that names an invalid option.
type Option func(*config) error

// WithMerchant fixes the merchant id, key id and shared secret (standard base64), which
// are otherwise DefaultMerchantID and a random key id and secret.
func WithMerchant(merchantID, keyID, secretKey string) Option {
	return func(c *config) error {
		switch {
		case merchantID == "":
			return errors.New("WithMerchant: the merchant id is empty")
		case keyID == "":
			return errors.New("WithMerchant: the key id is empty; CyberSource key ids are UUIDs")
		}
		if _, err := httpsig.DecodeSecret(secretKey); err != nil {
			return fmt.Errorf("WithMerchant: %w", err)
		}
		c.merchantID, c.keyID, c.secretKey = merchantID, keyID, secretKey
		return nil
	}
}

// WithMLEKey fixes the MLE key pair that JWEs are encrypted to, which is otherwise a
// fresh RSA-2048 key. A fixed key saves the key generation in each test.
func WithMLEKey(key *rsa.PrivateKey) Option {
	return func(c *config) error {
		if key == nil {
			return errors.New("WithMLEKey: the key is nil")
		}
		c.mleKey = key
		return nil
	}
}

// WithProfileIDs lists the TMS profile ids (36-character UUIDs) the merchant may send in
// the profile-id header. A call naming another profile gets 403 forbidden. Without this
// option every profile id is accepted.
func WithProfileIDs(profileIDs ...string) Option {
	return func(c *config) error {
		for _, id := range profileIDs {
			if len(id) != 36 {
				return fmt.Errorf("WithProfileIDs: profile id %q is %d characters, want a 36-character UUID", id, len(id))
			}
		}
		c.profileIDs = append(c.profileIDs, profileIDs...)
		return nil
	}
}

// WithClock sets the server's clock, against which the date header of each request is
// checked with a tolerance of five minutes. It is time.Now by default.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("WithClock: the clock function is nil")
		}
		c.now = now
		return nil
	}
}

// WithLogger logs one record per request: method, path with the token id masked,
// status, duration and correlation id. Nothing is logged by default.
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) error {
		if logger == nil {
			return errors.New("WithLogger: the logger is nil")
		}
		c.logger = logger
		return nil
	}
}

// WithTokens adds tokens to the server.
func WithTokens(tokens ...Token) Option {
	return func(c *config) error {
		c.tokens = append(c.tokens, tokens...)
		return nil
	}
}

// WithoutDemoTokens starts the server without the tokens named by VisaTokenID and the
// other ...TokenID constants.
func WithoutDemoTokens() Option {
	return func(c *config) error {
		c.demoTokens = false
		return nil
	}
}

// generateMerchant returns a merchant with a random key id and shared secret. With
// withKey it also generates an RSA-2048 MLE key pair, which takes tens of milliseconds.
func generateMerchant(id string, withKey bool) (sandbox.Merchant, *rsa.PrivateKey, error) {
	if withKey {
		return sandbox.GenerateMerchant(id)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return sandbox.Merchant{}, nil, fmt.Errorf("generate shared secret: %w", err)
	}
	merchant := sandbox.Merchant{ID: id, KeyID: uuid.NewString(), SecretKey: base64.StdEncoding.EncodeToString(secret)}
	return merchant, nil, nil
}
