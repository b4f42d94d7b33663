package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/internal/spec"
)

func TestParseFault(t *testing.T) {
	valid := []struct {
		text string
		want sandbox.Fault
		form string // String() of the result
	}{
		{"", sandbox.Fault{}, ""},
		{"latency=200ms", sandbox.Fault{Latency: 200 * time.Millisecond}, "latency=200ms"},
		{"status=503", sandbox.Fault{Kind: sandbox.FaultStatus, Status: 503}, "status=503"},
		{" Latency = 2s , STATUS=500 ", sandbox.Fault{Latency: 2 * time.Second, Kind: sandbox.FaultStatus, Status: 500}, "latency=2s,status=500"},
		{"close-mid-body", sandbox.Fault{Kind: sandbox.FaultCloseMidBody}, "close-mid-body"},
		{"truncated-jwe,times=2", sandbox.Fault{Kind: sandbox.FaultTruncatedJWE, Times: 2}, "truncated-jwe,times=2"},
		{"malformed-jwe", sandbox.Fault{Kind: sandbox.FaultMalformedJWE}, "malformed-jwe"},
		{"tampered-jwe", sandbox.Fault{Kind: sandbox.FaultTamperedJWE}, "tampered-jwe"},
		{"html-error", sandbox.Fault{Kind: sandbox.FaultHTMLError}, "html-error"},
		{"oversized-body", sandbox.Fault{Kind: sandbox.FaultOversizedBody}, "oversized-body"},
		{"latency=1m", sandbox.Fault{Latency: time.Minute}, "latency=1m0s"},
	}
	for _, tt := range valid {
		got, err := sandbox.ParseFault(tt.text)
		if err != nil {
			t.Errorf("ParseFault(%q): %v", tt.text, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseFault(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
		if got.String() != tt.form {
			t.Errorf("ParseFault(%q).String() = %q, want %q", tt.text, got.String(), tt.form)
		}
	}

	invalid := []struct {
		text string
		want string // part of the message
	}{
		{"explode", `unknown item "explode"`},
		{"status=200", `status "200" is not a code from 500 to 599`},
		{"status=", `status "" is not a code`},
		{"status=503,html-error", "at most one kind"},
		{"latency=fast", `latency "fast" is not a duration`},
		{"latency=2m", "not between 0 and 1m0s"},
		{"latency=-1s", "not between"},
		{"latency=1s,latency=2s", "latency is given twice"},
		{"times=0,status=500", `times "0" is not a positive whole number`},
		{"times=3", "limits nothing"},
		{"html-error=504", "html-error takes no value"},
	}
	for _, tt := range invalid {
		_, err := sandbox.ParseFault(tt.text)
		if err == nil {
			t.Errorf("ParseFault(%q) accepted the text", tt.text)
			continue
		}
		if !errors.Is(err, sandbox.ErrInvalidFault) {
			t.Errorf("ParseFault(%q) error %v does not wrap ErrInvalidFault", tt.text, err)
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), strconv.Quote(tt.text)) {
			t.Errorf("ParseFault(%q) error = %q, want the text and %q", tt.text, err, tt.want)
		}
	}
}

// faultSandbox is a sandbox served without CheckingHandler, which would buffer the
// response and so hide what close-mid-body and oversized-body do on the wire.
type faultSandbox struct {
	url      string
	merchant testMerchant
	client   *gen.Client
	records  chan sandbox.Record
}

func startFaultSandbox(t *testing.T, tokens ...sandbox.Token) *faultSandbox {
	t.Helper()
	merchant := generatedMerchants(t)[0]
	fs := &faultSandbox{merchant: merchant, records: make(chan sandbox.Record, 100)}
	server, err := sandbox.New(sandbox.Config{
		Merchants: []sandbox.Merchant{merchant.Merchant},
		Tokens:    append(sandbox.DemoTokens(), tokens...),
		OnRequest: func(rec sandbox.Record) { fs.records <- rec },
	})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	httpServer := httptest.NewServer(server)
	t.Cleanup(httpServer.Close)
	fs.url = httpServer.URL
	fs.client, err = gen.NewClient(httpServer.URL, gen.WithHTTPClient(&http.Client{Transport: signerFor(merchant)}))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// post sends a signed v2 or v3 request with the fault header, unless fault is empty, and
// returns the response with its body unread.
func (fs *faultSandbox) post(ctx context.Context, version, tokenID, fault string) (*http.Response, error) {
	editor := func(_ context.Context, r *http.Request) error {
		if fault != "" {
			r.Header.Set(sandbox.FaultHeader, fault)
		}
		return nil
	}
	if version == "v3" {
		return fs.client.PostTokenPaymentCredentialsV3WithApplicationJSONCharsetUTF8Body(ctx, tokenID, nil, gen.PaymentCredentialsRequest{}, editor)
	}
	return fs.client.PostTokenPaymentCredentialsWithApplicationJSONCharsetUTF8Body(ctx, tokenID, nil, gen.PaymentCredentialsRequest{}, editor)
}

// nextRecord returns the record of the next request the sandbox finished.
func (fs *faultSandbox) nextRecord(t *testing.T) sandbox.Record {
	t.Helper()
	select {
	case rec := <-fs.records:
		return rec
	case <-time.After(10 * time.Second):
		t.Fatal("the sandbox recorded no request within 10s")
		return sandbox.Record{}
	}
}

// specErrors validates a response read in full against the OpenAPI document.
func specErrors(t *testing.T, resp *http.Response, body []byte) error {
	t.Helper()
	sp, err := spec.Load()
	if err != nil {
		t.Fatal(err)
	}
	return sp.ValidateResponse(resp.Request, resp.StatusCode, resp.Header, body)
}

func TestFaultsOnTheWire(t *testing.T) {
	fs := startFaultSandbox(t)
	mleKey := fs.merchant.mleKey

	tests := []struct {
		fault      string
		status     int
		breaksSpec bool
		check      func(t *testing.T, resp *http.Response, body []byte)
	}{
		{"status=500", 500, false, checkInternalError},
		{"status=502", 502, false, checkInternalError},
		{"status=503", 503, true, checkInternalError},
		{"latency=1ms", 201, false, func(t *testing.T, _ *http.Response, body []byte) {
			if _, err := openJWE(string(body), mleKey); err != nil {
				t.Errorf("the JWE after a latency does not open: %v", err)
			}
		}},
		{"truncated-jwe", 201, true, func(t *testing.T, _ *http.Response, body []byte) {
			if parts := strings.Count(string(body), ".") + 1; parts >= 5 {
				t.Errorf("truncated JWE has %d parts, want fewer than 5", parts)
			}
			if _, err := openJWE(string(body), mleKey); err == nil {
				t.Error("the truncated JWE opens")
			}
		}},
		{"malformed-jwe", 201, false, func(t *testing.T, _ *http.Response, body []byte) {
			parts := strings.Split(string(body), ".")
			if len(parts) != 5 {
				t.Fatalf("malformed JWE has %d parts, want 5", len(parts))
			}
			header, err := base64.RawURLEncoding.DecodeString(parts[0])
			if err != nil {
				t.Fatalf("protected header is not base64url: %v", err)
			}
			if json.Valid(header) || !bytes.HasPrefix(header, []byte(`{"alg":"RSA-OAEP-256"`)) {
				t.Errorf("protected header %s, want the real header cut short", header)
			}
			if _, err := openJWE(string(body), mleKey); err == nil {
				t.Error("the malformed JWE opens")
			}
		}},
		{"tampered-jwe", 201, false, func(t *testing.T, _ *http.Response, body []byte) {
			object, err := jose.ParseEncryptedCompact(string(body), []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
			if err != nil {
				t.Fatalf("the tampered JWE does not parse: %v", err)
			}
			if _, err := object.Decrypt(mleKey); err == nil {
				t.Error("the tampered JWE decrypts")
			}
		}},
		{"html-error", 502, true, func(t *testing.T, resp *http.Response, body []byte) {
			if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
			}
			if !bytes.HasPrefix(body, []byte("<!DOCTYPE html>")) {
				t.Errorf("body %q is not an HTML page", body)
			}
			for _, name := range []string{"v-c-correlation-id", "uniqueTransactionID"} {
				if got := resp.Header.Get(name); got != "" {
					t.Errorf("%s = %q, want none from a proxy", name, got)
				}
			}
		}},
		{"oversized-body", 201, true, func(t *testing.T, resp *http.Response, body []byte) {
			if resp.ContentLength != sandbox.OversizedBodyBytes || len(body) != sandbox.OversizedBodyBytes {
				t.Errorf("Content-Length %d, body %d bytes, want %d", resp.ContentLength, len(body), sandbox.OversizedBodyBytes)
			}
			if len(bytes.Trim(body, "A")) != 0 {
				t.Error("the oversized body holds characters other than A")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			resp, err := fs.post(context.Background(), "v2", sandbox.DemoVisaTokenID, tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body: %.200s", resp.StatusCode, tt.status, body)
			}
			tt.check(t, resp, body)

			err = specErrors(t, resp, body)
			if tt.breaksSpec && err == nil {
				t.Error("the response is valid against the OpenAPI document, but the fault is documented to break it")
			}
			if !tt.breaksSpec && err != nil {
				t.Errorf("the response breaks the OpenAPI document: %v", err)
			}
			if rec := fs.nextRecord(t); rec.Fault != tt.fault {
				t.Errorf("Record.Fault = %q, want %q", rec.Fault, tt.fault)
			}
		})
	}
}

// openJWE parses and decrypts a compact JWE with the algorithms CyberSource uses.
func openJWE(compact string, key any) ([]byte, error) {
	object, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, err
	}
	return object.Decrypt(key)
}

func checkInternalError(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	errorBody(t, result{status: resp.StatusCode, header: resp.Header, body: body}, resp.StatusCode, "internalError")
	for _, name := range []string{"v-c-correlation-id", "uniqueTransactionID"} {
		if resp.Header.Get(name) == "" {
			t.Errorf("response has no %s header", name)
		}
	}
}

func TestCloseMidBodyFault(t *testing.T) {
	fs := startFaultSandbox(t)
	for _, tc := range []struct {
		tokenID string
		status  int
	}{
		{sandbox.DemoVisaTokenID, http.StatusCreated},
		{sandbox.DemoDeletedTokenID, http.StatusGone},
	} {
		resp, err := fs.post(context.Background(), "v3", tc.tokenID, "close-mid-body")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading the body: error %v, want io.ErrUnexpectedEOF", err)
		}
		if want := resp.ContentLength / 2; int64(len(body)) != want || want == 0 {
			t.Errorf("received %d of %d body bytes, want half", len(body), resp.ContentLength)
		}
		if rec := fs.nextRecord(t); rec.Status != tc.status || rec.Fault != "close-mid-body" {
			t.Errorf("record status %d, fault %q, want %d and close-mid-body", rec.Status, rec.Fault, tc.status)
		}
	}
}

// A latency fault holds the response until the client gives up, and the sandbox stops
// waiting as soon as the client is gone.
func TestLatencyFaultEndsWithClient(t *testing.T) {
	fs := startFaultSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	resp, err := fs.post(ctx, "v2", sandbox.DemoVisaTokenID, "latency=1m")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the call returned %d before the client's deadline, despite a one-minute latency", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if rec := fs.nextRecord(t); rec.Fault != "latency=1m0s" {
		t.Errorf("Record.Fault = %q, want latency=1m0s", rec.Fault)
	}
}

func TestTokenFault(t *testing.T) {
	flaky := demoToken(t, sandbox.DemoVisaTokenID)
	flaky.ID = "7030000000000055555"
	flaky.Fault = sandbox.Fault{Kind: sandbox.FaultStatus, Status: 503, Times: 2}
	broken := demoToken(t, sandbox.DemoMastercardTokenID)
	broken.ID = "7030000000000066666"
	broken.Fault = sandbox.Fault{Kind: sandbox.FaultHTMLError}
	fs := startFaultSandbox(t, flaky, broken)

	statuses := func(tokenID, header string, n int) []int {
		var got []int
		for range n {
			resp, err := fs.post(context.Background(), "v2", tokenID, header)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.StatusCode)
			fs.nextRecord(t)
		}
		return got
	}

	t.Run("times", func(t *testing.T) {
		got := statuses(flaky.ID, "", 4)
		want := []int{503, 503, 201, 201}
		if !equalInts(got, want) {
			t.Errorf("statuses = %v, want %v", got, want)
		}
	})
	t.Run("every request", func(t *testing.T) {
		if got := statuses(broken.ID, "", 3); !equalInts(got, []int{502, 502, 502}) {
			t.Errorf("statuses = %v, want three 502s", got)
		}
	})
	t.Run("header overrides token", func(t *testing.T) {
		if got := statuses(broken.ID, "status=500", 1); !equalInts(got, []int{500}) {
			t.Errorf("statuses = %v, want 500", got)
		}
		if got := statuses(broken.ID, "latency=1ms", 1); !equalInts(got, []int{201}) {
			t.Errorf("statuses = %v, want 201: a header fault replaces the token's fault", got)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaultsApplyAfterChecks(t *testing.T) {
	ss, ms := defaultSandbox(t)
	withFault := func(fault string) []gen.RequestEditorFn {
		return []gen.RequestEditorFn{func(_ context.Context, r *http.Request) error {
			r.Header.Set(sandbox.FaultHeader, fault)
			return nil
		}}
	}

	t.Run("unauthenticated", func(t *testing.T) {
		bad := signerFor(ms[0])
		bad.secret = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
		res := call(t, newClient(t, ss, bad), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{editors: withFault("status=503")})
		if res.status != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401 before any fault", res.status)
		}
	})

	client := newClient(t, ss, signerFor(ms[0]))
	t.Run("invalid request", func(t *testing.T) {
		res := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{
			contentType: "application/json", rawBody: `{"paymentCredentialType":"PAN"}`, editors: withFault("status=503"),
		})
		errorBody(t, res, http.StatusBadRequest, "invalidFields")
	})
	t.Run("JWE fault on an error", func(t *testing.T) {
		res := call(t, client, "v3", sandbox.DemoDeletedTokenID, gen.PaymentCredentialsRequest{}, callOptions{editors: withFault("truncated-jwe")})
		errorBody(t, res, http.StatusGone, "notAvailable")
	})
	t.Run("unknown token", func(t *testing.T) {
		res := call(t, client, "v3", "7030000000000000000", gen.PaymentCredentialsRequest{}, callOptions{editors: withFault("status=502")})
		errorBody(t, res, http.StatusBadGateway, "internalError")
	})
}

func TestInvalidFaultHeader(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))

	for _, tt := range []struct {
		header []string
		want   string
	}{
		{[]string{"status=200"}, `status "200" is not a code from 500 to 599`},
		{[]string{"teapot"}, `unknown item "teapot"`},
		{[]string{"status=503,times=1"}, "times applies only to a token's fault"},
		{[]string{"status=503", "latency=1s"}, "sent 2 times"},
	} {
		t.Run(strings.Join(tt.header, " "), func(t *testing.T) {
			editor := func(_ context.Context, r *http.Request) error {
				for _, v := range tt.header {
					r.Header.Add(sandbox.FaultHeader, v)
				}
				return nil
			}
			res := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{editors: []gen.RequestEditorFn{editor}})
			body := errorBody(t, res, http.StatusBadRequest, "invalidHeaders")
			if msg := body.Errors[0].Message; !strings.Contains(msg, tt.want) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.want)
			}
			want := []gen.ErrorDetail{{Name: sandbox.FaultHeader, Location: "header"}}
			if len(body.Errors[0].Details) != 1 || body.Errors[0].Details[0] != want[0] {
				t.Errorf("details = %+v, want %+v", body.Errors[0].Details, want)
			}
		})
	}
}

