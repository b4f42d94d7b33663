package tokenapi_test

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// independentJWTVerifier is a CyberSource stand-in that checks the client's JWT with
// go-jose directly and compares every claim by hand, written from the published format
// rather than with this project's jwtauth package. It opens encryptedRequest bodies with
// the request-encryption private key and responds 201 with a JWE for the MLE key, wrapped
// in encryptedResponse when the token requests it.
type independentJWTVerifier struct {
	t          *testing.T
	algorithm  jose.SignatureAlgorithm
	kid        string
	key        any // *rsa.PublicKey or []byte
	merchantID string
	issuer     string
	nodeStyle  bool
	requestKey *sandbox.RequestEncryptionKey // nil when requests are sent in the clear
	mleKey     *rsa.PublicKey
	responseID string // the expected v-c-response-mle-kid, empty when none

	mu       sync.Mutex
	jtis     map[string]bool
	accepted int
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func (v *independentJWTVerifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	plaintext, problem := v.check(r, body)
	if problem != "" {
		v.t.Errorf("independent verifier rejected the request: %s", problem)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"response":{"rmsg":"Authentication Failed"}}`)
		return
	}
	var request map[string]any
	if err := json.Unmarshal(plaintext, &request); err != nil || request["paymentCredentialType"] != "CRYPTOGRAM" {
		v.t.Errorf("request body after decryption = %s, want paymentCredentialType CRYPTOGRAM", plaintext)
	}
	v.mu.Lock()
	v.accepted++
	v.mu.Unlock()

	jwe := v.encrypt(`{"tokenizedCard":{"type":"visa","number":"4895370000000015","cryptogram":"AwAAAAAAWx6z/7YAAAAAgBcAAAA=","eci":"07"}}`, "independent-mle")
	w.Header().Set("v-c-correlation-id", "independent-correlation")
	if v.responseID != "" {
		wrapped, _ := json.Marshal(map[string]string{"encryptedResponse": v.encrypt(jwe, v.responseID)})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(wrapped)
		return
	}
	w.Header().Set("Content-Type", "application/jose;charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, jwe)
}

func (v *independentJWTVerifier) encrypt(plaintext, kid string) string {
	encrypter, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: v.mleKey, KeyID: kid}, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	object, err := encrypter.Encrypt([]byte(plaintext))
	if err != nil {
		v.t.Fatal(err)
	}
	compact, _ := object.CompactSerialize()
	return compact
}

// check returns the request body in the clear, or a description of the first problem.
func (v *independentJWTVerifier) check(r *http.Request, body []byte) ([]byte, string) {
	for _, name := range []string{"Date", "Digest", "Signature", "V-C-Merchant-Id"} {
		if r.Header.Get(name) != "" {
			return nil, "JWT requests carry no " + name + " header"
		}
	}
	if r.Header.Get("Content-Type") != "application/json;charset=utf-8" || r.Header.Get("Accept") != "application/jose;charset=utf-8" {
		return nil, "wrong Content-Type or Accept header"
	}
	authorization := r.Header.Get("Authorization")
	if len(authorization) < 8 || authorization[:7] != "Bearer " {
		return nil, "no bearer token"
	}
	object, err := jose.ParseSignedCompact(authorization[7:], []jose.SignatureAlgorithm{v.algorithm})
	if err != nil {
		return nil, "token does not parse: " + err.Error()
	}
	header := object.Signatures[0].Protected
	if header.KeyID != v.kid || header.ExtraHeaders["typ"] != "JWT" {
		return nil, fmt.Sprintf("header kid %q typ %v", header.KeyID, header.ExtraHeaders["typ"])
	}
	payload, err := object.Verify(v.key)
	if err != nil {
		return nil, "signature does not verify: " + err.Error()
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, "claims are not JSON"
	}

	sum := sha256.Sum256(body)
	method, algorithmClaim := "POST", "digestAlgorithm"
	if v.nodeStyle {
		method, algorithmClaim = "post", "digest-algorithm"
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	want := map[string]any{
		"digest":                base64.StdEncoding.EncodeToString(sum[:]),
		algorithmClaim:          "SHA-256",
		"request-method":        method,
		"request-host":          r.Host,
		"request-resource-path": r.RequestURI,
		"iss":                   v.issuer,
		"v-c-jwt-version":       "2",
		"v-c-merchant-id":       v.merchantID,
	}
	if v.responseID != "" {
		want["v-c-response-mle-kid"] = v.responseID
	}
	for name, value := range want {
		if claims[name] != value {
			return nil, fmt.Sprintf("claim %s = %v, want %v", name, claims[name], value)
		}
	}
	if len(claims) != len(want)+3 {
		return nil, fmt.Sprintf("token has %d claims, want %d: %v", len(claims), len(want)+3, claims)
	}
	if time.Since(time.Unix(int64(iat), 0)).Abs() > time.Minute || exp != iat+120 {
		return nil, fmt.Sprintf("iat %v exp %v", iat, exp)
	}
	jti, _ := claims["jti"].(string)
	v.mu.Lock()
	seen := v.jtis[jti]
	v.jtis[jti] = true
	v.mu.Unlock()
	if !uuidV4.MatchString(jti) || seen {
		return nil, fmt.Sprintf("jti %q is not a fresh UUID v4", jti)
	}

	if v.requestKey == nil {
		return body, ""
	}
	return v.decryptRequest(body)
}

func (v *independentJWTVerifier) decryptRequest(body []byte) ([]byte, string) {
	var wrapper map[string]string
	if err := json.Unmarshal(body, &wrapper); err != nil || len(wrapper) != 1 || wrapper["encryptedRequest"] == "" {
		return nil, "body is not {\"encryptedRequest\":...}: " + string(body)
	}
	object, err := jose.ParseEncryptedCompact(wrapper["encryptedRequest"], []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, "encryptedRequest does not parse: " + err.Error()
	}
	iat, _ := object.Header.ExtraHeaders["iat"].(float64)
	if object.Header.KeyID != v.requestKey.Certificate.Subject.SerialNumber || time.Since(time.Unix(int64(iat), 0)).Abs() > time.Minute {
		return nil, fmt.Sprintf("encryptedRequest header kid %q iat %v", object.Header.KeyID, iat)
	}
	plaintext, err := object.Decrypt(v.requestKey.PrivateKey)
	if err != nil {
		return nil, "encryptedRequest does not decrypt: " + err.Error()
	}
	return plaintext, ""
}

func readFixtureCertificate(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestJWTAcceptedByIndependentVerifier(t *testing.T) {
	mleKey := fixtureKey(t)
	merchantCert := readFixtureCertificate(t, "fixturemerchant.crt")
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	secretKey := "s5YCAlXANW1p+Z0fIK+ZYd0KDkHsbWT1nhIOlMD51kI="
	secret, _ := base64.StdEncoding.DecodeString(secretKey)
	loadP12 := func(name string) *tokenapi.P12 {
		p12, err := tokenapi.LoadP12File("testdata/"+name, "fixturemerchant", "")
		if err != nil {
			t.Fatal(err)
		}
		return p12
	}

	cases := []struct {
		name     string
		verifier *independentJWTVerifier
		opts     []tokenapi.Option
	}{
		{
			name:     "RS256 from the OpenSSL 3 P12",
			verifier: &independentJWTVerifier{algorithm: jose.RS256, kid: "7400000000000000000001", key: merchantCert.PublicKey, merchantID: "fixturemerchant", issuer: "fixturemerchant"},
			opts:     []tokenapi.Option{tokenapi.WithP12JWT("fixturemerchant", loadP12("fixturemerchant.p12"))},
		},
		{
			name:     "RS256 from the legacy P12 with Node SDK claims",
			verifier: &independentJWTVerifier{algorithm: jose.RS256, kid: "7400000000000000000001", key: merchantCert.PublicKey, merchantID: "fixturemerchant", issuer: "fixturemerchant", nodeStyle: true},
			opts:     []tokenapi.Option{tokenapi.WithP12JWT("fixturemerchant", loadP12("fixturemerchant.legacy.p12")), tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK)},
		},
		{
			name: "HS256 with a meta key and both encryptions",
			verifier: &independentJWTVerifier{algorithm: jose.HS256, kid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924", key: secret,
				merchantID: "transacting_merchant", issuer: "portfolio_id", requestKey: requestKey, responseID: "response-kid"},
			opts: []tokenapi.Option{
				tokenapi.WithSharedSecretJWT("transacting_merchant", "e3b0c442-98fc-4c14-9afb-f4c8996fb924", secretKey),
				tokenapi.WithMetaKey("portfolio_id"),
				tokenapi.WithRequestEncryption(requestKey.Certificate),
				tokenapi.WithResponseEncryption("response-kid"),
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			verifier := tc.verifier
			verifier.t, verifier.mleKey, verifier.jtis = t, &mleKey.PublicKey, map[string]bool{}
			server := httptest.NewServer(verifier)
			defer server.Close()

			client, err := tokenapi.New(append([]tokenapi.Option{tokenapi.WithBaseURL(server.URL), tokenapi.WithMLEKey(mleKey)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			request := &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}
			creds, err := client.GeneratePaymentCredentials(context.Background(), "7030000000000011111", request)
			if err != nil {
				t.Fatal(err)
			}
			if creds.TokenizedCard.Number.Last4() != "0015" || creds.CorrelationID != "independent-correlation" {
				t.Errorf("credentials %v, correlation id %q", creds, creds.CorrelationID)
			}
			if _, err := client.GeneratePaymentCredentialsV3(context.Background(), "F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6", request); err != nil {
				t.Fatal(err)
			}
			if verifier.accepted != 2 {
				t.Errorf("the verifier accepted %d requests, want 2", verifier.accepted)
			}
		})
	}
}
