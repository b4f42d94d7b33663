package tokenapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// TestSandboxCapsRequestBody sends a request that passes every field limit but, with
// four authenticated identities of 17,000 characters, exceeds the sandbox's 64 KiB cap
// on request bodies. The spec sets no maximum count of identities, so the client sends
// it, and the sandbox rejects it before reading further.
func TestSandboxCapsRequestBody(t *testing.T) {
	ts := startSandbox(t)
	client := ts.client(t)
	identity := tokenapi.AuthenticatedIdentity{ID: "passkey-1", Data: strings.Repeat("d", 17000)}
	request := &tokenapi.PaymentCredentialsRequest{AuthenticatedIdentities: []tokenapi.AuthenticatedIdentity{identity, identity, identity, identity}}

	_, err := client.GeneratePaymentCredentialsJWE(context.Background(), sandbox.DemoVisaTokenID, request)
	var apiErr *tokenapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Fatalf("error = %v, want a 400 *APIError", err)
	}
	if apiErr.Type != "invalidRequest" || !strings.Contains(apiErr.Message, "larger than 65536 bytes") {
		t.Errorf("type %q message %q, want the sandbox's size limit", apiErr.Type, apiErr.Message)
	}
	record := <-ts.records
	if record.AuthError != nil || record.Status != http.StatusBadRequest {
		t.Errorf("sandbox record %+v, want a 400 before authentication", record)
	}

	request.AuthenticatedIdentities = request.AuthenticatedIdentities[:2]
	if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), sandbox.DemoVisaTokenID, request); err != nil {
		t.Errorf("two identities at their maximum length: %v", err)
	}
}
