package tokenapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// expectation is the expected error of one hostile case: a check and its description.
type expectation struct {
	describe string
	check    func(err error) bool
}

func validationOf(field string) expectation {
	return expectation{
		describe: "a *ValidationError naming " + field,
		check: func(err error) bool {
			var validation *ValidationError
			if !errors.As(err, &validation) || !errors.Is(err, ErrInvalidRequest) {
				return false
			}
			for _, f := range validation.Fields {
				if f.Field == field {
					return true
				}
			}
			return false
		},
	}
}

func apiErrorWith(status int, truncated bool) expectation {
	return expectation{
		describe: fmt.Sprintf("an *APIError with status %d and BodyTruncated %v", status, truncated),
		check: func(err error) bool {
			var apiErr *APIError
			return errors.As(err, &apiErr) && apiErr.StatusCode == status && apiErr.BodyTruncated == truncated &&
				len(apiErr.Body) <= MaxErrorBodyBytes && apiErr.Type == ""
		},
	}
}

func decryptFailure(reason error) expectation {
	return expectation{
		describe: "a *DecryptError for " + reason.Error(),
		check: func(err error) bool {
			var decryptErr *DecryptError
			return errors.As(err, &decryptErr) && errors.Is(err, reason)
		},
	}
}

func sentinel(target error) expectation {
	return expectation{describe: target.Error(), check: func(err error) bool { return errors.Is(err, target) }}
}

func incompleteWith(status int) expectation {
	return expectation{
		describe: fmt.Sprintf("an *IncompleteResponseError with status %d", status),
		check: func(err error) bool {
			var incomplete *IncompleteResponseError
			return errors.As(err, &incomplete) && incomplete.StatusCode == status && errors.Is(err, ErrTransport)
		},
	}
}

func TestHostileInputRejectedBeforeSending(t *testing.T) {
	const valid = "7030000000000011111"
	cases := []struct {
		name      string
		tokenID   string
		profileID string
		request   *PaymentCredentialsRequest
		want      expectation
	}{
		{"empty token id", "", "", nil, validationOf("tokenId")},
		{"33-character token id", strings.Repeat("7", 33), "", nil, validationOf("tokenId")},
		{"token id ../x", "../x", "", nil, validationOf("tokenId")},
		{"token id a/b", "a/b", "", nil, validationOf("tokenId")},
		{"token id %2e%2e", "%2e%2e", "", nil, validationOf("tokenId")},
		{"token id with a space", "7030 0000", "", nil, validationOf("tokenId")},
		{"token id with a tab", "7030\t0000", "", nil, validationOf("tokenId")},
		{"token id with a newline", "7030\r\nX-Injected: 1", "", nil, validationOf("tokenId")},
		{"token id with NUL", "7030\x00", "", nil, validationOf("tokenId")},
		{"token id with DEL", "7030\x7f", "", nil, validationOf("tokenId")},
		{"non-ASCII token id", "7030é", "", nil, validationOf("tokenId")},
		{"fullwidth digits", "７０３０", "", nil, validationOf("tokenId")},
		{"invalid UTF-8 token id", "7030\xff\xfe", "", nil, validationOf("tokenId")},
		{"token id with a query", "7030?x=1", "", nil, validationOf("tokenId")},
		{"token id with a fragment", "7030#x", "", nil, validationOf("tokenId")},
		{"token id with a backslash", `..\x`, "", nil, validationOf("tokenId")},
		{"profile id of 35 characters", valid, strings.Repeat("A", 35), nil, validationOf("profile-id")},
		{"profile id of 37 characters", valid, strings.Repeat("A", 37), nil, validationOf("profile-id")},
		{"profile id of 1 character", valid, "A", nil, validationOf("profile-id")},
		{"profile id with a newline", valid, "93B32398-AD51-4CC2-A682-EA3E93614EB\n", nil, validationOf("profile-id")},
		{"profile id of 36 bytes, non-ASCII", valid, "93B32398-AD51-4CC2-A682-EA3E93614Eé", nil, validationOf("profile-id")},
		{"unknown credential type", valid, "", &PaymentCredentialsRequest{PaymentCredentialType: "PAN"}, validationOf("paymentCredentialType")},
		{"lower-case transaction type", valid, "", &PaymentCredentialsRequest{TransactionType: "ecom"}, validationOf("transactionType")},
		{"invalid UTF-8 in a field", valid, "", &PaymentCredentialsRequest{OrderInformation: OrderInformation{BillTo: BillTo{LastName: "\xc3"}}}, validationOf("orderInformation.billTo.lastName")},
	}

	var requests atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	defer server.Close()
	client := newRetryClient(t, server.URL)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []CallOption
			if tc.profileID != "" {
				opts = append(opts, WithProfileID(tc.profileID))
			}
			for _, call := range []func() error{
				func() error {
					_, err := client.GeneratePaymentCredentials(context.Background(), tc.tokenID, tc.request, opts...)
					return err
				},
				func() error {
					_, err := client.GeneratePaymentCredentialsV3JWE(context.Background(), tc.tokenID, tc.request, opts...)
					return err
				},
			} {
				if err := call(); !tc.want.check(err) {
					t.Errorf("error = %v, want %s", err, tc.want.describe)
				}
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the server received %d requests for rejected input", n)
	}
}

