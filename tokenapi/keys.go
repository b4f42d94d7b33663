package tokenapi

import (
	"crypto/rsa"
	"fmt"
	"os"

	"github.com/paycreds/tms/internal/pemkey"
)

// Errors of ParseMLEKey and LoadMLEKeyFile, matched with errors.Is.
var (
	// ErrNoPEMKey means the data holds no PEM private key block.
	ErrNoPEMKey = pemkey.ErrNoPEM
	// ErrKeyPasswordRequired means the key is encrypted and no password was given.
	ErrKeyPasswordRequired = pemkey.ErrPasswordRequired
	// ErrWrongKeyPassword means the key did not decrypt with the password given.
	ErrWrongKeyPassword = pemkey.ErrWrongPassword
	// ErrUnsupportedKey means a key type or an encryption scheme this package does not
	// read, such as an EC key or OpenSSL's legacy "Proc-Type: 4,ENCRYPTED" PEM.
	ErrUnsupportedKey = pemkey.ErrUnsupported
)

// ParseMLEKey parses the merchant's MLE private key from PEM: "RSA PRIVATE KEY" (PKCS#1),
// "PRIVATE KEY" (PKCS#8) or "ENCRYPTED PRIVATE KEY" (PKCS#8 encrypted with PBES2, as
// `openssl pkcs8 -topk8` writes it). password is used only for an encrypted key.
func ParseMLEKey(pemData, password []byte) (*rsa.PrivateKey, error) {
	key, err := pemkey.ParsePrivateKey(pemData, password)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: MLE private key: %w", err)
	}
	return key, nil
}

// LoadMLEKeyFile reads and parses a PEM file with ParseMLEKey.
func LoadMLEKeyFile(path string, password []byte) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: reading the MLE private key: %w", err)
	}
	key, err := pemkey.ParsePrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: MLE private key %s: %w", path, err)
	}
	return key, nil
}
