// Package tokenapi is a client for CyberSource's Token Management Service operation
// "Generate Payment Credentials": POST /tms/v2/tokens/{tokenId}/payment-credentials and
// its successor /tms/v3/…. It turns a stored token into a network token with a fresh
// cryptogram or dynamic CVV.
//
// CyberSource returns 201 with a compact JWE encrypted with RSA-OAEP-256 and A256GCM to
// the merchant's TMS message-level-encryption (MLE) public key. The Client decrypts it
// with the matching private key and returns typed PaymentCredentials; the ...JWE methods
// return it unopened for callers that forward it.
//
// Requests are authenticated with HTTP Signature (HMAC-SHA256 over host, date, request
// target, body digest and merchant id, WithHTTPSignature) or with a JWT, which CyberSource
// recommends for new integrations: RS256 with the key of a P12 file (WithP12JWT) or HS256
// with the shared secret (WithSharedSecretJWT). The Client signs each attempt just
// before handing it to net/http, over the exact bytes and escaped path sent, with a
// fresh jti and iat for every attempt.
//
// With JWT, request bodies can be encrypted to CyberSource's certificate
// (WithRequestEncryption) and responses to the merchant's MLE key
// (WithResponseEncryption); the Client wraps and unwraps them transparently.
//
// Input is checked against the limits of the API spec before anything is sent, so a
// rejected call mints no credentials. Errors are a *ValidationError, an *APIError for a
// status other than 201, a *DecryptError, or wrap ErrTransport or the context's error.
//
// Each attempt of a call is bounded by a timeout (DefaultTimeout, WithTimeout) and by the
// caller's context. WithRetry retries 429, 502, 503, 504 and connections that failed
// before the request was sent, and signs every attempt afresh. Nothing else is retried,
// because a request that reached CyberSource may have minted credentials. Response
// bodies are read through a size cap (DefaultMaxResponseBytes), and redirects are never
// followed.
//
// Card data never prints in full: CardNumber shows its last four digits and Secret shows
// "[REDACTED]" through fmt, String and slog. JSON encoding and Reveal give the real values.
package tokenapi
