package tokenapitest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycreds/tms/tokenapi"
	"github.com/paycreds/tms/tokenapi/tokenapitest"
)

// The whole of a downstream test: start the server, point the client at it, call.
func TestGenerateInFewLines(t *testing.T) {
	srv := tokenapitest.NewServer(t)
	client, err := tokenapi.New(srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := client.GeneratePaymentCredentials(context.Background(), tokenapitest.VisaTokenID, nil)
	if err != nil {
		t.Fatal(err)
	}

	if creds.TokenizedCard.Cryptogram.Reveal() == "" {
		t.Error("the credentials have no cryptogram")
	}
	if creds.KeyID != srv.MLEKeyID() {
		t.Errorf("JWE kid = %q, want %q", creds.KeyID, srv.MLEKeyID())
	}
	if creds.CorrelationID == "" || creds.UniqueTransactionID == "" {
		t.Errorf("correlation id %q, unique transaction id %q, want both", creds.CorrelationID, creds.UniqueTransactionID)
	}
}

// sharedKey is one MLE key for the tests below, because generating one per server is slow
// under the race detector.
var sharedKey = sync.OnceValue(func() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
})

func newClient(t *testing.T, srv *tokenapitest.Server, opts ...tokenapi.Option) *tokenapi.Client {
	t.Helper()
	client, err := tokenapi.New(append(srv.ClientOptions(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func apiError(t *testing.T, err error, status int, errorType string) {
	t.Helper()
	var apiErr *tokenapi.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want an *APIError with status %d", err, status)
	}
	if apiErr.StatusCode != status || apiErr.Type != errorType {
		t.Errorf("APIError %d %q, want %d %q", apiErr.StatusCode, apiErr.Type, status, errorType)
	}
}

func TestTokenStates(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()), tokenapitest.WithTokens(
		tokenapitest.Token{ID: "7030000000000000001", Network: tokenapitest.Visa, State: tokenapitest.Suspended},
		tokenapitest.Token{ID: "7030000000000000002", Network: tokenapitest.Mastercard, State: tokenapitest.Linked},
		tokenapitest.Token{ID: "7030000000000000003", Network: tokenapitest.AmericanExpress, NoNetworkToken: true},
	))
	client := newClient(t, srv)
	ctx := context.Background()

	_, err := client.GeneratePaymentCredentials(ctx, "7030000000000000001", nil)
	apiError(t, err, http.StatusForbidden, "declined")

	_, err = client.GeneratePaymentCredentialsV3(ctx, "7030000000000000002", nil)
	apiError(t, err, http.StatusConflict, "conflict")
	creds, err := client.GeneratePaymentCredentials(ctx, "7030000000000000002", nil)
	if err != nil {
		t.Fatalf("v2 for a linked token: %v", err)
	}
	if creds.TokenizedCard.Type != "mastercard" {
		t.Errorf("type = %q, want mastercard", creds.TokenizedCard.Type)
	}

	creds, err = client.GeneratePaymentCredentialsV3(ctx, "7030000000000000003", nil)
	if err != nil {
		t.Fatalf("v3 without a network token: %v", err)
	}
	if creds.Card.Number.Last4() != "0005" || creds.Card.Type != "003" {
		t.Errorf("card %s type %s, want ****0005 and 003", creds.Card.Number, creds.Card.Type)
	}
	_, err = client.GeneratePaymentCredentials(ctx, "7030000000000000003", nil)
	apiError(t, err, http.StatusBadRequest, "invalidCombination")

	_, err = client.GeneratePaymentCredentials(ctx, tokenapitest.DeletedTokenID, nil)
	apiError(t, err, http.StatusGone, "notAvailable")
	_, err = client.GeneratePaymentCredentials(ctx, "7030000000000000009", nil)
	apiError(t, err, http.StatusNotFound, "notFound")
}

func TestFaultsThroughClient(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	tests := []struct {
		fault string
		check func(t *testing.T, err error)
	}{
		{"status=500", func(t *testing.T, err error) { apiError(t, err, 500, "internalError") }},
		{"status=502", func(t *testing.T, err error) { apiError(t, err, 502, "internalError") }},
		{"html-error", func(t *testing.T, err error) { apiError(t, err, 502, "") }},
		{"close-mid-body", func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrTransport) {
				t.Errorf("error = %v, want ErrTransport", err)
			}
		}},
		{"oversized-body", func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrResponseTooLarge) {
				t.Errorf("error = %v, want ErrResponseTooLarge", err)
			}
		}},
		{"truncated-jwe", func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrMalformedJWE) {
				t.Errorf("error = %v, want ErrMalformedJWE", err)
			}
		}},
		{"malformed-jwe", func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrMalformedJWE) {
				t.Errorf("error = %v, want ErrMalformedJWE", err)
			}
		}},
		{"tampered-jwe", func(t *testing.T, err error) {
			if !errors.Is(err, tokenapi.ErrDecryptionFailed) {
				t.Errorf("error = %v, want ErrDecryptionFailed", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			client := newClient(t, srv, tokenapi.WithHTTPClient(&http.Client{Transport: tokenapitest.FaultTransport(nil, tt.fault)}))
			_, err := client.GeneratePaymentCredentials(context.Background(), tokenapitest.MastercardTokenID, nil)
			if err == nil {
				t.Fatal("the call succeeded despite the fault")
			}
			tt.check(t, err)
		})
	}

	t.Run("latency", func(t *testing.T) {
		client := newClient(t, srv,
			tokenapi.WithHTTPClient(&http.Client{Transport: tokenapitest.FaultTransport(nil, "latency=1m")}),
			tokenapi.WithTimeout(time.Second))
		_, err := client.GeneratePaymentCredentials(context.Background(), tokenapitest.MastercardTokenID, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want the client's timeout", err)
		}
	})
}

