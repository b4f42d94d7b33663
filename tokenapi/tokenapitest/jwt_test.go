package tokenapitest_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paycreds/tms/tokenapi"
	"github.com/paycreds/tms/tokenapi/tokenapitest"
)

// encryptingClient is a client of srv with JWT authentication and both encryptions on.
func encryptingClient(t *testing.T, srv *tokenapitest.Server, opts ...tokenapi.Option) *tokenapi.Client {
	t.Helper()
	base := append(srv.JWTClientOptions(),
		tokenapi.WithRequestEncryption(srv.CyberSourceCertificate()),
		tokenapi.WithResponseEncryption(srv.MLEKeyID()))
	client, err := tokenapi.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestJWTWithBothEncryptions(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	client := encryptingClient(t, srv)
	ctx := context.Background()

	creds, err := client.GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil)
	if err != nil {
		t.Fatalf("v2: %v (sandbox saw %+v)", err, srv.Requests())
	}
	if creds.TokenizedCard.Cryptogram.Reveal() == "" || creds.KeyID != srv.MLEKeyID() {
		t.Errorf("v2 credentials %v with kid %q, want a cryptogram and kid %q", creds, creds.KeyID, srv.MLEKeyID())
	}
	creds, err = client.GeneratePaymentCredentialsV3(ctx, tokenapitest.NoNetworkTokenID, nil)
	if err != nil {
		t.Fatalf("v3: %v", err)
	}
	if creds.Card.Number.Last4() == "" {
		t.Errorf("v3 credentials %v, want the card details", creds)
	}

	requests := srv.Requests()
	if len(requests) != 2 {
		t.Fatalf("the server handled %d requests, want 2", len(requests))
	}
	for i, r := range requests {
		if r.Status != http.StatusCreated || r.AuthError != "" || r.EncryptionError != "" {
			t.Errorf("request %d: status %d, auth error %q, encryption error %q", i, r.Status, r.AuthError, r.EncryptionError)
		}
		if !r.EncryptedRequest || !r.EncryptedResponse {
			t.Errorf("request %d: encrypted request %v, encrypted response %v, want both", i, r.EncryptedRequest, r.EncryptedResponse)
		}
		if r.MerchantID != srv.MerchantID {
			t.Errorf("request %d: merchant %q, want %q", i, r.MerchantID, srv.MerchantID)
		}
	}
}

func TestJWTEncryptedErrorBody(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	_, err := encryptingClient(t, srv).GeneratePaymentCredentials(context.Background(), tokenapitest.DeletedTokenID, nil)
	apiError(t, err, http.StatusGone, "notAvailable")

	if got := srv.Requests(); len(got) != 1 || !got[0].EncryptedResponse {
		t.Errorf("requests = %+v, want one with an encrypted error body", got)
	}
}

