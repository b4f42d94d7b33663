package tokenapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/httpsig"
)

const (
	retryTestSecret  = "s5YCAlXANW1p+Z0fIK+ZYd0KDkHsbWT1nhIOlMD51kI="
	retryTestTokenID = "7030000000000011111"
)

// scriptedResponse is one response of a scriptedServer.
type scriptedResponse struct {
	status int
	header map[string]string
	body   string
}

// scriptedServer sends the n-th scripted response to the n-th request, and the last one
// to every later request. It records every request it received.
type scriptedServer struct {
	URL string

	mu       sync.Mutex
	script   []scriptedResponse
	received []receivedRequest
	arrived  chan struct{} // receives a value as each request arrives
}

func newScriptedServer(t *testing.T, script ...scriptedResponse) *scriptedServer {
	t.Helper()
	s := &scriptedServer{script: script, arrived: make(chan struct{}, 100)}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.received)
		s.received = append(s.received, receivedRequest{host: r.Host, requestURI: r.RequestURI, header: r.Header.Clone(), body: body})
		answer := s.script[min(n, len(s.script)-1)]
		s.mu.Unlock()
		s.arrived <- struct{}{}

		for name, value := range answer.header {
			w.Header().Set(name, value)
		}
		w.Header().Set("v-c-correlation-id", "scripted-"+strconv.Itoa(n+1))
		w.WriteHeader(answer.status)
		io.WriteString(w, answer.body)
	}))
	t.Cleanup(server.Close)
	s.URL = server.URL
	return s
}

func (s *scriptedServer) requests() []receivedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedRequest(nil), s.received...)
}

// created is a 201 with the fixture JWE.
func created(t *testing.T) scriptedResponse {
	return scriptedResponse{status: http.StatusCreated, header: map[string]string{"Content-Type": "application/jose;charset=utf-8"}, body: readFixture(t, "v2-visa-cryptogram.jwe")}
}

func errorStatus(status int) scriptedResponse {
	return scriptedResponse{
		status: status,
		header: map[string]string{"Content-Type": "application/json"},
		body:   `{"errors":[{"type":"serverError","message":"scripted failure"}]}`,
	}
}

// logRecords collects the JSON records of a slog logger.
type logRecords struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logRecords) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logRecords) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// withMessage returns the records whose msg is message.
func (l *logRecords) withMessage(t *testing.T, message string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	scanner := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for scanner.Scan() {
		var record map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &record); err != nil {
			t.Fatalf("log line is not JSON: %s", scanner.Text())
		}
		if record["msg"] == message {
			out = append(out, record)
		}
	}
	return out
}

// tickingClock returns a clock that moves one second forward at each reading, so that
// every attempt gets its own date header.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	clock := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
}

func newRetryClient(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithBaseURL(url),
		WithHTTPSignature("testmerchant", "key-1", retryTestSecret),
		WithMLEKey(fixtureKey(t)),
	}
	client, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// fastRetry retries with waits short enough for tests.
var fastRetry = RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}

