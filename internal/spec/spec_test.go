package spec_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/internal/spec"
)

const (
	v2Path = "/tms/v2/tokens/7010000000016241111/payment-credentials"
	v3Path = "/tms/v3/tokens/7010000000016241111/payment-credentials"

	declaredJSON = "application/json;charset=utf-8"
	joseType     = "application/jose;charset=utf-8"
	profileID    = "93B32398-AD51-4CC2-A682-EA3E93614EB1"
)

func loadSpec(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func newRequest(path, contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestLoadReturnsValidDocument(t *testing.T) {
	s := loadSpec(t)
	again := loadSpec(t)
	if s != again {
		t.Error("Load returned a different Spec on its second call")
	}
	if err := s.Document().Validate(context.Background()); err != nil {
		t.Errorf("Document().Validate: %v", err)
	}
	if got := s.Document().Paths.Len(); got != 2 {
		t.Errorf("document has %d paths, want 2", got)
	}
}

func TestFindRoute(t *testing.T) {
	s := loadSpec(t)

	tests := []struct {
		method, target string
		operationID    string
		tokenID        string
		err            error
	}{
		{http.MethodPost, v2Path, "postTokenPaymentCredentials", "7010000000016241111", nil},
		{http.MethodPost, v3Path, "postTokenPaymentCredentialsV3", "7010000000016241111", nil},
		{http.MethodPost, "/tms/v3/tokens/a%2Fb/payment-credentials", "postTokenPaymentCredentialsV3", "a/b", nil},
		{http.MethodPost, "/tms/v2/tokens/a%20b/payment-credentials", "postTokenPaymentCredentials", "a b", nil},
		{http.MethodPost, "/tms/v2/tokens/a/b/payment-credentials", "", "", spec.ErrPathNotFound},
		{http.MethodPost, "/tms/v1/tokens/1/payment-credentials", "", "", spec.ErrPathNotFound},
		{http.MethodPost, "/tms/v2/tokens/1/payment-credentials/", "", "", spec.ErrPathNotFound},
		{http.MethodGet, v2Path, "", "", spec.ErrMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			route, err := s.FindRoute(httptest.NewRequest(tt.method, tt.target, nil))
			if !errors.Is(err, tt.err) {
				t.Fatalf("FindRoute error = %v, want %v", err, tt.err)
			}
			if route.OperationID != tt.operationID {
				t.Errorf("OperationID = %q, want %q", route.OperationID, tt.operationID)
			}
			if got := route.PathParams["tokenId"]; got != tt.tokenID {
				t.Errorf("tokenId = %q, want %q", got, tt.tokenID)
			}
		})
	}
}

func TestValidateRequestAcceptsValidRequests(t *testing.T) {
	s := loadSpec(t)
	full := `{
		"paymentCredentialType": "CRYPTOGRAM",
		"transactionType": "AFT",
		"clientCorrelationId": "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
		"orderInformation": {
			"amountDetails": {"totalAmount": "102.21", "currency": "978"},
			"billTo": {"firstName": "Jane", "lastName": "Doe", "country": "DE", "email": "jane@example.com"}
		},
		"merchantInformation": {"merchantDescriptor": {"name": "Shop", "url": "https://shop.example"}},
		"deviceInformation": {"platformType": "WEB", "ipAddress": "2001:db8::1", "httpBrowserJavaEnabled": false},
		"authenticatedIdentities": [{"id": "abc", "provider": "VISA_PAYMENT_PASSKEY", "userAuthenticationMethod": "BIOMETRIC"}],
		"futureField": "kept"
	}`

	for _, path := range []string{v2Path, v3Path} {
		for name, body := range map[string]string{"empty object": `{}`, "every field": full} {
			t.Run(path+" "+name, func(t *testing.T) {
				r := newRequest(path, declaredJSON, body)
				r.Header.Set("profile-id", profileID)
				if err := s.ValidateRequest(r, []byte(body)); err != nil {
					t.Errorf("ValidateRequest: %v", err)
				}
			})
		}
	}
}

func TestValidateRequestDoesNotReadRequestBody(t *testing.T) {
	s := loadSpec(t)
	r := newRequest(v2Path, declaredJSON, `{"paymentCredentialType":"CRYPTOGRAM"}`)

	if err := s.ValidateRequest(r, []byte(`{}`)); err != nil {
		t.Fatalf("ValidateRequest: %v", err)
	}
	if got := r.Header.Get("Content-Type"); got != declaredJSON {
		t.Errorf("request Content-Type changed to %q", got)
	}
	rest := make([]byte, 64)
	n, _ := r.Body.Read(rest)
	if got := string(rest[:n]); got != `{"paymentCredentialType":"CRYPTOGRAM"}` {
		t.Errorf("request body after validation = %q, want it unread", got)
	}
}

func TestValidateRequestReportsFields(t *testing.T) {
	s := loadSpec(t)
	long := func(n int) string { return strings.Repeat("x", n) }

	tests := []struct {
		name    string
		path    string
		header  map[string]string
		body    string
		want    []spec.FieldError
		noValue string // a value that must not appear in the reasons
	}{
		{
			name: "over-long first name",
			path: v2Path,
			body: `{"orderInformation":{"billTo":{"firstName":"` + long(61) + `"}}}`,
			want: []spec.FieldError{{Name: "orderInformation.billTo.firstName", Location: "body", Kind: spec.FieldInvalid}},
		},
		{
			name:    "unknown enum value",
			path:    v3Path,
			body:    `{"paymentCredentialType":"PAN_PLEASE"}`,
			want:    []spec.FieldError{{Name: "paymentCredentialType", Location: "body", Kind: spec.FieldInvalid}},
			noValue: "PAN_PLEASE",
		},
		{
			name: "wrong type",
			path: v2Path,
			body: `{"deviceInformation":{"httpBrowserJavaEnabled":"yes"}}`,
			want: []spec.FieldError{{Name: "deviceInformation.httpBrowserJavaEnabled", Location: "body", Kind: spec.FieldInvalid}},
		},
		{
			name: "array element",
			path: v3Path,
			body: `{"authenticatedIdentities":[{"id":"ok"},{"id":"` + long(51) + `"}]}`,
			want: []spec.FieldError{{Name: "authenticatedIdentities[1].id", Location: "body", Kind: spec.FieldInvalid}},
		},
		{
			name: "several fields",
			path: v2Path,
			body: `{"clientCorrelationId":"` + long(37) + `","orderInformation":{"billTo":{"country":"DEU"}}}`,
			want: []spec.FieldError{
				{Name: "clientCorrelationId", Location: "body", Kind: spec.FieldInvalid},
				{Name: "orderInformation.billTo.country", Location: "body", Kind: spec.FieldInvalid},
			},
		},
		{
			name:   "profile-id of wrong length",
			path:   v2Path,
			header: map[string]string{"profile-id": "short"},
			body:   `{}`,
			want:   []spec.FieldError{{Name: "profile-id", Location: "header", Kind: spec.FieldInvalid}},
		},
		{
			name: "token id over 32 characters",
			path: "/tms/v3/tokens/" + long(33) + "/payment-credentials",
			body: `{}`,
			want: []spec.FieldError{{Name: "tokenId", Location: "path", Kind: spec.FieldInvalid}},
		},
		{
			name: "empty token id",
			path: "/tms/v3/tokens//payment-credentials",
			body: `{}`,
			want: []spec.FieldError{{Name: "tokenId", Location: "path", Kind: spec.FieldMissing}},
		},
		{
			name: "empty body",
			path: v2Path,
			body: ``,
			want: []spec.FieldError{{Location: "body", Kind: spec.FieldMissing}},
		},
		{
			name: "body that is not JSON",
			path: v2Path,
			body: `{"paymentCredentialType":`,
			want: []spec.FieldError{{Location: "body", Kind: spec.FieldMalformed}},
		},
		{
			name: "body that is not an object",
			path: v2Path,
			body: `["CRYPTOGRAM"]`,
			want: []spec.FieldError{{Location: "body", Kind: spec.FieldInvalid}},
		},
		{
			name:   "media type and header together",
			path:   v2Path,
			header: map[string]string{"Content-Type": "text/plain", "profile-id": "short"},
			body:   `{}`,
			want: []spec.FieldError{
				{Name: "Content-Type", Location: "header", Kind: spec.FieldInvalid},
				{Name: "profile-id", Location: "header", Kind: spec.FieldInvalid},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.path, declaredJSON, tt.body)
			for name, value := range tt.header {
				r.Header.Set(name, value)
			}

			err := s.ValidateRequest(r, []byte(tt.body))
			if err == nil {
				t.Fatal("ValidateRequest accepted the request")
			}
			got := spec.FieldErrors(err)
			for i := range got {
				if got[i].Reason == "" {
					t.Errorf("field error %d has no reason", i)
				}
				if tt.noValue != "" && strings.Contains(got[i].Reason, tt.noValue) {
					t.Errorf("reason %q contains the invalid value", got[i].Reason)
				}
				got[i].Reason = ""
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("FieldErrors = %+v\nwant %+v\nerror: %v", got, tt.want, err)
			}
		})
	}
}

