package sandbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/sandbox"
)

func TestValidationErrors(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))

	tests := []struct {
		name      string
		body      string
		profileID string
		status    int
		errors    []gen.Error // messages are not compared
	}{
		{
			name: "over-long field",
			body: `{"orderInformation":{"billTo":{"firstName":"` + strings.Repeat("J", 61) + `"}}}`,
			errors: []gen.Error{{Type: "invalidFields", Details: []gen.ErrorDetail{
				{Name: "orderInformation.billTo.firstName", Location: "body"},
			}}},
		},
		{
			name: "unknown enum value",
			body: `{"paymentCredentialType":"FULL_PAN"}`,
			errors: []gen.Error{{Type: "invalidFields", Details: []gen.ErrorDetail{
				{Name: "paymentCredentialType", Location: "body"},
			}}},
		},
		{
			name: "wrong type",
			body: `{"deviceInformation":{"httpBrowserJavaScriptEnabled":"true"}}`,
			errors: []gen.Error{{Type: "invalidFields", Details: []gen.ErrorDetail{
				{Name: "deviceInformation.httpBrowserJavaScriptEnabled", Location: "body"},
			}}},
		},
		{
			name: "array element",
			body: `{"authenticatedIdentities":[{"provider":"VISA_PAYMENT_PASSKEY"},{"provider":"SMS"}]}`,
			errors: []gen.Error{{Type: "invalidFields", Details: []gen.ErrorDetail{
				{Name: "authenticatedIdentities[1].provider", Location: "body"},
			}}},
		},
		{
			name:      "header and field",
			body:      `{"clientCorrelationId":"` + strings.Repeat("1", 37) + `"}`,
			profileID: "not-a-uuid",
			errors: []gen.Error{
				{Type: "invalidHeaders", Details: []gen.ErrorDetail{{Name: "profile-id", Location: "header"}}},
				{Type: "invalidFields", Details: []gen.ErrorDetail{{Name: "clientCorrelationId", Location: "body"}}},
			},
		},
		{
			name:   "body that is not JSON",
			body:   `{"paymentCredentialType":`,
			errors: []gen.Error{{Type: "invalidRequest"}},
		},
		{
			name:   "empty body",
			body:   ``,
			errors: []gen.Error{{Type: "invalidRequest"}},
		},
		{
			name:   "body over the size limit",
			body:   `{"clientCorrelationId":"` + strings.Repeat("x", 70<<10) + `"}`,
			errors: []gen.Error{{Type: "invalidRequest"}},
		},
	}
	for _, tt := range tests {
		for _, version := range []string{"v2", "v3"} {
			t.Run(tt.name+" "+version, func(t *testing.T) {
				res := call(t, client, version, sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{
					contentType: "application/json;charset=utf-8",
					rawBody:     tt.body,
					profileID:   tt.profileID,
				})
				body := errorBody(t, res, http.StatusBadRequest, tt.errors[0].Type)
				for i := range body.Errors {
					if body.Errors[i].Message == "" {
						t.Errorf("error %d has no message", i)
					}
					body.Errors[i].Message = ""
				}
				if !slices.EqualFunc(body.Errors, tt.errors, func(a, b gen.Error) bool {
					return a.Type == b.Type && slices.Equal(a.Details, b.Details)
				}) {
					t.Errorf("errors = %+v, want %+v", body.Errors, tt.errors)
				}
			})
		}
	}
}

func TestContentTypeSpellings(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))

	accepted := []string{
		"application/json",
		"application/json;charset=utf-8",
		"application/json;charset=UTF-8",
		"application/json; charset=utf-8",
		"application/json ; charset=UTF-8",
		"APPLICATION/JSON;CHARSET=UTF-8",
	}
	for _, contentType := range accepted {
		t.Run("accept "+contentType, func(t *testing.T) {
			res := call(t, client, "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{
				contentType: contentType,
				rawBody:     `{"paymentCredentialType":"CRYPTOGRAM"}`,
			})
			checkCryptogram(t, decrypt(t, ms[0], res).TokenizedCard)
		})
	}

	rejected := []string{"text/plain", "application/xml", "application/json;charset=iso-8859-1", "application/x-www-form-urlencoded"}
	for _, contentType := range rejected {
		t.Run("reject "+contentType, func(t *testing.T) {
			res := call(t, client, "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{
				contentType: contentType,
				rawBody:     `{"paymentCredentialType":"CRYPTOGRAM"}`,
			})
			body := errorBody(t, res, http.StatusBadRequest, "invalidHeaders")
			want := []gen.ErrorDetail{{Name: "Content-Type", Location: "header"}}
			if !slices.Equal(body.Errors[0].Details, want) {
				t.Errorf("details = %+v, want %+v", body.Errors[0].Details, want)
			}
		})
	}
}