func TestRetrySignsEachAttemptAfresh(t *testing.T) {
	server := newScriptedServer(t, errorStatus(http.StatusServiceUnavailable), errorStatus(http.StatusTooManyRequests), created(t))
	var logs logRecords
	client := newRetryClient(t, server.URL, WithRetry(fastRetry), withClock(tickingClock()), WithLogger(logs.logger()))

	creds, err := client.GeneratePaymentCredentials(context.Background(), retryTestTokenID, &PaymentCredentialsRequest{PaymentCredentialType: Cryptogram})
	if err != nil {
		t.Fatal(err)
	}
	if creds.TokenizedCard.Cryptogram == "" {
		t.Error("the credentials of the third attempt carry no cryptogram")
	}

	received := server.requests()
	if len(received) != 3 {
		t.Fatalf("server received %d requests, want 3", len(received))
	}
	key, _ := httpsig.DecodeSecret(retryTestSecret)
	dates := map[string]bool{}
	signatures := map[string]bool{}
	for i, r := range received {
		params, err := httpsig.ParseSignatureHeader(r.header.Get("signature"))
		if err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		signingString := httpsig.SigningString(httpsig.Request{
			Method: "POST", Host: r.host, Target: r.requestURI, Date: r.header.Get("date"),
			Digest: httpsig.Digest(r.body), SignerID: "testmerchant",
		})
		if !httpsig.Verify(key, signingString, params.Signature) {
			t.Errorf("attempt %d: the signature does not verify over what was received", i+1)
		}
		if r.header.Get("digest") != httpsig.Digest(r.body) {
			t.Errorf("attempt %d: the digest does not match the body", i+1)
		}
		if !bytes.Equal(r.body, received[0].body) {
			t.Errorf("attempt %d sent body %s, the first sent %s", i+1, r.body, received[0].body)
		}
		dates[r.header.Get("date")] = true
		signatures[params.Signature] = true
	}
	if len(dates) != 3 || len(signatures) != 3 {
		t.Errorf("3 attempts carried %d distinct dates and %d distinct signatures, want 3 of each", len(dates), len(signatures))
	}

	retries := logs.withMessage(t, "tokenapi retry")
	if len(retries) != 2 {
		t.Fatalf("%d retry records, want 2", len(retries))
	}
	for i, want := range []string{"503 Service Unavailable", "429 Too Many Requests"} {
		record := retries[i]
		if record["level"] != "INFO" || record["reason"] != want || record["attempt"] != float64(i+1) {
			t.Errorf("retry record %d = %v, want level INFO, attempt %d, reason %q", i, record, i+1, want)
		}
		if _, ok := record["delay"]; !ok {
			t.Errorf("retry record %d has no delay: %v", i, record)
		}
		if record["token"] != maskTokenID(retryTestTokenID) {
			t.Errorf("retry record %d names token %v, want the masked id", i, record["token"])
		}
	}
}

func TestRetryOnlyRetryableStatuses(t *testing.T) {
	cases := []struct {
		status  int
		retried bool
	}{
		{http.StatusTooManyRequests, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusGatewayTimeout, true},
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusConflict, false},
		{http.StatusGone, false},
		{http.StatusInternalServerError, false},
		{http.StatusNotImplemented, false},
		{http.StatusOK, false},
		{http.StatusTemporaryRedirect, false},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			server := newScriptedServer(t, errorStatus(tc.status))
			client := newRetryClient(t, server.URL, WithRetry(fastRetry))
			_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)

			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			wantAttempts := 1
			if tc.retried {
				wantAttempts = fastRetry.MaxAttempts
			}
			if n := len(server.requests()); n != wantAttempts {
				t.Errorf("server received %d requests, want %d", n, wantAttempts)
			}
			if apiErr.Attempts != wantAttempts {
				t.Errorf("APIError.Attempts = %d, want %d", apiErr.Attempts, wantAttempts)
			}
			if apiErr.StatusCode != tc.status {
				t.Errorf("status %d, want %d", apiErr.StatusCode, tc.status)
			}
			if tc.retried && !strings.Contains(err.Error(), "after 3 attempts") {
				t.Errorf("message %q does not count the attempts", err)
			}
		})
	}
}

func TestRetryWithoutPolicyMakesOneAttempt(t *testing.T) {
	for name, opts := range map[string][]Option{
		"no WithRetry":  nil,
		"MaxAttempts 1": {WithRetry(RetryPolicy{MaxAttempts: 1})},
	} {
		t.Run(name, func(t *testing.T) {
			server := newScriptedServer(t, errorStatus(http.StatusServiceUnavailable), created(t))
			client := newRetryClient(t, server.URL, opts...)
			_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Attempts != 1 {
				t.Errorf("error = %v, want a 503 *APIError after 1 attempt", err)
			}
			if n := len(server.requests()); n != 1 {
				t.Errorf("server received %d requests, want 1", n)
			}
		})
	}
}

func TestRetryAfterReplacesAndCapsBackoff(t *testing.T) {
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		retryAfter string
		policy     RetryPolicy
		wantDelay  time.Duration
	}{
		{"zero seconds replaces a long backoff", "0", RetryPolicy{InitialBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}, 0},
		{"date in the past", past, RetryPolicy{InitialBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}, 0},
		{"an hour capped", "3600", RetryPolicy{MaxRetryAfter: 20 * time.Millisecond}, 20 * time.Millisecond},
		{"one second honoured", "1", RetryPolicy{}, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			limited := scriptedResponse{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": tc.retryAfter}}
			server := newScriptedServer(t, limited, created(t))
			var logs logRecords
			client := newRetryClient(t, server.URL, WithRetry(tc.policy), WithLogger(logs.logger()))

			start := time.Now()
			if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil); err != nil {
				t.Fatal(err)
			}
			retries := logs.withMessage(t, "tokenapi retry")
			if len(retries) != 1 {
				t.Fatalf("%d retry records, want 1", len(retries))
			}
			if got := time.Duration(retries[0]["delay"].(float64)); got != tc.wantDelay {
				t.Errorf("delay = %v, want %v", got, tc.wantDelay)
			}
			// A timer never fires early, so the lower bound cannot fail by chance.
			if elapsed := time.Since(start); elapsed < tc.wantDelay {
				t.Errorf("the call took %v, less than the delay of %v", elapsed, tc.wantDelay)
			}
		})
	}
}

