package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paycreds/tms/internal/httpsig"
)

// Reasons for a 401, recorded in Record.AuthError and logged. The 401 body does not name
// the reason, because CyberSource's gateway returns "Authentication Failed" for every
// failure. Match them with errors.Is.
var (
	ErrMissingAuthHeader      = errors.New("an authentication header is missing")
	ErrInvalidSignatureHeader = errors.New("the signature header is invalid")
	ErrUnknownKeyID           = errors.New("the key id is unknown")
	ErrMerchantMismatch       = errors.New("the v-c-merchant-id header does not match the key")
	ErrDigestMismatch         = errors.New("the digest header does not match the body")
	ErrInvalidDate            = errors.New("the date header is not an IMF-fixdate")
	ErrClockSkew              = errors.New("the date header is outside the accepted clock skew")
	ErrSignatureMismatch      = errors.New("the signature does not match the signing string")
)

// authenticator verifies one authentication scheme and returns the transacting merchant.
type authenticator interface {
	authenticate(r *http.Request, body []byte) (*merchantState, error)
}

// authenticatorFor picks the scheme the request uses: JWT when it carries a bearer
// token, HTTP Signature otherwise.
func (s *Server) authenticatorFor(r *http.Request) authenticator {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "Bearer") {
		return &jwtVerifier{server: s}
	}
	return httpSignatureVerifier{server: s}
}

// signedHeaders are the names the signature header's headers list must contain.
var signedHeaders = []string{"host", "date", "request-target", "digest", "v-c-merchant-id"}

// signingKey is a shared secret with its owner: a merchant, or a portfolio (meta key).
type signingKey struct {
	secret    []byte
	merchant  *merchantState // set for a merchant's own key
	portfolio *portfolioState
}

type portfolioState struct {
	id        string
	merchants map[string]bool
}

// httpSignatureVerifier checks CyberSource HTTP Signature authentication.
type httpSignatureVerifier struct {
	server *Server
}

func (v httpSignatureVerifier) authenticate(r *http.Request, body []byte) (*merchantState, error) {
	merchantID := r.Header.Get(httpsig.HeaderMerchantID)
	date := r.Header.Get(httpsig.HeaderDate)
	digest := r.Header.Get(httpsig.HeaderDigest)
	signature := r.Header.Get(httpsig.HeaderSignature)
	required := []struct{ name, value string }{
		{httpsig.HeaderMerchantID, merchantID},
		{httpsig.HeaderDate, date},
		{httpsig.HeaderHost, r.Host},
		{httpsig.HeaderDigest, digest},
		{httpsig.HeaderSignature, signature},
	}
	for _, h := range required {
		if h.value == "" {
			return nil, fmt.Errorf("%w: %s", ErrMissingAuthHeader, h.name)
		}
	}

	params, err := httpsig.ParseSignatureHeader(signature)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignatureHeader, err)
	}
	if params.Algorithm != httpsig.Algorithm {
		return nil, fmt.Errorf("%w: algorithm %q is not %s", ErrInvalidSignatureHeader, params.Algorithm, httpsig.Algorithm)
	}
	for _, name := range signedHeaders {
		if !slices.Contains(params.Headers, name) {
			return nil, fmt.Errorf("%w: headers list does not include %s", ErrInvalidSignatureHeader, name)
		}
	}

	key := v.server.keys[params.KeyID]
	if key == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKeyID, params.KeyID)
	}
	merchant, signerID, err := v.server.transactingMerchant(key, merchantID)
	if err != nil {
		return nil, err
	}

	if digest != httpsig.Digest(body) {
		return nil, ErrDigestMismatch
	}
	if err := v.checkDate(date); err != nil {
		return nil, err
	}

	signingString, err := httpsig.BuildSigningString(params.Headers, func(name string) (string, bool) {
		switch name {
		case "request-target":
			return strings.ToLower(r.Method) + " " + requestTarget(r), true
		case "host":
			return r.Host, true
		case "v-c-merchant-id":
			return signerID, true
		}
		values := r.Header.Values(name)
		return strings.Join(values, ", "), len(values) > 0
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMissingAuthHeader, err)
	}
	if !httpsig.Verify(key.secret, signingString, params.Signature) {
		return nil, ErrSignatureMismatch
	}
	return merchant, nil
}

// transactingMerchant returns the merchant a request acts for and the id its signing
// string carries on the v-c-merchant-id line.
func (s *Server) transactingMerchant(key *signingKey, merchantID string) (*merchantState, string, error) {
	if key.portfolio != nil {
		if !key.portfolio.merchants[merchantID] {
			return nil, "", fmt.Errorf("%w: merchant %q is not in portfolio %s", ErrMerchantMismatch, merchantID, key.portfolio.id)
		}
		return s.merchants[merchantID], key.portfolio.id, nil
	}
	if merchantID != key.merchant.ID {
		return nil, "", fmt.Errorf("%w: header names %q but the key belongs to %s", ErrMerchantMismatch, merchantID, key.merchant.ID)
	}
	return key.merchant, merchantID, nil
}

func (v httpSignatureVerifier) checkDate(date string) error {
	sent, err := time.Parse(http.TimeFormat, date)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrInvalidDate, date)
	}
	now := v.server.now()
	if offset := now.Sub(sent); offset > v.server.clockSkew || offset < -v.server.clockSkew {
		return fmt.Errorf("%w: date is %s from the sandbox clock, limit %s", ErrClockSkew, offset.Round(time.Second), v.server.clockSkew)
	}
	return nil
}

// requestTarget returns the path and query exactly as the client sent them. The
// signature covers the escaped form, so a token id sent as a%2Fb is verified as
// a%2Fb and not as the decoded a/b.
func requestTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}