func TestCorrelationID(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))
	withCorrelationID := func(id string) []gen.RequestEditorFn {
		return []gen.RequestEditorFn{func(_ context.Context, r *http.Request) error {
			r.Header.Set("v-c-correlation-id", id)
			return nil
		}}
	}
	isUUID := func(s string) bool { _, err := uuid.Parse(s); return err == nil }

	t.Run("echoed", func(t *testing.T) {
		const id = "client-7d1e9b52.attempt-1"
		for _, tokenID := range []string{sandbox.DemoVisaTokenID, "7030000000000000000"} {
			res := call(t, client, "v2", tokenID, gen.PaymentCredentialsRequest{}, callOptions{editors: withCorrelationID(id)})
			if got := res.header.Get("v-c-correlation-id"); got != id {
				t.Errorf("status %d: v-c-correlation-id = %q, want %q", res.status, got, id)
			}
			if rec := ss.lastRecord(t); rec.CorrelationID != id {
				t.Errorf("Record.CorrelationID = %q, want %q", rec.CorrelationID, id)
			}
		}
	})

	t.Run("generated", func(t *testing.T) {
		for name, editors := range map[string][]gen.RequestEditorFn{
			"absent":         nil,
			"with spaces":    withCorrelationID("two words"),
			"over 64 bytes":  withCorrelationID(strings.Repeat("a", 65)),
			"with a newline": withCorrelationID("a%0Ab"),
		} {
			res := call(t, client, "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{editors: editors})
			if got := res.header.Get("v-c-correlation-id"); !isUUID(got) {
				t.Errorf("%s: v-c-correlation-id = %q, want a fresh UUID", name, got)
			}
		}
	})

	t.Run("unique transaction ids", func(t *testing.T) {
		seen := map[string]bool{}
		for range 3 {
			res := call(t, client, "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
			id := res.header.Get("uniqueTransactionID")
			if id == "" || seen[id] {
				t.Errorf("uniqueTransactionID = %q, want a new value on each response", id)
			}
			seen[id] = true
		}
	})
}

func TestUnknownPathAndMethod(t *testing.T) {
	ss, _ := defaultSandbox(t)

	tests := []struct {
		method, path string
		status       int
		errorType    string
	}{
		{http.MethodPost, "/tms/v1/tokens/" + sandbox.DemoVisaTokenID + "/payment-credentials", 404, "notFound"},
		{http.MethodPost, "/tms/v2/tokens/a/b/payment-credentials", 404, "notFound"},
		{http.MethodPost, "/", 404, "notFound"},
		{http.MethodGet, "/tms/v2/tokens/" + sandbox.DemoVisaTokenID + "/payment-credentials", 405, "methodNotAllowed"},
		{http.MethodDelete, "/tms/v3/tokens/" + sandbox.DemoVisaTokenID + "/payment-credentials", 405, "methodNotAllowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ss.URL+tt.path, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ss.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			errorBody(t, result{status: resp.StatusCode, header: resp.Header, body: data}, tt.status, tt.errorType)
			if tt.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", resp.Header.Get("Allow"))
			}
			for _, name := range []string{"v-c-correlation-id", "uniqueTransactionID"} {
				if resp.Header.Get(name) == "" {
					t.Errorf("response has no %s header", name)
				}
			}
		})
	}
}