func TestRequestsRecorded(t *testing.T) {
	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()), tokenapitest.WithoutDemoTokens(),
		tokenapitest.WithTokens(tokenapitest.Token{ID: "7030000000000000004", Network: tokenapitest.Visa, Fault: "status=503,times=1"}))
	client := newClient(t, srv)
	ctx := context.Background()

	_, err := client.GeneratePaymentCredentials(ctx, "7030000000000000004", nil, tokenapi.WithCorrelationID("order-1"))
	apiError(t, err, 503, "internalError")
	if _, err := client.GeneratePaymentCredentialsV3(ctx, "7030000000000000004", nil); err != nil {
		t.Fatalf("second call: %v", err)
	}
	_, err = client.GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil)
	apiError(t, err, http.StatusNotFound, "notFound")

	wrong, err := tokenapi.New(tokenapi.WithBaseURL(srv.URL), tokenapi.WithHTTPSignature(srv.MerchantID, srv.KeyID, "c2VjcmV0"), tokenapi.WithMLEKey(srv.MLEKey()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.GeneratePaymentCredentials(ctx, "7030000000000000004", nil)
	apiError(t, err, http.StatusUnauthorized, "")

	got := srv.Requests()
	want := []tokenapitest.Request{
		{Operation: "postTokenPaymentCredentials", TokenID: "7030000000000000004", Status: 503, ErrorType: "internalError", CorrelationID: "order-1", Fault: "status=503,times=1"},
		{Operation: "postTokenPaymentCredentialsV3", TokenID: "7030000000000000004", Status: 201},
		{Operation: "postTokenPaymentCredentials", TokenID: tokenapitest.VisaTokenID, Status: 404, ErrorType: "notFound"},
		{Operation: "postTokenPaymentCredentials", TokenID: "7030000000000000004", Status: 401},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d requests, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		if g.MerchantID != srv.MerchantID {
			t.Errorf("request %d: merchant %q, want %q", i, g.MerchantID, srv.MerchantID)
		}
		if want[i].CorrelationID == "" {
			g.CorrelationID = ""
		}
		g.MerchantID, g.AuthError = "", ""
		if g != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, g, want[i])
		}
	}
	if !strings.Contains(got[3].AuthError, "signature does not match") {
		t.Errorf("AuthError = %q, want the signature mismatch", got[3].AuthError)
	}
}

func TestOptions(t *testing.T) {
	const (
		merchantID = "fixed_merchant"
		keyID      = "2f0c5a8e-7d4b-4c1e-9a3f-6b8d0e2c4a17"
		secret     = "s5YCAlXANW1p+Z0fIK+ZYd0KDkHsbWT1nhIOlMD51kI="
		profileID  = "93B32398-AD51-4CC2-A682-EA3E93614EB1"
	)
	srv := tokenapitest.NewServer(t,
		tokenapitest.WithMerchant(merchantID, keyID, secret),
		tokenapitest.WithMLEKey(sharedKey()),
		tokenapitest.WithProfileIDs(profileID))
	if srv.MerchantID != merchantID || srv.KeyID != keyID || srv.SecretKey != secret {
		t.Errorf("credentials %s %s %s, want the fixed ones", srv.MerchantID, srv.KeyID, srv.SecretKey)
	}
	if srv.MLEKey() != sharedKey() {
		t.Error("MLEKey is not the key passed to WithMLEKey")
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback address", srv.URL)
	}

	client := newClient(t, srv)
	ctx := context.Background()
	if _, err := client.GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil, tokenapi.WithProfileID(profileID)); err != nil {
		t.Errorf("allowed profile: %v", err)
	}
	_, err := client.GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil, tokenapi.WithProfileID("00000000-0000-4000-8000-000000000000"))
	apiError(t, err, http.StatusForbidden, "forbidden")

	t.Run("clock", func(t *testing.T) {
		past := func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }
		srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()), tokenapitest.WithClock(past))
		_, err := newClient(t, srv).GeneratePaymentCredentials(ctx, tokenapitest.VisaTokenID, nil)
		apiError(t, err, http.StatusUnauthorized, "")
		if reason := srv.Requests()[0].AuthError; !strings.Contains(reason, "clock skew") {
			t.Errorf("AuthError = %q, want the clock skew", reason)
		}
	})
}

