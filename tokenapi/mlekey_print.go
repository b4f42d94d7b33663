package tokenapi

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
)

// describeKey names the kind and size of an MLE private key without any of its material.
func describeKey(key any) string {
	switch k := key.(type) {
	case nil:
		return "none"
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA-%d private key", k.N.BitLen())
	default:
		return fmt.Sprintf("%T", key)
	}
}

// LogValue returns the kid and the kind of key, so that slog never records key material.
// Without it, a JSON handler would encode an *rsa.PrivateKey with its private exponent
// and primes.
func (k MLEKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.KeyID), slog.String("key", describeKey(k.Key)))
}

// MarshalJSON encodes the kid and the kind of key, never the key material.
func (k MLEKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		KeyID string `json:"kid"`
		Key   string `json:"key"`
	}{k.KeyID, describeKey(k.Key)})
}