func TestValidateRequestContentTypes(t *testing.T) {
	s := loadSpec(t)
	accepted := []string{
		"application/json",
		"application/json;charset=utf-8",
		"application/json;charset=UTF-8",
		"application/json; charset=utf-8",
		"application/json ; charset=UTF-8",
		"Application/JSON;Charset=Utf-8",
		`application/json; charset="utf-8"`,
	}
	rejected := []string{
		"",
		"text/plain",
		"application/xml",
		"application/jose;charset=utf-8",
		"application/json;charset=iso-8859-1",
		"application/json;charset=utf-8;version=2",
		"application/json-patch+json",
		"application/json;;",
	}

	for _, contentType := range accepted {
		t.Run("accept "+contentType, func(t *testing.T) {
			r := newRequest(v3Path, contentType, `{}`)
			if err := s.ValidateRequest(r, []byte(`{}`)); err != nil {
				t.Errorf("ValidateRequest: %v", err)
			}
		})
	}
	for _, contentType := range rejected {
		t.Run("reject "+contentType, func(t *testing.T) {
			r := newRequest(v3Path, contentType, `{}`)
			err := s.ValidateRequest(r, []byte(`{}`))
			var ctErr *spec.ContentTypeError
			if !errors.As(err, &ctErr) {
				t.Fatalf("ValidateRequest error = %v, want a *ContentTypeError", err)
			}
			if ctErr.ContentType != contentType {
				t.Errorf("ContentTypeError.ContentType = %q, want %q", ctErr.ContentType, contentType)
			}
			wantKind := spec.FieldInvalid
			if contentType == "" {
				wantKind = spec.FieldMissing
			}
			want := []spec.FieldError{{Name: "Content-Type", Location: "header", Kind: wantKind}}
			got := spec.FieldErrors(err)
			for i := range got {
				got[i].Reason = ""
			}
			if !slices.Equal(got, want) {
				t.Errorf("FieldErrors = %+v, want %+v", got, want)
			}
		})
	}
}