func TestRetryBudgetAndDeadlineStopWaiting(t *testing.T) {
	limited := scriptedResponse{status: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": "60"}}
	cases := []struct {
		name     string
		deadline time.Duration // of the caller's context, 0 for none
		policy   RetryPolicy
		skipped  string
	}{
		{"budget", 0, RetryPolicy{MaxRetryAfter: time.Minute, Budget: time.Second}, "retry budget"},
		{"context deadline", 20 * time.Second, RetryPolicy{MaxRetryAfter: time.Minute, Budget: 2 * time.Minute}, "context deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			server := newScriptedServer(t, limited, created(t))
			var logs logRecords
			client := newRetryClient(t, server.URL, WithRetry(tc.policy), WithLogger(logs.logger()))

			done := make(chan error, 1)
			go func() {
				_, err := client.GeneratePaymentCredentialsJWE(ctx, retryTestTokenID, nil)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("the call waited for the Retry-After of 60 s")
			}

			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Attempts != 1 {
				t.Errorf("error = %v, want the 503 *APIError of the only attempt", err)
			}
			if n := len(server.requests()); n != 1 {
				t.Errorf("server received %d requests, want 1", n)
			}
			skipped := logs.withMessage(t, "tokenapi retry skipped")
			if len(skipped) != 1 || !strings.Contains(skipped[0]["skipped"].(string), tc.skipped) {
				t.Errorf("skip records = %v, want one naming the %s", skipped, tc.skipped)
			}
		})
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	limited := scriptedResponse{status: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": "60"}}
	server := newScriptedServer(t, limited, created(t))
	client := newRetryClient(t, server.URL, WithRetry(RetryPolicy{MaxRetryAfter: time.Minute, Budget: 2 * time.Minute}))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := client.GeneratePaymentCredentialsJWE(ctx, retryTestTokenID, nil)
		done <- err
	}()
	<-server.arrived
	cancel()

	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		if strings.Contains(err.Error(), retryTestTokenID) {
			t.Errorf("the message repeats the whole token id: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("cancelling the context did not interrupt the wait before the retry")
	}
	if n := len(server.requests()); n != 1 {
		t.Errorf("server received %d requests, want 1", n)
	}
}

// refusingDialer dials a closed port for the first refusals dials, which fail with a real
// "connection refused", and the server after that.
type refusingDialer struct {
	closedAddr, serverAddr string
	refusals               int32
	dials                  atomic.Int32
}

func (d *refusingDialer) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	var dialer net.Dialer
	if d.dials.Add(1) <= d.refusals {
		return dialer.DialContext(ctx, network, d.closedAddr)
	}
	return dialer.DialContext(ctx, network, d.serverAddr)
}

// closedAddress returns a loopback address where nothing listens.
func closedAddress(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	_ = listener.Close()
	return addr
}

func TestRetryConnectionRefused(t *testing.T) {
	server := newScriptedServer(t, created(t))
	dialer := &refusingDialer{closedAddr: closedAddress(t), serverAddr: strings.TrimPrefix(server.URL, "http://"), refusals: 2}
	var logs logRecords
	client := newRetryClient(t, server.URL, WithRetry(fastRetry), WithLogger(logs.logger()),
		WithHTTPClient(&http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}))

	if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil); err != nil {
		t.Fatalf("error = %v, want success on the third attempt", err)
	}
	if n := dialer.dials.Load(); n != 3 {
		t.Errorf("%d dials, want 3", n)
	}
	if n := len(server.requests()); n != 1 {
		t.Errorf("server received %d requests, want 1", n)
	}
	retries := logs.withMessage(t, "tokenapi retry")
	if len(retries) != 2 {
		t.Fatalf("%d retry records, want 2", len(retries))
	}
	for _, record := range retries {
		if reason := record["reason"].(string); !strings.Contains(reason, "connection refused") {
			t.Errorf("reason %q does not name the refused connection", reason)
		}
	}
}