func TestSandboxesSideBySide(t *testing.T) {
	ms := generatedMerchants(t)
	first := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{ms[0].Merchant}, Tokens: sandbox.DemoTokens()})
	second := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{ms[1].Merchant}, Tokens: sandbox.DemoTokens()[:1]})

	type outcome struct {
		res result
		err error
	}
	var wg sync.WaitGroup
	outcomes := make([]outcome, 4)
	calls := []struct {
		server   *sandboxServer
		merchant testMerchant
		tokenID  string
	}{
		{first, ms[0], sandbox.DemoAmericanExpressTokenID},
		{second, ms[1], sandbox.DemoVisaTokenID},
		{second, ms[0], sandbox.DemoVisaTokenID},       // merchant of the other sandbox
		{second, ms[1], sandbox.DemoMastercardTokenID}, // token of the other sandbox
	}
	for i, c := range calls {
		client := newClient(t, c.server, signerFor(c.merchant))
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := send(client, "v3", c.tokenID, gen.PaymentCredentialsRequest{}, callOptions{})
			outcomes[i] = outcome{res, err}
		}()
	}
	wg.Wait()
	for i, o := range outcomes {
		if o.err != nil {
			t.Fatalf("call %d: %v", i, o.err)
		}
	}

	decrypt(t, ms[0], outcomes[0].res)
	decrypt(t, ms[1], outcomes[1].res)
	if outcomes[2].res.status != http.StatusUnauthorized {
		t.Errorf("other sandbox's merchant: status = %d, want 401", outcomes[2].res.status)
	}
	errorBody(t, outcomes[3].res, http.StatusNotFound, "notFound")
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	ms := generatedMerchants(t)
	alpha, beta := ms[0].Merchant, ms[1].Merchant
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}

	modified := func(m sandbox.Merchant, change func(*sandbox.Merchant)) sandbox.Merchant {
		change(&m)
		return m
	}
	validToken := sandbox.DemoTokens()[0]
	tokenWith := func(change func(*sandbox.Token)) sandbox.Token {
		token := validToken
		change(&token)
		return token
	}

	tests := []struct {
		name string
		cfg  sandbox.Config
		want string // part of the error message
	}{
		{"merchant without id", sandbox.Config{Merchants: []sandbox.Merchant{modified(alpha, func(m *sandbox.Merchant) { m.ID = "" })}}, "merchant id is empty"},
		{"merchant twice", sandbox.Config{Merchants: []sandbox.Merchant{alpha, alpha}}, "configured twice"},
		{"shared key id", sandbox.Config{Merchants: []sandbox.Merchant{alpha, modified(beta, func(m *sandbox.Merchant) { m.KeyID = alpha.KeyID })}}, "already in use"},
		{"secret not base64", sandbox.Config{Merchants: []sandbox.Merchant{modified(alpha, func(m *sandbox.Merchant) { m.SecretKey = "not base64!" })}}, "base64"},
		{"no MLE key", sandbox.Config{Merchants: []sandbox.Merchant{modified(alpha, func(m *sandbox.Merchant) { m.MLEPublicKey = nil })}}, "MLE public key is missing"},
		{"small MLE key", sandbox.Config{Merchants: []sandbox.Merchant{modified(alpha, func(m *sandbox.Merchant) { m.MLEPublicKey = &smallKey.PublicKey })}}, "1024 bits"},
		{"short profile id", sandbox.Config{Merchants: []sandbox.Merchant{modified(alpha, func(m *sandbox.Merchant) { m.ProfileIDs = []string{"short"} })}}, "not 36 characters"},
		{"portfolio of an unknown merchant", sandbox.Config{
			Merchants:  []sandbox.Merchant{alpha},
			Portfolios: []sandbox.Portfolio{{ID: "p", KeyID: "k", SecretKey: alpha.SecretKey, MerchantIDs: []string{"nobody"}}},
		}, "not in Config.Merchants"},
		{"portfolio reusing a key id", sandbox.Config{
			Merchants:  []sandbox.Merchant{alpha},
			Portfolios: []sandbox.Portfolio{{ID: "p", KeyID: alpha.KeyID, SecretKey: alpha.SecretKey, MerchantIDs: []string{alpha.ID}}},
		}, "already in use"},
		{"negative clock skew", sandbox.Config{ClockSkew: -1}, "negative"},
		{"token id over 32 characters", sandbox.Config{Tokens: []sandbox.Token{tokenWith(func(tk *sandbox.Token) { tk.ID = strings.Repeat("1", 33) })}}, "1 to 32 characters"},
		{"token of unknown network", sandbox.Config{Tokens: []sandbox.Token{tokenWith(func(tk *sandbox.Token) { tk.Network = "discover" })}}, "network"},
		{"token of unknown state", sandbox.Config{Tokens: []sandbox.Token{tokenWith(func(tk *sandbox.Token) { tk.State = "LOST" })}}, "state"},
		{"token without PAN", sandbox.Config{Tokens: []sandbox.Token{tokenWith(func(tk *sandbox.Token) { tk.PAN = "" })}}, "PAN"},
		{"token with bad expiry", sandbox.Config{Tokens: []sandbox.Token{tokenWith(func(tk *sandbox.Token) { tk.ExpirationMonth = "13" })}}, "expiry"},
		{"token twice", sandbox.Config{Tokens: []sandbox.Token{validToken, validToken}}, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sandbox.New(tt.cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), alpha.SecretKey) {
				t.Errorf("error %q contains a shared secret", err)
			}
		})
	}
}

