package tokenapi

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/paycreds/tms/internal/jwtauth"
	"github.com/paycreds/tms/internal/p12"
)

// JWTClaimStyle selects how two JWT claims are spelled. The official SDKs disagree and
// CyberSource's documentation does not say which its servers prefer, so both exist.
type JWTClaimStyle int

const (
	// JWTClaimsDocumented names the digest algorithm claim "digestAlgorithm" and sends
	// request-method in upper case. It is the default because it is the spelling of
	// CyberSource's developer guide, and the Python and .NET SDKs send it.
	JWTClaimsDocumented JWTClaimStyle = iota
	// JWTClaimsNodeSDK names the claim "digest-algorithm" and sends request-method in
	// lower case, as the official Node SDK (0.0.83) does.
	JWTClaimsNodeSDK
)

// certificateExpiryWarning is how long before a certificate expires New starts warning
// through the logger.
const certificateExpiryWarning = 90 * 24 * time.Hour

// jwtSettings are the options of JWT authentication and message-level encryption,
// applied by configureJWT once every option has been read.
type jwtSettings struct {
	style             JWTClaimStyle
	requestCert       *x509.Certificate // CyberSource's request-encryption certificate
	responseMLEKeyID  string
	certificatesToAge []namedCertificate // checked for expiry in New
}

type namedCertificate struct {
	name string
	cert *x509.Certificate
}

// WithP12JWT authenticates with a JWT signed with RS256 by the key of a P12 file, as
// CyberSource recommends for new integrations. The kid is p12.KeyID. merchantID is the
// transacting merchant; with WithMetaKey, the P12 file is the portfolio's.
//
// The signature covers the method, host, escaped path, a digest of the exact body sent,
// and a fresh jti and iat for every attempt.
func WithP12JWT(merchantID string, p12File *P12) Option {
	return func(s *settings) error {
		if s.auth != nil {
			return fmt.Errorf("%w: credentials are configured twice; pass one authentication option", ErrInvalidOption)
		}
		if err := checkIdentifier("merchant id", merchantID); err != nil {
			return err
		}
		if p12File == nil || p12File.key == nil {
			return fmt.Errorf("%w: WithP12JWT was passed no P12; load one with LoadP12File or ParseP12", ErrInvalidOption)
		}
		signer, err := jwtauth.NewRS256Signer(p12File.KeyID, p12File.key)
		if err != nil {
			return fmt.Errorf("%w: P12 key: %w", ErrInvalidOption, err)
		}
		s.auth = &jwtAuth{merchantID: merchantID, signer: signer}
		s.jwt.certificatesToAge = append(s.jwt.certificatesToAge, namedCertificate{"P12 certificate of " + p12File.Alias, p12File.Certificate})
		return nil
	}
}

// WithSharedSecretJWT authenticates with a JWT signed with HS256 by the REST shared
// secret: the key id and the base64 secret as the CyberSource Business Center shows them,
// the same pair WithHTTPSignature takes.
func WithSharedSecretJWT(merchantID, keyID, secretKey string) Option {
	return func(s *settings) error {
		secret, err := s.sharedSecretCredentials(merchantID, keyID, secretKey)
		if err != nil {
			return err
		}
		signer, err := jwtauth.NewHS256Signer(keyID, secret)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidOption, err)
		}
		s.auth = &jwtAuth{merchantID: merchantID, signer: signer}
		return nil
	}
}

// WithJWTClaimStyle selects the spelling of the digest algorithm claim and the case of
// request-method. The default is JWTClaimsDocumented.
func WithJWTClaimStyle(style JWTClaimStyle) Option {
	return func(s *settings) error {
		if style != JWTClaimsDocumented && style != JWTClaimsNodeSDK {
			return fmt.Errorf("%w: JWT claim style %d is unknown; use JWTClaimsDocumented or JWTClaimsNodeSDK", ErrInvalidOption, style)
		}
		s.jwt.style = style
		return nil
	}
}