func TestRetryConnectionRefusedGivesUp(t *testing.T) {
	addr := closedAddress(t)
	client := newRetryClient(t, "http://"+addr, WithRetry(fastRetry))
	_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
	if !errors.Is(err, ErrTransport) {
		t.Fatalf("error = %v, want ErrTransport", err)
	}
	if !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("message %q does not count the attempts", err)
	}
}

// TestNoRetryAfterRequestWritten breaks the connection after the server has read the
// whole request, with a close (the client reads EOF) and with a reset (the client gets
// a network error like a refused dial's). CyberSource may have minted credentials, so
// the call must not repeat.
func TestNoRetryAfterRequestWritten(t *testing.T) {
	for _, reset := range []bool{false, true} {
		name := "close"
		if reset {
			name = "reset"
		}
		t.Run(name, func(t *testing.T) {
			var requests atomic.Int32
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				_, _ = io.ReadAll(r.Body)
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				if tcp, ok := conn.(*net.TCPConn); ok && reset {
					_ = tcp.SetLinger(0) // close with RST
				}
				_ = conn.Close()
			}))
			defer server.Close()
			var logs logRecords
			client := newRetryClient(t, server.URL, WithRetry(fastRetry), WithLogger(logs.logger()))

			_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
			if !errors.Is(err, ErrTransport) {
				t.Errorf("error = %v, want ErrTransport", err)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("server received %d requests, want 1: a request that arrived was repeated", n)
			}
			if retries := logs.withMessage(t, "tokenapi retry"); len(retries) != 0 {
				t.Errorf("retry records %v for a request that arrived", retries)
			}
		})
	}
}

// TestNoRetryOfResponseCutMidBody cuts a 201 after its headers and part of its body.
func TestNoRetryOfResponseCutMidBody(t *testing.T) {
	var requests atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/jose;charset=utf-8")
		w.Header().Set("Content-Length", "2000")
		w.Header().Set("v-c-correlation-id", "cut-201")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "eyJraWQiOiJh")
		controller := http.NewResponseController(w)
		if err := controller.Flush(); err != nil {
			t.Error(err)
		}
		conn, _, err := controller.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	}))
	defer server.Close()
	client := newRetryClient(t, server.URL, WithRetry(fastRetry))

	_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
	var incomplete *IncompleteResponseError
	if !errors.As(err, &incomplete) {
		t.Fatalf("error = %v (%T), want an *IncompleteResponseError", err, err)
	}
	if !errors.Is(err, ErrTransport) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error = %v, want ErrTransport wrapping io.ErrUnexpectedEOF", err)
	}
	if incomplete.StatusCode != http.StatusCreated || incomplete.CorrelationID != "cut-201" {
		t.Errorf("status %d correlation id %q", incomplete.StatusCode, incomplete.CorrelationID)
	}
	if !strings.Contains(err.Error(), "minted credentials") || strings.Contains(err.Error(), retryTestTokenID) {
		t.Errorf("message %q should warn of lost credentials without the whole token id", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("server received %d requests, want 1", n)
	}
}

// TestNoRetryOfRejectedCertificate makes the TLS handshake fail on the server's
// certificate, which no retry can fix.
func TestNoRetryOfRejectedCertificate(t *testing.T) {
	var handshakes atomic.Int32
	server := httptest.NewUnstartedServer(http.NotFoundHandler())
	server.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		handshakes.Add(1)
		return nil, nil
	}}
	server.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	server.StartTLS()
	defer server.Close()
	// The client does not trust the test server's certificate.
	client := newRetryClient(t, server.URL, WithRetry(fastRetry))

	_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
	var certErr *tls.CertificateVerificationError
	if !errors.Is(err, ErrTransport) || !errors.As(err, &certErr) {
		t.Errorf("error = %v, want ErrTransport with a certificate error", err)
	}
	if n := handshakes.Load(); n != 1 {
		t.Errorf("%d TLS handshakes, want 1", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		value string
		wait  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"99999999999999999999999", maxRetryAfterSeconds * time.Second, true},
		{"18446744073709551615", maxRetryAfterSeconds * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"3s", 0, false},
		{"soon", 0, false},
		{"Fri, 04 Dec 2026 10:00:30 GMT", 30 * time.Second, true},
		{"Friday, 04-Dec-26 10:01:00 GMT", time.Minute, true},
		{"Fri Dec  4 10:00:05 2026", 5 * time.Second, true},
		{"Thu, 03 Dec 2026 10:00:00 GMT", 0, true},
		{"Fri, 01 Dec 7000 00:00:00 GMT", maxRetryAfterSeconds * time.Second, true},
		{"Fri, 04 Dec 2026 25:00:00 GMT", 0, false},
	}
	for _, tc := range cases {
		wait, ok := parseRetryAfter(tc.value, now)
		if wait != tc.wait || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.value, wait, ok, tc.wait, tc.ok)
		}
	}
}

