package sandbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/sandbox"
)

// checkUnauthorized checks a 401 with CyberSource's gateway body and the reason the
// sandbox recorded.
func checkUnauthorized(t *testing.T, ss *sandboxServer, res result, reason error) {
	t.Helper()
	if res.status != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401; body: %s", res.status, res.body)
	}
	var body gen.GatewayErrorResponse
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatalf("decode 401 body %q: %v", res.body, err)
	}
	if body.Response.Rmsg != "Authentication Failed" {
		t.Errorf("rmsg = %q, want Authentication Failed", body.Response.Rmsg)
	}
	rec := ss.lastRecord(t)
	if !errors.Is(rec.AuthError, reason) {
		t.Errorf("Record.AuthError = %v, want %v", rec.AuthError, reason)
	}
	if rec.ErrorType != "" {
		t.Errorf("Record.ErrorType = %q, want none on a 401", rec.ErrorType)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	ss, ms := defaultSandbox(t)
	alpha, beta := ms[0], ms[1]

	otherSecret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	withoutHeader := func(name string) func() *signingTransport {
		return func() *signingTransport {
			s := signerFor(alpha)
			s.afterSigning = func(r *http.Request) { r.Header.Del(name) }
			return s
		}
	}

	tests := []struct {
		name      string
		transport func() *signingTransport
		tokenID   string
		reason    error
	}{
		{
			name: "signature with another secret",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.secret = otherSecret
				return s
			},
			reason: sandbox.ErrSignatureMismatch,
		},
		{
			name: "unknown key id",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.keyID = "0b6c6a7e-0000-4000-8000-000000000000"
				return s
			},
			reason: sandbox.ErrUnknownKeyID,
		},
		{
			name: "another merchant's key id",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.keyID = beta.KeyID
				return s
			},
			reason: sandbox.ErrMerchantMismatch,
		},
		{
			name: "digest of other bytes",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.afterSigning = func(r *http.Request) { r.Header.Set("digest", "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") }
				return s
			},
			reason: sandbox.ErrDigestMismatch,
		},
		{
			name: "body changed after signing",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.afterSigning = func(r *http.Request) {
					tampered := []byte(`{"paymentCredentialType":"NETWORK_TOKEN"}`)
					r.Body = io.NopCloser(bytes.NewReader(tampered))
					r.ContentLength = int64(len(tampered))
				}
				return s
			},
			reason: sandbox.ErrDigestMismatch,
		},
		{
			name: "date ten minutes old",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
				return s
			},
			reason: sandbox.ErrClockSkew,
		},
		{
			name: "date ten minutes ahead",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.now = func() time.Time { return time.Now().Add(10 * time.Minute) }
				return s
			},
			reason: sandbox.ErrClockSkew,
		},
		{
			name: "date not in IMF-fixdate form",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.afterSigning = func(r *http.Request) { r.Header.Set("date", time.Now().UTC().Format(time.RFC3339)) }
				return s
			},
			reason: sandbox.ErrInvalidDate,
		},
		{
			name:      "missing date",
			transport: withoutHeader("date"),
			reason:    sandbox.ErrMissingAuthHeader,
		},
		{
			name:      "missing digest",
			transport: withoutHeader("digest"),
			reason:    sandbox.ErrMissingAuthHeader,
		},
		{
			name:      "missing signature",
			transport: withoutHeader("signature"),
			reason:    sandbox.ErrMissingAuthHeader,
		},
		{
			name:      "missing merchant id",
			transport: withoutHeader("v-c-merchant-id"),
			reason:    sandbox.ErrMissingAuthHeader,
		},
		{
			name: "merchant id header of another merchant",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.merchantID = beta.ID
				s.signerID = alpha.ID
				return s
			},
			reason: sandbox.ErrMerchantMismatch,
		},
		{
			name: "headers list without digest",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.headerList = []string{"host", "date", "request-target", "v-c-merchant-id"}
				return s
			},
			reason: sandbox.ErrInvalidSignatureHeader,
		},
		{
			name: "headers list with an absent header",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.headerList = []string{"host", "date", "request-target", "digest", "v-c-merchant-id", "x-absent"}
				return s
			},
			reason: sandbox.ErrMissingAuthHeader,
		},
		{
			name: "algorithm other than HmacSHA256",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.algorithm = "rsa-sha256"
				return s
			},
			reason: sandbox.ErrInvalidSignatureHeader,
		},
		{
			name: "unparseable signature header",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.afterSigning = func(r *http.Request) { r.Header.Set("signature", "Signature keyId=unquoted") }
				return s
			},
			reason: sandbox.ErrInvalidSignatureHeader,
		},
		{
			name: "signed for another host",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.afterSigning = func(r *http.Request) { r.Host = "apitest.cybersource.com" }
				return s
			},
			reason: sandbox.ErrSignatureMismatch,
		},
		{
			name: "signed unescaped path",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.target = func(r *http.Request) string { return r.URL.Path }
				return s
			},
			tokenID: "a/b",
			reason:  sandbox.ErrSignatureMismatch,
		},
		{
			name: "bearer token without kid",
			transport: func() *signingTransport {
				s := signerFor(alpha)
				s.afterSigning = func(r *http.Request) {
					for _, name := range []string{"date", "digest", "signature", "v-c-merchant-id"} {
						r.Header.Del(name)
					}
					r.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
				}
				return s
			},
			reason: sandbox.ErrInvalidJWT,
		},
	}
	token := demoToken(t, sandbox.DemoVisaTokenID)
	token.ID = "a/b"
	if err := ss.sandbox.AddToken(token); err != nil {
		t.Fatal(err)
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokenID := tt.tokenID
			if tokenID == "" {
				tokenID = sandbox.DemoVisaTokenID
			}
			client := newClient(t, ss, tt.transport())
			res := call(t, client, "v3", tokenID, gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeCryptogram}, callOptions{})
			checkUnauthorized(t, ss, res, tt.reason)
		})
	}
}