func TestInvalidTokenFault(t *testing.T) {
	deleted := demoToken(t, sandbox.DemoDeletedTokenID)
	deleted.Fault = sandbox.Fault{Kind: sandbox.FaultTamperedJWE}
	statusWithoutKind := demoToken(t, sandbox.DemoVisaTokenID)
	statusWithoutKind.Fault = sandbox.Fault{Status: 503}
	unknownKind := demoToken(t, sandbox.DemoVisaTokenID)
	unknownKind.Fault = sandbox.Fault{Kind: "slow"}

	for _, tt := range []struct {
		token sandbox.Token
		want  string
	}{
		{deleted, "a DELETED token never gets a 201"},
		{statusWithoutKind, "Status 503 is set but Kind is \"\""},
		{unknownKind, `unknown item "slow"`},
	} {
		_, err := sandbox.New(sandbox.Config{Tokens: []sandbox.Token{tt.token}})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.token.ID) {
			t.Errorf("New: error = %v, want one naming token %s and containing %q", err, tt.token.ID, tt.want)
		}
	}
}

func TestLinkedToken(t *testing.T) {
	linked := demoToken(t, sandbox.DemoVisaTokenID)
	linked.ID = "7030000000000077777"
	linked.State = sandbox.TokenLinked
	ms := generatedMerchants(t)
	ss := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{ms[0].Merchant}, Tokens: []sandbox.Token{linked}})
	client := newClient(t, ss, signerFor(ms[0]))

	res := call(t, client, "v3", linked.ID, gen.PaymentCredentialsRequest{}, callOptions{})
	errorBody(t, res, http.StatusConflict, "conflict")

	res = call(t, client, "v2", linked.ID, gen.PaymentCredentialsRequest{}, callOptions{})
	checkCryptogram(t, decrypt(t, ms[0], res).TokenizedCard)
}
