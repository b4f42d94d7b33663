package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/sandbox"
)

func TestValidationCacheStillRejectsInvalid(t *testing.T) {
	m := generatedMerchants(t)[0]
	ss := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{m.Merchant}, Tokens: sandbox.DemoTokens(), ValidationCacheSize: 16})
	client := newClient(t, ss, signerFor(m))

	for range 2 {
		res := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeCryptogram}, callOptions{})
		if res.status != http.StatusCreated {
			t.Fatalf("valid request: status %d, want 201: %s", res.status, res.body)
		}
	}
	res := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{PaymentCredentialType: "PAN"}, callOptions{})
	if res.status != http.StatusBadRequest {
		t.Errorf("invalid request after two valid ones: status %d, want 400: %s", res.status, res.body)
	}
}