// limitedFieldsAt returns the JSON of a request with every field that has a maxLength
// set to length characters, counted in code points, and "[]" paths in element 0.
// Enumerated fields get a valid value.
func limitedFieldsAt(length func(path string, maxLength int) int) []byte {
	root := map[string]any{}
	for path, limit := range requestLimits {
		value := any(nil)
		switch {
		case limit.maxLength > 0:
			// 'é' is two bytes in UTF-8, so a length check on bytes would reject it.
			value = strings.Repeat("é", length(path, limit.maxLength))
		case len(limit.enum) > 0:
			value = limit.enum[0]
		}
		setPath(root, path, value)
	}
	body, err := json.Marshal(root)
	if err != nil {
		panic(err)
	}
	return body
}

// setPath sets the value at a dotted path such as "a.b[].c" in nested maps.
func setPath(node map[string]any, path string, value any) {
	name, rest, nested := strings.Cut(path, ".")
	if !nested {
		node[name] = value
		return
	}
	if array, ok := strings.CutSuffix(name, "[]"); ok {
		elements, _ := node[array].([]any)
		if len(elements) == 0 {
			elements = []any{map[string]any{}}
			node[array] = elements
		}
		setPath(elements[0].(map[string]any), rest, value)
		return
	}
	child, _ := node[name].(map[string]any)
	if child == nil {
		child = map[string]any{}
		node[name] = child
	}
	setPath(child, rest, value)
}

func TestEveryFieldAtAndBeyondMaxLength(t *testing.T) {
	server := newScriptedServer(t, created(t))
	client := newRetryClient(t, server.URL)

	var atLimit PaymentCredentialsRequest
	if err := json.Unmarshal(limitedFieldsAt(func(_ string, maxLength int) int { return maxLength }), &atLimit); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, &atLimit); err != nil {
		t.Fatalf("a request with every field at its maxLength was rejected: %v", err)
	}
	received := server.requests()
	if len(received) != 1 {
		t.Fatalf("server received %d requests, want 1", len(received))
	}
	var sent PaymentCredentialsRequest
	if err := json.Unmarshal(received[0].body, &sent); err != nil {
		t.Fatal(err)
	}
	if got := len([]rune(sent.AuthenticatedIdentities[0].Data)); got != 17000 {
		t.Errorf("authenticatedIdentities[0].data arrived with %d characters, want 17000", got)
	}

	for path, limit := range requestLimits {
		if limit.maxLength == 0 {
			continue
		}
		t.Run(path, func(t *testing.T) {
			var beyond PaymentCredentialsRequest
			body := limitedFieldsAt(func(p string, maxLength int) int {
				if p == path {
					return maxLength + 1
				}
				return maxLength
			})
			if err := json.Unmarshal(body, &beyond); err != nil {
				t.Fatal(err)
			}
			_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, &beyond)
			field := strings.Replace(path, "[]", "[0]", 1)
			var validation *ValidationError
			if !errors.As(err, &validation) || len(validation.Fields) != 1 || validation.Fields[0].Field != field {
				t.Fatalf("error = %v, want a *ValidationError naming only %s", err, field)
			}
			want := fmt.Sprintf("is %d characters, over the maximum of %d", limit.maxLength+1, limit.maxLength)
			if validation.Fields[0].Problem != want {
				t.Errorf("problem %q, want %q", validation.Fields[0].Problem, want)
			}
		})
	}
	if n := len(server.requests()); n != 1 {
		t.Errorf("server received %d requests; requests over a limit were sent", n)
	}
}

// jweWithHeader replaces the protected header of a valid JWE.
func jweWithHeader(valid, header string) string {
	parts := strings.Split(valid, ".")
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + strings.Join(parts[1:], ".")
}

