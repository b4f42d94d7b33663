package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"log/slog"
	"os"
	"strings"

	"github.com/paycreds/tms/tokenapi"
)

// Environment variables of JWT authentication. The P12 password, like the shared secret,
// is read only from the environment or a file.
const (
	envP12File     = "CYBERSOURCE_P12_FILE"
	envP12Password = "CYBERSOURCE_P12_PASSWORD" //nolint:gosec // the name of a variable, not a password
)

// Values of --auth.
const (
	authHTTPSignature = "http-signature"
	authJWT           = "jwt"
)

// authFlags are the authentication and message-level encryption flags of `paycreds get`.
type authFlags struct {
	auth               string
	p12File            string
	p12PasswordFile    string
	sharedSecretJWT    bool
	nodeClaims         bool
	encryptRequest     bool
	requestCertificate string
	encryptResponseKID string
}

func (f *authFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.auth, "auth", "", "authentication: http-signature or jwt (default http-signature, or jwt when --p12 or --shared-secret-jwt is given)")
	fs.StringVar(&f.p12File, "p12", "", "P12 file from the CyberSource Business Center, for JWT signed with RS256 (or $"+envP12File+" with --auth jwt)")
	fs.StringVar(&f.p12PasswordFile, "p12-password-file", "", "file holding the P12 password (default: $"+envP12Password+", else the merchant id, as CyberSource sets it)")
	fs.BoolVar(&f.sharedSecretJWT, "shared-secret-jwt", false, "JWT signed with HS256 by the shared secret of --key-id, instead of a P12 key")
	fs.BoolVar(&f.nodeClaims, "jwt-node-claims", false, "spell JWT claims as the Node SDK does (digest-algorithm, lower-case request-method)")
	fs.BoolVar(&f.encryptRequest, "encrypt-request", false, "encrypt the request body to CyberSource's certificate from the P12 file or --request-cert (JWT only)")
	fs.StringVar(&f.requestCertificate, "request-cert", "", "PEM or DER file of CyberSource's request-encryption certificate, for --encrypt-request")
	fs.StringVar(&f.encryptResponseKID, "encrypt-response", "", "kid of the MLE key CyberSource should encrypt responses to (JWT only); the key comes from --mle-key")
}

// method returns the authentication method the flags select.
func (f *authFlags) method() (string, error) {
	wantsJWT := f.p12File != "" || f.sharedSecretJWT
	switch f.auth {
	case "":
		if wantsJWT {
			return authJWT, nil
		}
		return authHTTPSignature, nil
	case authJWT:
		return authJWT, nil
	case authHTTPSignature:
		if wantsJWT {
			return "", usagef("--p12 and --shared-secret-jwt need --auth jwt, not --auth http-signature")
		}
		return authHTTPSignature, nil
	}
	return "", usagef("--auth is %q; use http-signature or jwt", f.auth)
}

// authOptions returns the client options for authentication, the meta key and message
// encryption. Every problem is a usage error naming the flag or variable to fix.
func (f *getFlags) authOptions(a *app, merchantID string) ([]tokenapi.Option, error) {
	method, err := f.method()
	if err != nil {
		return nil, err
	}
	if method == authHTTPSignature && (f.encryptRequest || f.encryptResponseKID != "" || f.nodeClaims) {
		return nil, usagef("--encrypt-request, --encrypt-response and --jwt-node-claims need --auth jwt; CyberSource accepts encrypted messages with JWT authentication only")
	}

	var opts []tokenapi.Option
	var p12 *tokenapi.P12
	p12File := firstNonEmpty(f.p12File, a.getenv(envP12File))
	switch {
	case method == authHTTPSignature || f.sharedSecretJWT:
		keyID := firstNonEmpty(f.keyID, a.getenv(envKeyID))
		if keyID == "" {
			return nil, usagef("no key id: pass --key-id or set %s", envKeyID)
		}
		secret, err := f.secretKey(a)
		if err != nil {
			return nil, err
		}
		if method == authHTTPSignature {
			opts = append(opts, tokenapi.WithHTTPSignature(merchantID, keyID, secret))
		} else {
			opts = append(opts, tokenapi.WithSharedSecretJWT(merchantID, keyID, secret))
		}
	case p12File != "":
		if p12, err = f.loadP12(a, p12File, merchantID); err != nil {
			return nil, err
		}
		opts = append(opts, tokenapi.WithP12JWT(merchantID, p12))
	default:
		return nil, usagef("--auth jwt needs a key: pass --p12 FILE (or set %s), or --shared-secret-jwt with the key id and shared secret", envP12File)
	}

	if f.portfolioID != "" {
		opts = append(opts, tokenapi.WithMetaKey(f.portfolioID))
	}
	if f.nodeClaims {
		opts = append(opts, tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK))
	}
	if f.encryptRequest {
		cert, err := f.requestEncryptionCertificate(p12)
		if err != nil {
			return nil, err
		}
		opts = append(opts, tokenapi.WithRequestEncryption(cert))
	}
	if f.encryptResponseKID != "" {
		opts = append(opts, tokenapi.WithResponseEncryption(f.encryptResponseKID))
	}
	if p12 != nil && !f.verbose {
		// Certificate expiry warnings go to standard error. --verbose sets a logger of its
		// own at debug level, which includes them.
		opts = append(opts, tokenapi.WithLogger(slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	}
	return opts, nil
}

// loadP12 reads the P12 file with the password from --p12-password-file, the
// environment, or the merchant id. The alias is the portfolio id with a meta key.
func (f *getFlags) loadP12(a *app, path, merchantID string) (*tokenapi.P12, error) {
	password := a.getenv(envP12Password)
	if f.p12PasswordFile != "" {
		data, err := os.ReadFile(f.p12PasswordFile)
		if err != nil {
			return nil, usagef("--p12-password-file: %v", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	}
	alias := firstNonEmpty(f.portfolioID, merchantID)
	p12, err := tokenapi.LoadP12File(path, alias, password)
	switch {
	case errors.Is(err, tokenapi.ErrP12Password):
		return nil, usagef("--p12 %s: the password does not open the file; set %s or pass --p12-password-file (without either, the password is the merchant id %s)", path, envP12Password, alias)
	case errors.Is(err, tokenapi.ErrP12Alias):
		return nil, usagef("--p12: %v; check --merchant-id (or --meta-key for a portfolio's file)", err)
	case err != nil:
		return nil, usagef("--p12: %v", err)
	}
	return p12, nil
}

// requestEncryptionCertificate returns --request-cert, or CyberSource's certificate
// from the P12 file.
func (f *getFlags) requestEncryptionCertificate(p12 *tokenapi.P12) (*x509.Certificate, error) {
	if f.requestCertificate != "" {
		cert, err := tokenapi.LoadCertificateFile(f.requestCertificate)
		if err != nil {
			return nil, usagef("--request-cert: %v", err)
		}
		return cert, nil
	}
	if p12 == nil {
		return nil, usagef("--encrypt-request needs CyberSource's certificate: pass --request-cert FILE, or use --p12 with a file that contains CyberSource_SJC_US")
	}
	if p12.CyberSourceCertificate == nil {
		return nil, usagef("--encrypt-request: the P12 file contains no CyberSource_SJC_US certificate; pass --request-cert FILE")
	}
	return p12.CyberSourceCertificate, nil
}