func TestValidateRequestRouteErrors(t *testing.T) {
	s := loadSpec(t)

	err := s.ValidateRequest(newRequest("/tms/v2/tokens", declaredJSON, `{}`), []byte(`{}`))
	if !errors.Is(err, spec.ErrPathNotFound) {
		t.Errorf("unknown path: error = %v, want ErrPathNotFound", err)
	}
	if fields := spec.FieldErrors(err); fields != nil {
		t.Errorf("unknown path: FieldErrors = %+v, want none", fields)
	}

	get := httptest.NewRequest(http.MethodGet, v2Path, nil)
	if err := s.ValidateRequest(get, nil); !errors.Is(err, spec.ErrMethodNotAllowed) {
		t.Errorf("GET: error = %v, want ErrMethodNotAllowed", err)
	}
}

// encryptedCredentials returns a compact JWE made by go-jose the way CyberSource makes
// 201 bodies.
func encryptedCredentials(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	encrypter, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &key.PublicKey, KeyID: strings.Repeat("ab", 20)},
		(&jose.EncrypterOptions{}).WithContentType("json").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	object, err := encrypter.Encrypt([]byte(`{"tokenizedCard":{"number":"4895370015293175"}}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := object.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return compact
}

func responseHeader(contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("v-c-correlation-id", "4f1e2d3c-5b6a-4978-8a9b-0c1d2e3f4a5b")
	h.Set("uniqueTransactionID", "a81b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
	return h
}

func TestValidateResponse(t *testing.T) {
	s := loadSpec(t)
	jwe := encryptedCredentials(t)
	errorBody := `{"errors":[{"type":"invalidFields","message":"One or more fields in the request contains invalid data","details":[{"name":"orderInformation.billTo.firstName","location":"body"}]}]}`

	withoutHeader := func(name string) http.Header {
		h := responseHeader(joseType)
		h.Del(name)
		return h
	}

	tests := []struct {
		name   string
		path   string
		status int
		header http.Header
		body   string
		valid  bool
	}{
		{"201 JWE on v2", v2Path, 201, responseHeader(joseType), jwe, true},
		{"201 JWE on v3", v3Path, 201, responseHeader(joseType), jwe, true},
		{"400 error body", v2Path, 400, responseHeader("application/json"), errorBody, true},
		{"401 gateway body", v3Path, 401, responseHeader("application/json"), `{"response":{"rmsg":"Authentication Failed"}}`, true},
		{"404 with charset", v3Path, 404, responseHeader("application/json;charset=utf-8"), `{"errors":[{"type":"notFound","message":"Token not found"}]}`, true},
		{"409 on v3", v3Path, 409, responseHeader("application/json"), `{"errors":[{"type":"conflict"}]}`, true},

		{"409 on v2", v2Path, 409, responseHeader("application/json"), `{"errors":[{"type":"conflict"}]}`, false},
		{"201 as JSON", v2Path, 201, responseHeader("application/json"), `{"tokenizedCard":{}}`, false},
		{"201 without charset", v2Path, 201, responseHeader("application/jose"), jwe, false},
		{"201 without correlation id", v2Path, 201, withoutHeader("v-c-correlation-id"), jwe, false},
		{"201 without transaction id", v3Path, 201, withoutHeader("uniqueTransactionID"), jwe, false},
		{"201 with a JWS", v3Path, 201, responseHeader(joseType), "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", false},
		{"201 with text", v2Path, 201, responseHeader(joseType), "not a JWE", false},
		{"201 with empty body", v2Path, 201, responseHeader(joseType), "", false},
		{"400 with JWE", v2Path, 400, responseHeader(joseType), jwe, false},
		{"400 with wrong shape", v2Path, 400, responseHeader("application/json"), `{"errors":"invalidFields"}`, false},
		{"500 as HTML", v2Path, 500, responseHeader("text/html"), "<html></html>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.path, declaredJSON, `{}`)
			err := s.ValidateResponse(r, tt.status, tt.header, []byte(tt.body))
			if tt.valid && err != nil {
				t.Errorf("ValidateResponse: %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("ValidateResponse accepted the response")
			}
		})
	}
}

func TestCheckingHandlerReportsAndPassesThrough(t *testing.T) {
	s := loadSpec(t)
	jwe := encryptedCredentials(t)

	tests := []struct {
		name    string
		path    string
		respond func(w http.ResponseWriter)
		reports int
	}{
		{
			name: "valid 201",
			path: v3Path,
			respond: func(w http.ResponseWriter) {
				for name, values := range responseHeader(joseType) {
					w.Header()[name] = values
				}
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(jwe))
			},
		},
		{
			name: "201 with wrong content type",
			path: v3Path,
			respond: func(w http.ResponseWriter) {
				for name, values := range responseHeader("application/json") {
					w.Header()[name] = values
				}
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{}`))
			},
			reports: 1,
		},
		{
			name: "undeclared status",
			path: v2Path,
			respond: func(w http.ResponseWriter) {
				for name, values := range responseHeader("application/json") {
					w.Header()[name] = values
				}
				w.WriteHeader(http.StatusTeapot)
				_, _ = w.Write([]byte(`{}`))
			},
			reports: 1,
		},
		{
			name: "404 for a path outside the document",
			path: "/tms/v1/unknown",
			respond: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{}`))
			},
		},
		{
			name: "200 for a path outside the document",
			path: "/tms/v1/unknown",
			respond: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{}`))
			},
			reports: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reports []error
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.respond(w) })
			server := httptest.NewServer(s.CheckingHandler(next, func(err error) { reports = append(reports, err) }))
			defer server.Close()

			resp, err := server.Client().Post(server.URL+tt.path, declaredJSON, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()

			// The handler's response must reach the client unchanged.
			want := httptest.NewRecorder()
			tt.respond(want)
			if resp.StatusCode != want.Code {
				t.Errorf("status = %d, want %d", resp.StatusCode, want.Code)
			}
			if got := resp.Header.Get("Content-Type"); got != want.Header().Get("Content-Type") {
				t.Errorf("Content-Type = %q, want %q", got, want.Header().Get("Content-Type"))
			}
			if got := resp.Header.Get("v-c-correlation-id"); got != want.Header().Get("v-c-correlation-id") {
				t.Errorf("v-c-correlation-id = %q, want %q", got, want.Header().Get("v-c-correlation-id"))
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != want.Body.String() {
				t.Errorf("body = %q, want %q", body, want.Body.String())
			}

			if len(reports) != tt.reports {
				t.Errorf("report called %d times, want %d: %v", len(reports), tt.reports, reports)
			}
		})
	}
}
