package tokenapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// sentAttempt is what the client sent in one attempt.
type sentAttempt struct {
	authorization string
	body          []byte
}

// flakyVerifier responds to the first attempt with 503 and passes later ones to the
// independent verifier. It checks every attempt with that verifier, which rejects a jti
// it has seen before, and records what each attempt sent.
type flakyVerifier struct {
	t        *testing.T
	verifier *independentJWTVerifier

	mu       sync.Mutex
	attempts []sentAttempt
}

func (f *flakyVerifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	first := len(f.attempts) == 0
	f.attempts = append(f.attempts, sentAttempt{authorization: r.Header.Get("Authorization"), body: body})
	f.mu.Unlock()

	if !first {
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.verifier.ServeHTTP(w, r)
		return
	}
	if _, problem := f.verifier.check(r, body); problem != "" {
		f.t.Errorf("independent verifier rejected the first attempt: %s", problem)
	}
	errorBody := `{"errors":[{"type":"serverError","message":"try again"}]}`
	if f.verifier.responseID != "" {
		wrapped, _ := json.Marshal(map[string]string{"encryptedResponse": f.verifier.encrypt(errorBody, f.verifier.responseID)})
		errorBody = string(wrapped)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, errorBody)
}

// jwtClaims decodes the claims of a bearer header without verifying it, because the
// independent verifier has checked the signature.
func jwtClaims(t *testing.T, authorization string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(authorization, "Bearer "), ".")
	if len(parts) != 3 {
		t.Fatalf("bearer token has %d parts, want 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// encryptedRequestIat returns the encryptedRequest JWE of body and the iat of its
// protected header.
func encryptedRequestIat(t *testing.T, body []byte) (string, float64) {
	t.Helper()
	var wrapper map[string]string
	if err := json.Unmarshal(body, &wrapper); err != nil {
		t.Fatalf("body %s is not JSON: %v", body, err)
	}
	compact := wrapper["encryptedRequest"]
	object, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("encryptedRequest: %v", err)
	}
	iat, _ := object.Header.ExtraHeaders["iat"].(float64)
	return compact, iat
}

// secondTickingClock returns a clock that starts at the current time and moves one
// second forward at each reading, so that attempts made within one second still get
// distinct iat values.
func secondTickingClock() func() time.Time {
	var mu sync.Mutex
	start, readings := time.Now(), 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		readings++
		return start.Add(time.Duration(readings) * time.Second)
	}
}

// TestJWTRetrySignsAndEncryptsAfresh retries a 503 with JWT authentication and request
// encryption on. Each attempt must carry its own jti, iat and signature, and its own
// request JWE with the same iat, and each must verify on its own.
func TestJWTRetrySignsAndEncryptsAfresh(t *testing.T) {
	mleKey := fixtureKey(t)
	merchantCert := readFixtureCertificate(t, "fixturemerchant.crt")
	p12, err := tokenapi.LoadP12File("testdata/fixturemerchant.p12", "fixturemerchant", "")
	if err != nil {
		t.Fatal(err)
	}
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	const keyID, secretKey = "e3b0c442-98fc-4c14-9afb-f4c8996fb924", "s5YCAlXANW1p+Z0fIK+ZYd0KDkHsbWT1nhIOlMD51kI="
	secret, _ := base64.StdEncoding.DecodeString(secretKey)
	retry := tokenapi.WithRetry(tokenapi.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})

	cases := []struct {
		name     string
		verifier *independentJWTVerifier
		opts     []tokenapi.Option
	}{
		{
			name: "P12 with both encryptions",
			verifier: &independentJWTVerifier{algorithm: jose.RS256, kid: "7400000000000000000001", key: merchantCert.PublicKey,
				merchantID: "fixturemerchant", issuer: "fixturemerchant", requestKey: requestKey, responseID: "response-kid"},
			opts: []tokenapi.Option{
				tokenapi.WithP12JWT("fixturemerchant", p12),
				tokenapi.WithRequestEncryption(requestKey.Certificate),
				tokenapi.WithResponseEncryption("response-kid"),
			},
		},
		{
			name: "shared secret with request encryption",
			verifier: &independentJWTVerifier{algorithm: jose.HS256, kid: keyID, key: secret,
				merchantID: "fixturemerchant", issuer: "fixturemerchant", requestKey: requestKey},
			opts: []tokenapi.Option{
				tokenapi.WithSharedSecretJWT("fixturemerchant", keyID, secretKey),
				tokenapi.WithRequestEncryption(requestKey.Certificate),
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.verifier.t, tc.verifier.mleKey, tc.verifier.jtis = t, &mleKey.PublicKey, map[string]bool{}
			stub := &flakyVerifier{t: t, verifier: tc.verifier}
			server := httptest.NewServer(stub)
			defer server.Close()

			base := []tokenapi.Option{tokenapi.WithBaseURL(server.URL), tokenapi.WithMLEKey(mleKey), retry, tokenapi.WithClockForTest(secondTickingClock())}
			client, err := tokenapi.New(append(base, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := client.GeneratePaymentCredentials(context.Background(), "7030000000000011111",
				&tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram})
			if err != nil {
				t.Fatalf("the retried call failed: %v", err)
			}
			if creds.TokenizedCard.Cryptogram.Reveal() == "" {
				t.Error("the credentials of the second attempt carry no cryptogram")
			}

			if len(stub.attempts) != 2 {
				t.Fatalf("the server received %d attempts, want 2", len(stub.attempts))
			}
			if tc.verifier.accepted != 1 {
				t.Errorf("the verifier accepted %d attempts after the 503, want 1", tc.verifier.accepted)
			}
			first, second := stub.attempts[0], stub.attempts[1]
			if first.authorization == second.authorization {
				t.Error("both attempts carry the same bearer token")
			}
			firstClaims, secondClaims := jwtClaims(t, first.authorization), jwtClaims(t, second.authorization)
			if firstClaims["jti"] == secondClaims["jti"] {
				t.Errorf("both attempts carry jti %v", firstClaims["jti"])
			}
			if firstClaims["iat"] == secondClaims["iat"] {
				t.Errorf("both attempts carry iat %v", firstClaims["iat"])
			}
			if firstClaims["digest"] == secondClaims["digest"] {
				t.Error("both attempts carry the same digest, so the encrypted bodies are the same")
			}

			firstJWE, firstIat := encryptedRequestIat(t, first.body)
			secondJWE, secondIat := encryptedRequestIat(t, second.body)
			if firstJWE == secondJWE {
				t.Error("both attempts carry the same encryptedRequest JWE")
			}
			if firstIat != firstClaims["iat"] || secondIat != secondClaims["iat"] {
				t.Errorf("request JWE iat %v and %v, want the JWT iat %v and %v of the same attempt", firstIat, secondIat, firstClaims["iat"], secondClaims["iat"])
			}
			firstPlaintext, problem := tc.verifier.decryptRequest(first.body)
			if problem != "" {
				t.Fatal(problem)
			}
			secondPlaintext, problem := tc.verifier.decryptRequest(second.body)
			if problem != "" {
				t.Fatal(problem)
			}
			if !bytes.Equal(firstPlaintext, secondPlaintext) {
				t.Errorf("the attempts encrypted different requests: %s and %s", firstPlaintext, secondPlaintext)
			}
		})
	}
}
