package tokenapitest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"sync"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// jwtCredentials are a Server's credentials for JWT authentication and request
// encryption: the merchant's P12 file and CyberSource's request-encryption key.
type jwtCredentials struct {
	certificate *x509.Certificate // the merchant's, registered with the sandbox
	p12         *tokenapi.P12
	p12Data     []byte
	p12Password string
	requestKey  *sandbox.RequestEncryptionKey
}

// sharedJWTKeys returns the RSA-2048 keys behind every Server's P12 certificate and
// request-encryption certificate. They are generated once per process, because two more
// keys per Server would about triple the time Start spends generating keys. Each Server
// makes its own certificates with their own kids, so a JWT or an encrypted request made
// for one Server is rejected by another.
var sharedJWTKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return keys, fmt.Errorf("generate the JWT keys: %w", err)
		}
		keys[i] = key
	}
	return keys, nil
})

// newJWTCredentials makes the merchant's P12 file, with the password set to the merchant
// id as CyberSource sets it, and CyberSource's request-encryption key.
func newJWTCredentials(merchantID string) (*jwtCredentials, error) {
	keys, err := sharedJWTKeys()
	if err != nil {
		return nil, err
	}
	merchantKey, requestEncryptionKey := keys[0], keys[1]

	certificate, err := sandbox.NewCertificate(merchantID, merchantKey)
	if err != nil {
		return nil, err
	}
	requestKey, err := sandbox.NewRequestEncryptionKey(requestEncryptionKey)
	if err != nil {
		return nil, err
	}
	data, err := sandbox.EncodeP12(merchantKey, certificate, requestKey.Certificate, merchantID)
	if err != nil {
		return nil, err
	}
	p12, err := tokenapi.ParseP12(data, merchantID, merchantID)
	if err != nil {
		return nil, err
	}
	return &jwtCredentials{
		certificate: certificate,
		p12:         p12,
		p12Data:     data,
		p12Password: merchantID,
		requestKey:  requestKey,
	}, nil
}

// JWTClientOptions returns the tokenapi options that point a Client at the server with
// JWT authentication: its base URL, a JWT signed with RS256 by the P12 key of P12, and
// the MLE private key. Add tokenapi.WithRequestEncryption(srv.CyberSourceCertificate())
// and tokenapi.WithResponseEncryption(srv.MLEKeyID()) for message-level encryption.
func (s *Server) JWTClientOptions() []tokenapi.Option {
	return []tokenapi.Option{
		tokenapi.WithBaseURL(s.URL),
		tokenapi.WithP12JWT(s.MerchantID, s.jwt.p12),
		tokenapi.WithMLEKey(s.mleKey),
	}
}

// SharedSecretJWTClientOptions returns the tokenapi options that point a Client at the
// server with a JWT signed with HS256 by the merchant's shared secret: its base URL, the
// merchant id, key id and secret, and the MLE private key.
func (s *Server) SharedSecretJWTClientOptions() []tokenapi.Option {
	return []tokenapi.Option{
		tokenapi.WithBaseURL(s.URL),
		tokenapi.WithSharedSecretJWT(s.MerchantID, s.KeyID, s.SecretKey),
		tokenapi.WithMLEKey(s.mleKey),
	}
}

// P12 returns the merchant's P12 file as tokenapi.ParseP12 reads it. The server accepts
// RS256 JWTs signed with its key, and its CyberSourceCertificate is the server's
// request-encryption certificate.
func (s *Server) P12() *tokenapi.P12 { return s.jwt.p12 }

// P12Data returns the merchant's P12 file as CyberSource issues it, for tests of code
// that loads the file itself, and its password, which is the merchant id. The file
// contains the merchant's key and certificate and CyberSource's request-encryption
// certificate, under the bag names the official SDKs look up.
func (s *Server) P12Data() (data []byte, password string) {
	return bytes.Clone(s.jwt.p12Data), s.jwt.p12Password
}

// CyberSourceCertificate returns the server's request-encryption certificate: request
// bodies sent as {"encryptedRequest":"<JWE>"} must be encrypted to it. It is also in
// the P12 file.
func (s *Server) CyberSourceCertificate() *x509.Certificate { return s.jwt.requestKey.Certificate }
