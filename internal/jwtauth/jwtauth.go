// Package jwtauth builds, signs and verifies the bearer JWTs of CyberSource's JWT
// authentication in its current "version 2" format: one Authorization header whose
// claims carry the body digest, the request method, host and path, the merchant id and
// a fresh jti.
//
// The functions are pure. Given the request, the time, the jti and the key they return
// the token, so the client and the sandbox's verifier share them, and the
// tokens recorded from the official Node SDK test them.
package jwtauth

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// Fixed values of the format.
const (
	// HeaderAuthorization is the header that carries "Bearer <JWS compact>".
	HeaderAuthorization = "Authorization"
	// Version is the v-c-jwt-version claim of the current format.
	Version = "2"
	// DigestAlgorithm is the value of the digest algorithm claim.
	DigestAlgorithm = "SHA-256"
	// Lifetime is exp minus iat in the tokens the official SDKs make.
	Lifetime = 120 * time.Second
)

// ClaimStyle selects between the two spellings the official SDKs send. CyberSource's
// documentation does not settle which one its servers prefer.
type ClaimStyle int

const (
	// DocumentedClaims names the digest algorithm claim "digestAlgorithm" and sends
	// request-method in upper case ("POST"), as CyberSource's developer guide shows and
	// as the Python (0.0.76) and .NET (1.0.0) SDKs send. It is the default because it is
	// the documented form.
	DocumentedClaims ClaimStyle = iota
	// NodeSDKClaims names the claim "digest-algorithm" and sends request-method in lower
	// case ("post"), as the Node SDK 0.0.83 sends.
	NodeSDKClaims
)

// String returns the style's name.
func (s ClaimStyle) String() string {
	switch s {
	case DocumentedClaims:
		return "documented"
	case NodeSDKClaims:
		return "node-sdk"
	}
	return "unknown"
}

// Claims is the claim set of a version 2 token. Exactly one of DigestAlgorithm and
// DigestAlgorithmNode is set in a token this package signs, and a verifier accepts either.
type Claims struct {
	Digest              string `json:"digest,omitempty"`
	DigestAlgorithm     string `json:"digestAlgorithm,omitempty"`
	DigestAlgorithmNode string `json:"digest-algorithm,omitempty"`
	IssuedAt            int64  `json:"iat"`
	ExpiresAt           int64  `json:"exp"`
	RequestHost         string `json:"request-host"`
	RequestResourcePath string `json:"request-resource-path"`
	RequestMethod       string `json:"request-method"`
	Issuer              string `json:"iss"`
	ID                  string `json:"jti"`
	Version             string `json:"v-c-jwt-version"`
	MerchantID          string `json:"v-c-merchant-id"`
	ResponseMLEKeyID    string `json:"v-c-response-mle-kid,omitempty"`
}

// Request is the part of an HTTP request that a token covers.
type Request struct {
	Method string    // HTTP method in any case
	Host   string    // the API host, or host:port when the URL names a port
	Target string    // escaped path as sent on the wire, plus "?query" when there is one
	Body   []byte    // exactly the bytes sent; only POST, PUT and PATCH digest it
	Time   time.Time // one clock reading per attempt, for iat and exp
	ID     string    // the jti, a random UUID v4 per attempt

	// MerchantID is the transacting merchant, the v-c-merchant-id claim.
	MerchantID string
	// IssuerID is the iss claim: the merchant id, or the portfolio id with a meta key.
	// Empty means MerchantID.
	IssuerID string
	// ResponseMLEKeyID, when set, requests that CyberSource encrypt the response to the
	// merchant's MLE key with this kid.
	ResponseMLEKeyID string
}

// NewClaims returns the claims for r in the given style.
func NewClaims(r Request, style ClaimStyle) Claims {
	issuer := r.IssuerID
	if issuer == "" {
		issuer = r.MerchantID
	}
	c := Claims{
		IssuedAt:            r.Time.Unix(),
		ExpiresAt:           r.Time.Add(Lifetime).Unix(),
		RequestHost:         r.Host,
		RequestResourcePath: r.Target,
		RequestMethod:       strings.ToUpper(r.Method),
		Issuer:              issuer,
		ID:                  r.ID,
		Version:             Version,
		MerchantID:          r.MerchantID,
		ResponseMLEKeyID:    r.ResponseMLEKeyID,
	}
	if style == NodeSDKClaims {
		c.RequestMethod = strings.ToLower(r.Method)
	}
	if HasBody(r.Method) {
		c.Digest = BodyDigest(r.Body)
		if style == NodeSDKClaims {
			c.DigestAlgorithmNode = DigestAlgorithm
		} else {
			c.DigestAlgorithm = DigestAlgorithm
		}
	}
	return c
}

// BodyDigest returns the digest claim for body: the padded standard base64 of its
// SHA-256 hash, without the "SHA-256=" prefix of HTTP Signature's digest header.
func BodyDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// HasBody reports whether requests with this method carry a body and so a digest claim.
func HasBody(method string) bool {
	switch strings.ToUpper(method) {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}