func TestInvalidOptionsAndTokens(t *testing.T) {
	tests := []struct {
		name string
		opts []tokenapitest.Option
		want string
	}{
		{"empty merchant id", []tokenapitest.Option{tokenapitest.WithMerchant("", "k", "c2VjcmV0")}, "merchant id is empty"},
		{"secret not base64", []tokenapitest.Option{tokenapitest.WithMerchant("m", "k", "not base64!")}, "base64"},
		{"nil key", []tokenapitest.Option{tokenapitest.WithMLEKey(nil)}, "key is nil"},
		{"short profile id", []tokenapitest.Option{tokenapitest.WithProfileIDs("abc")}, `profile id "abc" is 3 characters`},
		{"nil option", []tokenapitest.Option{nil}, "nil Option"},
		{"unknown network", []tokenapitest.Option{tokenapitest.WithTokens(tokenapitest.Token{ID: "1", Network: "discover"})}, `network "discover"`},
		{"unknown state", []tokenapitest.Option{tokenapitest.WithTokens(tokenapitest.Token{ID: "1", Network: tokenapitest.Visa, State: "LOST"})}, `state "LOST"`},
		{"invalid fault", []tokenapitest.Option{tokenapitest.WithTokens(tokenapitest.Token{ID: "1", Network: tokenapitest.Visa, Fault: "status=404"})}, `status "404" is not a code from 500 to 599`},
		{"demo token id reused", []tokenapitest.Option{tokenapitest.WithTokens(tokenapitest.Token{ID: tokenapitest.VisaTokenID, Network: tokenapitest.Visa})}, "already exists"},
		{"network token and none", []tokenapitest.Option{tokenapitest.WithTokens(tokenapitest.Token{ID: "1", Network: tokenapitest.Visa, NoNetworkToken: true, NetworkTokenNumber: "4895370000000015"})}, "set one of them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := tokenapitest.Start(append(tt.opts, tokenapitest.WithMLEKey(sharedKey()))...)
			if err == nil {
				srv.Close()
				t.Fatal("Start accepted the options")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}

	srv := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	if err := srv.AddToken(tokenapitest.Token{ID: tokenapitest.MastercardTokenID, Network: tokenapitest.Mastercard}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("AddToken of an existing id: error = %v, want already exists", err)
	}
	if err := srv.AddToken(tokenapitest.Token{ID: "1", Network: tokenapitest.Visa, State: tokenapitest.Deleted, Fault: "truncated-jwe"}); err == nil || !strings.Contains(err.Error(), "never gets a 201") {
		t.Errorf("AddToken of a deleted token with a JWE fault: error = %v", err)
	}
}

func TestServersSideBySide(t *testing.T) {
	first := tokenapitest.NewServer(t, tokenapitest.WithMLEKey(sharedKey()))
	second := tokenapitest.NewServer(t)
	if first.URL == second.URL || first.KeyID == second.KeyID || first.MLEKeyID() == second.MLEKeyID() {
		t.Fatal("two servers share an address, a key id or an MLE key")
	}

	crossed, err := tokenapi.New(tokenapi.WithBaseURL(second.URL),
		tokenapi.WithHTTPSignature(first.MerchantID, first.KeyID, first.SecretKey), tokenapi.WithMLEKey(first.MLEKey()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = crossed.GeneratePaymentCredentials(context.Background(), tokenapitest.VisaTokenID, nil)
	apiError(t, err, http.StatusUnauthorized, "")

	if _, err := newClient(t, second).GeneratePaymentCredentials(context.Background(), tokenapitest.VisaTokenID, nil); err != nil {
		t.Errorf("second server: %v", err)
	}
}

// TestAPIHidesInternalTypes checks that no exported function, method or field of the
// package names a type of an internal package, which callers could not use.
func TestAPIHidesInternalTypes(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, entry := range entries {
		if !strings.HasSuffix(entry.Name(), ".go") || strings.HasSuffix(entry.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, entry.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	if len(files) == 0 {
		t.Fatal("found no source files of the package")
	}
	internal := map[string]bool{"sandbox": true, "httpsig": true, "spec": true, "jwtauth": true, "p12": true, "pemkey": true}
	check := func(where string, expr ast.Node) {
		ast.Inspect(expr, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && internal[pkg.Name] {
					t.Errorf("%s uses %s.%s", where, pkg.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
	for _, file := range files {
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && (d.Recv == nil || ast.IsExported(receiverName(d.Recv))) {
					check(d.Name.Name, d.Type)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					if st, ok := ts.Type.(*ast.StructType); ok {
						for _, field := range st.Fields.List {
							if len(field.Names) > 0 && field.Names[0].IsExported() {
								check(ts.Name.Name+"."+field.Names[0].Name, field.Type)
							}
						}
						continue
					}
					check(ts.Name.Name, ts.Type)
				}
			}
		}
	}
}

func receiverName(recv *ast.FieldList) string {
	expr := recv.List[0].Type
	if star, ok := expr.(*ast.StarExpr); ok {
		expr = star.X
	}
	if ident, ok := expr.(*ast.Ident); ok {
		return ident.Name
	}
	return ""
}