// configureJWT applies the JWT and encryption options after all options are read, because
// they depend on each other in any order: the meta key, the claim style, request and
// response encryption, and the logger for certificate expiry warnings.
func configureJWT(s *settings) error {
	auth, isJWT := s.auth.(*jwtAuth)
	if !isJWT {
		if s.jwt.requestCert != nil {
			return fmt.Errorf("%w: WithRequestEncryption needs JWT authentication (WithP12JWT or WithSharedSecretJWT); CyberSource does not accept encrypted requests with HTTP Signature", ErrInvalidOption)
		}
		if s.jwt.responseMLEKeyID != "" {
			return fmt.Errorf("%w: WithResponseEncryption needs JWT authentication (WithP12JWT or WithSharedSecretJWT), because the request names the key in a JWT claim", ErrInvalidOption)
		}
		if s.jwt.style != JWTClaimsDocumented {
			return fmt.Errorf("%w: WithJWTClaimStyle needs JWT authentication (WithP12JWT or WithSharedSecretJWT)", ErrInvalidOption)
		}
		return nil
	}

	auth.issuerID = s.portfolioID
	auth.style = jwtauth.DocumentedClaims
	if s.jwt.style == JWTClaimsNodeSDK {
		auth.style = jwtauth.NodeSDKClaims
	}
	if s.jwt.requestCert != nil {
		encrypter, err := newRequestEncrypter(s.jwt.requestCert)
		if err != nil {
			return err
		}
		auth.requestEncrypter = encrypter
	}
	if s.jwt.responseMLEKeyID != "" {
		if len(s.mleKeys) == 0 {
			return fmt.Errorf("%w: WithResponseEncryption needs the MLE private key to open encrypted responses; add it with WithMLEKey or WithMLEKeys", ErrInvalidOption)
		}
		auth.responseMLEKeyID = s.jwt.responseMLEKeyID
	}

	if s.logger != nil {
		now := s.now()
		for _, c := range s.jwt.certificatesToAge {
			warnIfExpiring(s, c, now)
		}
	}
	return nil
}

func warnIfExpiring(s *settings, c namedCertificate, now time.Time) {
	if c.cert == nil || !p12.ExpiresWithin(c.cert, now, certificateExpiryWarning) {
		return
	}
	state := "expires"
	if now.After(c.cert.NotAfter) {
		state = "expired"
	}
	s.logger.Warn("tokenapi: certificate "+state+"; renew it in the CyberSource Business Center",
		"certificate", c.name,
		"subject", c.cert.Subject.String(),
		"not_after", c.cert.NotAfter.UTC(),
		"days_left", int(c.cert.NotAfter.Sub(now).Hours()/24))
}

// jwtAuth adds the Authorization: Bearer header of CyberSource's JWT authentication,
// and encrypts the body first when request encryption is on.
type jwtAuth struct {
	merchantID       string // the v-c-merchant-id claim
	issuerID         string // the iss claim when a meta key is used; empty means merchantID
	signer           *jwtauth.Signer
	style            jwtauth.ClaimStyle
	responseMLEKeyID string            // the v-c-response-mle-kid claim, empty when not requested
	requestEncrypter *requestEncrypter // nil when requests are sent in the clear
}

// authenticate signs one attempt. With request encryption it replaces req.Body with
// {"encryptedRequest":"<JWE>"} and digests those bytes, because the digest claim must
// cover the bytes on the wire.
func (a *jwtAuth) authenticate(req *http.Request, body []byte, now time.Time) error {
	if a.requestEncrypter != nil && jwtauth.HasBody(req.Method) {
		wrapped, err := a.requestEncrypter.encrypt(body, now)
		if err != nil {
			return err
		}
		body = wrapped
		replaceBody(req, body)
	}

	id, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("tokenapi: generating the JWT id: %w", err)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	claims := jwtauth.NewClaims(jwtauth.Request{
		Method:           req.Method,
		Host:             host,
		Target:           req.URL.RequestURI(),
		Body:             body,
		Time:             now,
		ID:               id.String(),
		MerchantID:       a.merchantID,
		IssuerID:         a.issuerID,
		ResponseMLEKeyID: a.responseMLEKeyID,
	}, a.style)
	token, err := a.signer.Sign(claims)
	if err != nil {
		return fmt.Errorf("tokenapi: %w", err)
	}

	req.Host = host
	req.Header.Set(jwtauth.HeaderAuthorization, "Bearer "+token)
	return nil
}
