package tokenapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
	"github.com/paycreds/tms/tokenapi/tokenapitest"
)

// TestFaultsWithEncryptedResponses combines message-level encryption with the sandbox's
// faults: API errors arrive sealed and are opened, while a proxy's page and a cut
// connection arrive as they would without encryption.
func TestFaultsWithEncryptedResponses(t *testing.T) {
	js := startJWTSandbox(t)
	server, err := sandbox.New(sandbox.Config{
		Merchants:         []sandbox.Merchant{js.merchant},
		Tokens:            sandbox.DemoTokens(),
		RequestEncryption: js.requestKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	// No spec check here: several faults break the spec on purpose.
	httpServer := httptest.NewServer(server)
	defer httpServer.Close()

	cases := []struct {
		fault string
		check func(t *testing.T, err error)
	}{
		{"status=503", func(t *testing.T, err error) {
			var apiErr *tokenapi.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Type != "internalError" {
				t.Errorf("error = %v, want a 503 internalError opened from the encrypted body", err)
			}
		}},
		{"html-error", func(t *testing.T, err error) {
			var apiErr *tokenapi.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || !strings.Contains(string(apiErr.Body), "<html") {
				t.Errorf("error = %v, want a 502 with the HTML page", err)
			}
		}},
		{"close-mid-body", func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrTransport) {
				t.Errorf("error = %v, want ErrTransport", err)
			}
		}},
		{"truncated-jwe", func(t *testing.T, err error) {
			var decryptErr *tokenapi.DecryptError
			if !errors.As(err, &decryptErr) {
				t.Errorf("error = %v, want a *DecryptError", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.fault, func(t *testing.T) {
			client, err := tokenapi.New(
				tokenapi.WithBaseURL(httpServer.URL),
				tokenapi.WithP12JWT(js.merchant.ID, js.p12),
				tokenapi.WithMLEKey(js.mleKey),
				tokenapi.WithRequestEncryption(js.p12.CyberSourceCertificate),
				tokenapi.WithResponseEncryption(js.mleKeyID),
				tokenapi.WithHTTPClient(&http.Client{Transport: tokenapitest.FaultTransport(nil, tc.fault)}),
			)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := client.GeneratePaymentCredentialsV3(context.Background(), sandbox.DemoVisaTokenID, nil)
			if creds != nil || err == nil {
				t.Fatalf("creds %v, err %v: want only an error", creds, err)
			}
			tc.check(t, err)
		})
	}
}