func TestBackoffDoublesWithJitter(t *testing.T) {
	policy := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	for attempt, full := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 500 * time.Millisecond, 9: 500 * time.Millisecond} {
		seen := map[time.Duration]bool{}
		for range 200 {
			wait := policy.backoff(attempt)
			if wait < full/2 || wait > full {
				t.Fatalf("backoff(%d) = %v, want %v to %v", attempt, wait, full/2, full)
			}
			seen[wait] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) drew only %d distinct waits in 200 draws; the jitter is missing", attempt, len(seen))
		}
	}
}

func TestWithRetryChecksPolicy(t *testing.T) {
	resolved, err := RetryPolicy{}.resolve()
	if err != nil || resolved != DefaultRetryPolicy() {
		t.Errorf("the zero policy resolves to %+v, %v; want the defaults", resolved, err)
	}
	partial, err := RetryPolicy{MaxAttempts: 5, Budget: time.Minute}.resolve()
	if err != nil || partial.MaxAttempts != 5 || partial.Budget != time.Minute || partial.InitialBackoff != DefaultRetryPolicy().InitialBackoff {
		t.Errorf("a partial policy resolves to %+v, %v", partial, err)
	}

	invalid := map[string]RetryPolicy{
		"negative attempts":          {MaxAttempts: -1},
		"too many attempts":          {MaxAttempts: maxRetryAttempts + 1},
		"negative backoff":           {InitialBackoff: -time.Second},
		"negative budget":            {Budget: -time.Second},
		"negative Retry-After cap":   {MaxRetryAfter: -time.Second},
		"max below initial":          {InitialBackoff: time.Second, MaxBackoff: time.Millisecond},
		"default max below initial":  {InitialBackoff: time.Minute},
		"negative maximum backoff":   {MaxBackoff: -time.Second},
		"both backoffs out of order": {InitialBackoff: 2 * time.Second, MaxBackoff: time.Second},
	}
	for name, policy := range invalid {
		_, err := New(WithEnvironment(Sandbox), WithHTTPSignature("m", "k", retryTestSecret), WithRetry(policy))
		if !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: error = %v, want ErrInvalidOption", name, err)
		}
	}
}

func TestIsConnectFailure(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	cases := map[string]struct {
		err  error
		want bool
	}{
		"refused dial":         {refused, true},
		"wrapped refused dial": {fmt.Errorf("sending: %w", refused), true},
		"proxy CONNECT failed": {&net.OpError{Op: "proxyconnect", Net: "tcp", Err: errors.New("EOF")}, true},
		"rejected certificate": {&tls.CertificateVerificationError{Err: errors.New("unknown authority")}, false},
		"not TLS":              {tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, false},
		"unknown host":         {&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, false},
		"temporary DNS":        {&net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", Name: "x.example", IsTemporary: true}}, true},
		"signing failed":       {errors.New("tokenapi: reading the request body to sign it: boom"), false},
	}
	for name, tc := range cases {
		if got := isConnectFailure(tc.err); got != tc.want {
			t.Errorf("%s: isConnectFailure = %v, want %v", name, got, tc.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"0", "120", "Fri, 04 Dec 2026 10:00:30 GMT", "Friday, 04-Dec-26 10:01:00 GMT", "-5", "1e9", "99999999999999999999999"} {
		f.Add(seed)
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string) {
		wait, ok := parseRetryAfter(value, now)
		if wait < 0 || wait > maxRetryAfterSeconds*time.Second {
			t.Errorf("parseRetryAfter(%q) = %v, outside 0 to %d s", value, wait, maxRetryAfterSeconds)
		}
		if !ok && wait != 0 {
			t.Errorf("parseRetryAfter(%q) = %v with ok false", value, wait)
		}
	})
}