func TestHostileResponses(t *testing.T) {
	fixtureJWE := strings.TrimSpace(readFixture(t, "v2-visa-cryptogram.jwe"))
	parts := strings.Split(fixtureJWE, ".")
	otherKey := generateKey(t)
	const fixtureKID = "a0c4f1d2e3b4a5968778695a4b3c2d1e0f9e8d7c"
	toOtherKey := encryptTo(t, &otherKey.PublicKey, "unknown-kid", jose.RSA_OAEP_256, jose.A256GCM, readFixture(t, "v2-visa-cryptogram.json"))
	notCredentials := encryptTo(t, &fixtureKey(t).PublicKey, fixtureKID, jose.RSA_OAEP_256, jose.A256GCM, `["not","an","object"]`)
	const jose = "application/jose;charset=utf-8"

	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		handler     http.HandlerFunc // replaces status, contentType and body when set
		twoKeys     bool             // configure a second MLE key, so that the kid selects one
		want        expectation
	}{
		{name: "201 with an empty body", status: 201, contentType: jose, body: "", want: decryptFailure(ErrMalformedJWE)},
		{name: "201 with white space only", status: 201, contentType: jose, body: " \r\n\t", want: decryptFailure(ErrMalformedJWE)},
		{name: "201 with JSON instead of a JWE", status: 201, contentType: "application/json", body: `{"tokenizedCard":{"number":"4111111111111111"}}`, want: decryptFailure(ErrMalformedJWE)},
		{name: "201 with a JSON array", status: 201, contentType: "application/json", body: `[1,2,3]`, want: decryptFailure(ErrMalformedJWE)},
		{name: "201 with a JWE of 4 parts", status: 201, contentType: jose, body: strings.Join(parts[:4], "."), want: decryptFailure(ErrMalformedJWE)},
		{name: "201 with a JWE of 6 parts", status: 201, contentType: jose, body: fixtureJWE + ".AAAA", want: decryptFailure(ErrMalformedJWE)},
		{name: "201 with a JWE of 1 part", status: 201, contentType: jose, body: parts[0], want: decryptFailure(ErrMalformedJWE)},
		{name: "201 with only dots", status: 201, contentType: jose, body: "....", want: decryptFailure(ErrMalformedJWE)},
		{name: "standard base64 in the ciphertext", status: 201, contentType: jose, body: strings.Join([]string{parts[0], parts[1], parts[2], "ab+/", parts[4]}, "."), want: decryptFailure(ErrMalformedJWE)},
		{name: "padding in the header", status: 201, contentType: jose, body: parts[0] + "==." + strings.Join(parts[1:], "."), want: decryptFailure(ErrMalformedJWE)},
		{name: "a space inside the JWE", status: 201, contentType: jose, body: parts[0] + ". " + strings.Join(parts[1:], "."), want: decryptFailure(ErrMalformedJWE)},
		{name: "binary body", status: 201, contentType: jose, body: "\x00\xff\xfe\x01.\x02.\x03.\x04.\x05", want: decryptFailure(ErrMalformedJWE)},
		{name: "header not JSON", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, "not json"), want: decryptFailure(ErrMalformedJWE)},
		{name: "header a JSON string", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `"RSA-OAEP-256"`), want: decryptFailure(ErrMalformedJWE)},
		{name: "header with alg of the wrong type", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":1,"enc":"A256GCM"}`), want: decryptFailure(ErrMalformedJWE)},
		{name: "unknown alg", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"RSA-OAEP-512","enc":"A256GCM"}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "alg none", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"none","enc":"A256GCM"}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "alg RSA1_5", status: 201, contentType: jose, body: readFixture(t, "rsa1_5-rejected.jwe"), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "legacy pair without the option", status: 201, contentType: jose, body: readFixture(t, "rsa-oaep-a128gcm.jwe"), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "unknown enc", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"RSA-OAEP-256","enc":"A512GCM"}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "missing alg", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"enc":"A256GCM"}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "missing enc", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"RSA-OAEP-256"}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "empty header object", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "zip", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "crit", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["exp"],"exp":1}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "empty crit list", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":[]}`), want: decryptFailure(ErrUnsupportedAlgorithm)},
		{name: "JWE in JSON serialization", status: 201, contentType: "application/jose+json", body: `{"protected":"` + parts[0] + `","encrypted_key":"` + parts[1] + `","iv":"` + parts[2] + `","ciphertext":"` + parts[3] + `","tag":"` + parts[4] + `"}`, want: decryptFailure(ErrMalformedJWE)},
		{name: "unknown kid with two keys", status: 201, contentType: jose, body: toOtherKey, twoKeys: true, want: decryptFailure(ErrUnknownKeyID)},
		{name: "missing kid with two keys", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"alg":"RSA-OAEP-256","enc":"A256GCM"}`), twoKeys: true, want: decryptFailure(ErrUnknownKeyID)},
		{name: "unknown kid with one key", status: 201, contentType: jose, body: toOtherKey, want: decryptFailure(ErrDecryptionFailed)},
		{name: "header changed after encryption", status: 201, contentType: jose, body: jweWithHeader(fixtureJWE, `{"kid":"x","enc":"A256GCM","alg":"RSA-OAEP-256"}`), want: decryptFailure(ErrDecryptionFailed)},
		{name: "tampered tag", status: 201, contentType: jose, body: readFixture(t, "tampered-tag.jwe"), want: decryptFailure(ErrDecryptionFailed)},
		{name: "plaintext not an object", status: 201, contentType: jose, body: notCredentials, want: decryptFailure(ErrInvalidPayload)},
		{name: "201 of 3 MB", status: 201, contentType: jose, body: fixtureJWE + strings.Repeat("A", 3<<20), want: sentinel(ErrResponseTooLarge)},
		{name: "200 instead of 201", status: 200, contentType: jose, body: fixtureJWE, want: apiErrorWith(200, false)},
		{name: "204 with no body", status: 204, want: apiErrorWith(204, false)},
		{name: "unassigned status 599", status: 599, contentType: "text/plain", body: "?", want: apiErrorWith(599, false)},
		{name: "HTML error page", status: 502, contentType: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>", want: apiErrorWith(502, false)},
		{name: "truncated JSON error", status: 500, contentType: "application/json", body: `{"errors":[{"type":"internalErr`, want: apiErrorWith(500, false)},
		{name: "empty error body", status: 503, want: apiErrorWith(503, false)},
		{name: "JSON null error body", status: 400, contentType: "application/json", body: `null`, want: apiErrorWith(400, false)},
		{name: "errors of the wrong type", status: 400, contentType: "application/json", body: `{"errors":"invalid"}`, want: apiErrorWith(400, false)},
		{name: "error body of 3 MB", status: 502, contentType: "text/html", body: "<html>" + strings.Repeat("x", 3<<20), want: apiErrorWith(502, true)},
		{name: "deeply nested error body", status: 400, contentType: "application/json", body: strings.Repeat("[", 4000) + strings.Repeat("]", 4000), want: apiErrorWith(400, false)},
		{name: "201 cut mid-body", handler: cutMidBody(http.StatusCreated), want: incompleteWith(http.StatusCreated)},
		{name: "error body cut mid-body", handler: cutMidBody(http.StatusBadRequest), want: incompleteWith(http.StatusBadRequest)},
		{name: "connection closed before a response", handler: closeWithoutResponse, want: sentinel(ErrTransport)},
		{name: "garbage instead of HTTP", handler: writeRaw("SSH-2.0-OpenSSH_9.6\r\n\r\n"), want: sentinel(ErrTransport)},
		{name: "invalid status line", handler: writeRaw("HTTP/1.1 20x Created\r\n\r\n"), want: sentinel(ErrTransport)},
		{name: "invalid Content-Length", handler: writeRaw("HTTP/1.1 201 Created\r\nContent-Length: -5\r\n\r\n"), want: sentinel(ErrTransport)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			handler := tc.handler
			if handler == nil {
				handler = func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.ReadAll(r.Body)
					if tc.contentType != "" {
						w.Header().Set("Content-Type", tc.contentType)
					}
					w.WriteHeader(tc.status)
					io.WriteString(w, tc.body)
				}
			}
			server := httptest.NewServer(handler)
			defer server.Close()
			client := newRetryClient(t, server.URL)
			if tc.twoKeys {
				var err error
				client, err = New(WithBaseURL(server.URL), WithHTTPSignature("testmerchant", "key-1", retryTestSecret),
					WithMLEKeys(MLEKey{KeyID: fixtureKID, Key: fixtureKey(t)}, MLEKey{KeyID: "rotated-kid", Key: otherKey}))
				if err != nil {
					t.Fatal(err)
				}
			}

			creds, err := client.GeneratePaymentCredentials(context.Background(), retryTestTokenID, nil)
			if creds != nil {
				t.Errorf("credentials %v returned with error %v", creds, err)
			}
			if !tc.want.check(err) {
				t.Errorf("error = %v (%T), want %s", err, err, tc.want.describe)
			}
			if err != nil && strings.Contains(err.Error(), retryTestTokenID) {
				t.Errorf("the message repeats the whole token id: %v", err)
			}
		})
	}
}

// cutMidBody sends status with a Content-Length it does not honour, then closes the
// connection.
func cutMidBody(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Length", "5000")
		w.WriteHeader(status)
		io.WriteString(w, `{"errors":[{"type":"inval`)
		controller := http.NewResponseController(w)
		_ = controller.Flush()
		if conn, _, err := controller.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

func closeWithoutResponse(w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// writeRaw writes raw bytes to the connection in place of an HTTP response.
func writeRaw(raw string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, buffered, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = buffered.WriteString(raw)
		_ = buffered.Flush()
		_ = conn.Close()
	}
}
