package sandbox_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/httpsig"
	"github.com/paycreds/tms/internal/jwtauth"
	"github.com/paycreds/tms/internal/sandbox"
)

// jwtMerchant is a generated merchant with a P12-style certificate and key.
type jwtMerchant struct {
	testMerchant
	certificate *x509.Certificate
	certKey     *rsa.PrivateKey
	kid         string
}

var (
	jwtMerchantsOnce sync.Once
	jwtMerchantList  []jwtMerchant
	requestKey       *sandbox.RequestEncryptionKey
	jwtMerchantsErr  error
)

// generatedJWTMerchants returns the generated merchants, each with a certificate, and
// CyberSource's request-encryption key, all generated once per test binary.
func generatedJWTMerchants(t *testing.T) ([]jwtMerchant, *sandbox.RequestEncryptionKey) {
	t.Helper()
	base := generatedMerchants(t)
	jwtMerchantsOnce.Do(func() {
		for _, m := range base {
			cert, key, err := sandbox.GenerateCertificate(m.ID)
			if err != nil {
				jwtMerchantsErr = err
				return
			}
			m.Certificates = []*x509.Certificate{cert}
			jwtMerchantList = append(jwtMerchantList, jwtMerchant{testMerchant: m, certificate: cert, certKey: key, kid: cert.Subject.SerialNumber})
		}
		requestKey, jwtMerchantsErr = sandbox.GenerateRequestEncryptionKey()
	})
	if jwtMerchantsErr != nil {
		t.Fatal(jwtMerchantsErr)
	}
	return jwtMerchantList, requestKey
}

// jwtSandbox starts a sandbox with the JWT merchants, the demo tokens and the
// request-encryption key.
func jwtSandbox(t *testing.T, change func(*sandbox.Config)) (*sandboxServer, []jwtMerchant, *sandbox.RequestEncryptionKey) {
	t.Helper()
	ms, key := generatedJWTMerchants(t)
	cfg := sandbox.Config{Tokens: sandbox.DemoTokens(), RequestEncryption: key}
	for _, m := range ms {
		cfg.Merchants = append(cfg.Merchants, m.Merchant)
	}
	if change != nil {
		change(&cfg)
	}
	return startSandbox(t, cfg), ms, key
}

// jwtTransport authenticates each request with a JWT built by package jwtauth, with
// hooks that break one part of it.
type jwtTransport struct {
	merchantID string
	issuerID   string
	signer     *jwtauth.Signer
	style      jwtauth.ClaimStyle
	now        func() time.Time // nil means time.Now

	encryptTo   *x509.Certificate // when set, the body is sent as {"encryptedRequest"}
	responseKID string

	// jweHeader, when set, changes the protected header of the request JWE.
	jweHeader func(*jose.EncrypterOptions)
	// changeClaims, when set, changes the claims before signing.
	changeClaims func(*jwtauth.Claims)
	// afterSigning, when set, changes the signed request before it is sent.
	afterSigning func(*http.Request)
	// token, when set, is sent in place of a freshly signed one.
	token string
	// lastToken is the token most recently sent.
	lastToken string
}

func rs256For(t *testing.T, m jwtMerchant) *jwtTransport {
	t.Helper()
	signer, err := jwtauth.NewRS256Signer(m.kid, m.certKey)
	if err != nil {
		t.Fatal(err)
	}
	return &jwtTransport{merchantID: m.ID, signer: signer}
}

func hs256For(t *testing.T, merchantID, keyID, secret string) *jwtTransport {
	t.Helper()
	signer, err := jwtauth.NewHS256Signer(keyID, decodeSecret(t, secret))
	if err != nil {
		t.Fatal(err)
	}
	return &jwtTransport{merchantID: merchantID, signer: signer}
}

func (j *jwtTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	now := time.Now()
	if j.now != nil {
		now = j.now()
	}
	if j.encryptTo != nil {
		var err error
		if body, err = j.encrypt(body, now); err != nil {
			return nil, err
		}
	}
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))

	token := j.token
	if token == "" {
		claims := jwtauth.NewClaims(jwtauth.Request{
			Method: out.Method, Host: out.URL.Host, Target: out.URL.RequestURI(), Body: body, Time: now,
			ID: uuid.NewString(), MerchantID: j.merchantID, IssuerID: j.issuerID, ResponseMLEKeyID: j.responseKID,
		}, j.style)
		if j.changeClaims != nil {
			j.changeClaims(&claims)
		}
		var err error
		if token, err = j.signer.Sign(claims); err != nil {
			return nil, err
		}
	}
	j.lastToken = token
	out.Header.Set("Authorization", "Bearer "+token)
	if j.afterSigning != nil {
		j.afterSigning(out)
	}
	return http.DefaultTransport.RoundTrip(out)
}

func (j *jwtTransport) encrypt(body []byte, now time.Time) ([]byte, error) {
	options := (&jose.EncrypterOptions{}).WithHeader("iat", now.Unix())
	if j.jweHeader != nil {
		j.jweHeader(options)
	}
	encrypter, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{
		Algorithm: jose.RSA_OAEP_256, Key: j.encryptTo.PublicKey, KeyID: j.encryptTo.Subject.SerialNumber,
	}, options)
	if err != nil {
		return nil, err
	}
	object, err := encrypter.Encrypt(body)
	if err != nil {
		return nil, err
	}
	compact, err := object.CompactSerialize()
	if err != nil {
		return nil, err
	}
	return json.Marshal(gen.EncryptedRequest{EncryptedRequest: compact})
}

// openEncryptedResponse checks that res carries {"encryptedResponse"} with the kid and
// returns the plaintext.
func openEncryptedResponse(t *testing.T, m testMerchant, res result, kid string) []byte {
	t.Helper()
	if got := res.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var wrapper gen.EncryptedResponse
	if err := json.Unmarshal(res.body, &wrapper); err != nil || wrapper.EncryptedResponse == "" {
		t.Fatalf("body %s is not an encryptedResponse: %v", res.body, err)
	}
	header := protectedHeader(t, wrapper.EncryptedResponse)
	if header["kid"] != kid || header["alg"] != "RSA-OAEP-256" || header["enc"] != "A256GCM" {
		t.Errorf("encryptedResponse header = %v, want kid %s with RSA-OAEP-256 and A256GCM", header, kid)
	}
	object, err := jose.ParseEncryptedCompact(wrapper.EncryptedResponse, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	plaintext, err := object.Decrypt(m.mleKey)
	if err != nil {
		t.Fatalf("decrypt encryptedResponse: %v", err)
	}
	return plaintext
}

func decodeSecret(t *testing.T, secret string) []byte {
	t.Helper()
	decoded, err := httpsig.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return decoded
}

// bodyWith returns a transport hook that replaces the body after signing.
func bodyWith(body string) func(*http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
	}
}