// A user's code that loads the P12 file itself, from disk or a secret store, gets a file
// the server accepts.
func TestJWTFromP12Data(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	data, password := srv.P12Data()
	if password != srv.MerchantID {
		t.Errorf("P12 password = %q, want the merchant id %q", password, srv.MerchantID)
	}
	path := filepath.Join(t.TempDir(), "merchant.p12")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p12, err := tokenapi.LoadP12File(path, srv.MerchantID, "")
	if err != nil {
		t.Fatalf("LoadP12File with the default password: %v", err)
	}
	if p12.KeyID != srv.P12().KeyID || !p12.Certificate.Equal(srv.P12().Certificate) {
		t.Errorf("loaded kid %s, want P12().KeyID %s", p12.KeyID, srv.P12().KeyID)
	}
	if p12.CyberSourceCertificate == nil || !p12.CyberSourceCertificate.Equal(srv.CyberSourceCertificate()) {
		t.Error("the P12 file lacks the server's request-encryption certificate")
	}

	client, err := tokenapi.New(
		tokenapi.WithBaseURL(srv.URL),
		tokenapi.WithP12JWT(srv.MerchantID, p12),
		tokenapi.WithMLEKeys(tokenapi.MLEKey{KeyID: srv.MLEKeyID(), Key: srv.MLEKey()}),
		tokenapi.WithRequestEncryption(p12.CyberSourceCertificate),
		tokenapi.WithResponseEncryption(srv.MLEKeyID()),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.GeneratePaymentCredentials(context.Background(), tokenapitest.MastercardTokenID, nil); err != nil {
		t.Errorf("call with the loaded P12 file: %v", err)
	}

	data[0] ^= 0xff
	if again, _ := srv.P12Data(); again[0] == data[0] {
		t.Error("P12Data returns the server's own slice, which a caller can change")
	}
}

func TestJWTSharedSecret(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	client, err := tokenapi.New(append(srv.SharedSecretJWTClientOptions(),
		tokenapi.WithRequestEncryption(srv.CyberSourceCertificate()),
		tokenapi.WithJWTClaimStyle(tokenapi.JWTClaimsNodeSDK),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.GeneratePaymentCredentialsV3(context.Background(), tokenapitest.AmericanExpressTokenID, nil); err != nil {
		t.Fatalf("HS256 call: %v (sandbox saw %+v)", err, srv.Requests())
	}
	if r := srv.Requests()[0]; !r.EncryptedRequest || r.EncryptedResponse {
		t.Errorf("encrypted request %v, encrypted response %v; want only the request encrypted", r.EncryptedRequest, r.EncryptedResponse)
	}
}

// Servers share the RSA keys behind their certificates but not the certificates, so a
// JWT or an encrypted request made for one server is rejected by another.
func TestJWTServersKeepCredentialsApart(t *testing.T) {
	first := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	second := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	if first.P12().KeyID == second.P12().KeyID {
		t.Errorf("both servers' P12 certificates have kid %s", first.P12().KeyID)
	}
	if first.CyberSourceCertificate().Subject.SerialNumber == second.CyberSourceCertificate().Subject.SerialNumber {
		t.Error("both servers' request-encryption certificates have the same kid")
	}
	ctx := context.Background()

	crossedJWT, err := tokenapi.New(tokenapi.WithBaseURL(second.URL), tokenapi.WithP12JWT(first.MerchantID, first.P12()), tokenapi.WithMLEKey(sharedKey()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = crossedJWT.GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil)
	apiError(t, err, http.StatusUnauthorized, "")
	if reason := second.Requests()[0].AuthError; !strings.Contains(reason, first.P12().KeyID) {
		t.Errorf("AuthError = %q, want the unknown kid %s", reason, first.P12().KeyID)
	}

	crossedEncryption, err := tokenapi.New(append(second.JWTClientOptions(), tokenapi.WithRequestEncryption(first.CyberSourceCertificate()))...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = crossedEncryption.GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil)
	apiError(t, err, http.StatusBadRequest, "invalidRequest")
	if reason := second.Requests()[1].EncryptionError; !strings.Contains(reason, "kid") {
		t.Errorf("EncryptionError = %q, want the kid mismatch", reason)
	}
}

// A token fault with times=1 fails the first attempt. The retry is signed and encrypted
// afresh, and succeeds.
func TestJWTRetryAfterTokenFault(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()), tokenapitest.WithoutDemoTokens(),
		tokenapitest.WithTokens(tokenapitest.Token{ID: "7030000000000000005", Network: tokenapitest.Visa, Fault: "status=503,times=1"}))
	retry := tokenapi.WithRetry(tokenapi.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	creds, err := encryptingClient(t, srv, retry).GeneratePaymentCredentials(context.Background(), "7030000000000000005", nil)
	if err != nil {
		t.Fatalf("call with one retry: %v (sandbox saw %+v)", err, srv.Requests())
	}
	if creds.TokenizedCard.Cryptogram.Reveal() == "" {
		t.Error("the credentials carry no cryptogram")
	}

	requests := srv.Requests()
	if len(requests) != 2 {
		t.Fatalf("the server handled %d requests, want 2: %+v", len(requests), requests)
	}
	for i, want := range []int{http.StatusServiceUnavailable, http.StatusCreated} {
		r := requests[i]
		if r.Status != want {
			t.Errorf("attempt %d: status %d, want %d", i+1, r.Status, want)
		}
		if r.AuthError != "" || r.EncryptionError != "" || !r.EncryptedRequest || !r.EncryptedResponse {
			t.Errorf("attempt %d: %+v, want an authenticated, encrypted exchange", i+1, r)
		}
	}
}