func TestAuthenticationBeforeValidation(t *testing.T) {
	ss, ms := defaultSandbox(t)
	s := signerFor(ms[0])
	s.secret = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	client := newClient(t, ss, s)

	res := call(t, client, "v2", "7030000000000000000", gen.PaymentCredentialsRequest{}, callOptions{
		contentType: "application/json", rawBody: `{"paymentCredentialType":"UNKNOWN"}`,
	})
	checkUnauthorized(t, ss, res, sandbox.ErrSignatureMismatch)
}

func TestClockSkewSetting(t *testing.T) {
	ms := generatedMerchants(t)
	clock := time.Now().Add(-time.Hour)
	ss := startSandbox(t, sandbox.Config{
		Merchants: []sandbox.Merchant{ms[0].Merchant},
		Tokens:    sandbox.DemoTokens(),
		Now:       func() time.Time { return clock },
		ClockSkew: 2 * time.Minute,
	})

	onTime := signerFor(ms[0])
	onTime.now = func() time.Time { return clock.Add(90 * time.Second) }
	res := call(t, newClient(t, ss, onTime), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	decrypt(t, ms[0], res)

	late := signerFor(ms[0])
	late.now = func() time.Time { return clock.Add(150 * time.Second) }
	res = call(t, newClient(t, ss, late), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	checkUnauthorized(t, ss, res, sandbox.ErrClockSkew)
}

func TestMetaKey(t *testing.T) {
	ms := generatedMerchants(t)
	alpha, beta, gamma := ms[0], ms[1], ms[2]
	portfolio := sandbox.Portfolio{
		ID:          "portfolio_one",
		KeyID:       "6f1c2e3d-4b5a-4c6d-8e7f-901a2b3c4d5e",
		SecretKey:   base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32)),
		MerchantIDs: []string{alpha.ID, beta.ID},
	}
	ss := startSandbox(t, sandbox.Config{
		Merchants:  []sandbox.Merchant{alpha.Merchant, beta.Merchant, gamma.Merchant},
		Portfolios: []sandbox.Portfolio{portfolio},
		Tokens:     sandbox.DemoTokens(),
	})
	metaSigner := func(merchantID string) *signingTransport {
		return &signingTransport{merchantID: merchantID, signerID: portfolio.ID, keyID: portfolio.KeyID, secret: portfolio.SecretKey}
	}

	for _, m := range []testMerchant{alpha, beta} {
		t.Run("success for "+m.ID, func(t *testing.T) {
			res := call(t, newClient(t, ss, metaSigner(m.ID)), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
			// The body is encrypted to the transacting merchant's MLE key.
			got := decrypt(t, m, res)
			if got.TokenizedCard.Cryptogram == "" {
				t.Error("cryptogram is empty")
			}
			if rec := ss.lastRecord(t); rec.MerchantID != m.ID {
				t.Errorf("Record.MerchantID = %q, want %q", rec.MerchantID, m.ID)
			}
		})
	}

	t.Run("merchant outside the portfolio", func(t *testing.T) {
		res := call(t, newClient(t, ss, metaSigner(gamma.ID)), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		checkUnauthorized(t, ss, res, sandbox.ErrMerchantMismatch)
	})
	t.Run("merchant id on the signing line", func(t *testing.T) {
		s := metaSigner(alpha.ID)
		s.signerID = alpha.ID
		res := call(t, newClient(t, ss, s), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		checkUnauthorized(t, ss, res, sandbox.ErrSignatureMismatch)
	})
	t.Run("merchant's own key still works", func(t *testing.T) {
		res := call(t, newClient(t, ss, signerFor(gamma)), "v2", sandbox.DemoMastercardTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		decrypt(t, gamma, res)
	})
}