func TestGenerateMerchant(t *testing.T) {
	m, key, err := sandbox.GenerateMerchant("merchant_delta")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "merchant_delta" {
		t.Errorf("ID = %q, want merchant_delta", m.ID)
	}
	if _, err := uuid.Parse(m.KeyID); err != nil {
		t.Errorf("KeyID %q is not a UUID: %v", m.KeyID, err)
	}
	secret, err := base64.StdEncoding.DecodeString(m.SecretKey)
	if err != nil || len(secret) != 32 {
		t.Errorf("SecretKey decodes to %d bytes (error %v), want 32", len(secret), err)
	}
	if bits := key.N.BitLen(); bits != 2048 {
		t.Errorf("MLE key has %d bits, want 2048", bits)
	}
	if !key.PublicKey.Equal(m.MLEPublicKey) {
		t.Error("MLEPublicKey is not the public half of the returned key")
	}

	other, _, err := sandbox.GenerateMerchant("merchant_delta")
	if err != nil {
		t.Fatal(err)
	}
	if other.KeyID == m.KeyID || other.SecretKey == m.SecretKey {
		t.Error("two generated merchants share a key id or secret")
	}
	if _, _, err := sandbox.GenerateMerchant(""); err == nil {
		t.Error("GenerateMerchant accepted an empty id")
	}
}

func luhnValid(number string) bool {
	sum := 0
	for i := range len(number) {
		d := int(number[len(number)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func TestDemoTokens(t *testing.T) {
	idForm := regexp.MustCompile(`^([0-9]{19}|[0-9A-F]{32})$`)
	networks := map[sandbox.Network]bool{}
	var deleted, withoutNetworkToken int

	for _, token := range sandbox.DemoTokens() {
		if !idForm.MatchString(token.ID) {
			t.Errorf("token id %q is neither 19 digits nor 32 hex characters", token.ID)
		}
		if !luhnValid(token.PAN) {
			t.Errorf("token %s: PAN fails the Luhn check", token.ID)
		}
		if token.NetworkTokenNumber == "" {
			withoutNetworkToken++
		} else if !luhnValid(token.NetworkTokenNumber) {
			t.Errorf("token %s: network token number fails the Luhn check", token.ID)
		}
		if token.State == sandbox.TokenDeleted {
			deleted++
		} else if token.NetworkTokenNumber != "" {
			networks[token.Network] = true
		}
	}
	for _, n := range []sandbox.Network{sandbox.Visa, sandbox.Mastercard, sandbox.AmericanExpress} {
		if !networks[n] {
			t.Errorf("no active %s token with a network token", n)
		}
	}
	if deleted != 1 || withoutNetworkToken != 1 {
		t.Errorf("%d deleted tokens and %d without a network token, want 1 of each", deleted, withoutNetworkToken)
	}
	if _, err := sandbox.New(sandbox.Config{Tokens: sandbox.DemoTokens()}); err != nil {
		t.Errorf("New with the demo tokens: %v", err)
	}
}

func TestAddTokenRejectsDuplicate(t *testing.T) {
	server, err := sandbox.New(sandbox.Config{Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	err = server.AddToken(sandbox.DemoTokens()[0])
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("AddToken of an existing id: error = %v, want already exists", err)
	}
}

func TestLogging(t *testing.T) {
	ms := generatedMerchants(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	ss := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{ms[0].Merchant}, Tokens: sandbox.DemoTokens(), Logger: logger})

	res := call(t, newClient(t, ss, signerFor(ms[0])), "v3", sandbox.DemoVisaTokenID,
		gen.PaymentCredentialsRequest{OrderInformation: gen.OrderInformation{BillTo: gen.BillTo{FirstName: "Jolene"}}}, callOptions{})
	credentials := decrypt(t, ms[0], res)

	bad := signerFor(ms[0])
	bad.secret = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	call(t, newClient(t, ss, bad), "v2", sandbox.DemoMastercardTokenID, gen.PaymentCredentialsRequest{}, callOptions{})

	mu.Lock()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	mu.Unlock()
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), logs.String())
	}

	var success, failure map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &success); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &failure); err != nil {
		t.Fatal(err)
	}
	if want := "/tms/v3/tokens/****1111/payment-credentials"; success["path"] != want {
		t.Errorf("path = %v, want %s", success["path"], want)
	}
	if success["status"] != float64(201) || success["method"] != "POST" {
		t.Errorf("status %v, method %v, want 201 and POST", success["status"], success["method"])
	}
	if success["correlation_id"] != res.header.Get("v-c-correlation-id") {
		t.Errorf("correlation_id = %v, want %s", success["correlation_id"], res.header.Get("v-c-correlation-id"))
	}
	if _, ok := success["duration"]; !ok {
		t.Error("log line has no duration")
	}
	if reason, _ := failure["reason"].(string); !strings.Contains(reason, "signature does not match") {
		t.Errorf("401 reason = %q, want the signature mismatch", reason)
	}
	if failure["status"] != float64(401) {
		t.Errorf("status = %v, want 401", failure["status"])
	}

	secrets := []string{
		sandbox.DemoVisaTokenID, sandbox.DemoMastercardTokenID, "Jolene",
		credentials.TokenizedCard.Cryptogram, credentials.TokenizedCard.Number,
		ms[0].SecretKey, string(res.body[:40]),
	}
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Errorf("logs contain %q", s)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
