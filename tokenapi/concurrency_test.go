package tokenapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// flakyFront responds to the first attempt of each call whose correlation id starts with
// "flaky-" with 503, and passes every other request to next.
func flakyFront(next http.Handler) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("v-c-correlation-id")
		if strings.HasPrefix(id, "flaky-") {
			mu.Lock()
			first := !seen[id]
			seen[id] = true
			mu.Unlock()
			if first {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// concurrentCall is one kind of call the concurrency test mixes, with its check.
type concurrentCall struct {
	name string
	run  func(ctx context.Context, client *tokenapi.Client, id string) error
}

func concurrentCalls() []concurrentCall {
	wantAPIError := func(err error, status int) error {
		var apiErr *tokenapi.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
			return unexpected(err, fmt.Sprintf("a %d *APIError", status))
		}
		return nil
	}
	return []concurrentCall{
		{"v2 decrypted", func(ctx context.Context, c *tokenapi.Client, _ string) error {
			creds, err := c.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil)
			if err != nil || creds.TokenizedCard.Cryptogram == "" {
				return unexpected(err, "credentials with a cryptogram")
			}
			return nil
		}},
		{"v3 JWE", func(ctx context.Context, c *tokenapi.Client, _ string) error {
			encrypted, err := c.GeneratePaymentCredentialsV3JWE(ctx, sandbox.DemoMastercardTokenID, nil)
			if err != nil || strings.Count(encrypted.JWE, ".") != 4 {
				return unexpected(err, "a JWE")
			}
			return nil
		}},
		{"retried after 503", func(ctx context.Context, c *tokenapi.Client, id string) error {
			_, err := c.GeneratePaymentCredentialsV3(ctx, sandbox.DemoAmericanExpressTokenID, nil, tokenapi.WithCorrelationID("flaky-"+id))
			return err
		}},
		{"404", func(ctx context.Context, c *tokenapi.Client, _ string) error {
			_, err := c.GeneratePaymentCredentials(ctx, "7030000000000099999", nil)
			return wantAPIError(err, http.StatusNotFound)
		}},
		{"410", func(ctx context.Context, c *tokenapi.Client, _ string) error {
			_, err := c.GeneratePaymentCredentialsJWE(ctx, sandbox.DemoDeletedTokenID, nil)
			return wantAPIError(err, http.StatusGone)
		}},
		{"400", func(ctx context.Context, c *tokenapi.Client, _ string) error {
			_, err := c.GeneratePaymentCredentials(ctx, sandbox.DemoAmericanExpressTokenID, &tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram})
			return wantAPIError(err, http.StatusBadRequest)
		}},
		{"invalid input", func(ctx context.Context, c *tokenapi.Client, _ string) error {
			_, err := c.GeneratePaymentCredentials(ctx, "../x", nil)
			if !errors.Is(err, tokenapi.ErrInvalidRequest) {
				return unexpected(err, "ErrInvalidRequest")
			}
			return nil
		}},
		{"cancelled", func(ctx context.Context, c *tokenapi.Client, _ string) error {
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			_, err := c.GeneratePaymentCredentials(cancelled, sandbox.DemoVisaTokenID, nil)
			if !errors.Is(err, context.Canceled) {
				return unexpected(err, "context.Canceled")
			}
			return nil
		}},
		{"decrypt failure", func(_ context.Context, c *tokenapi.Client, _ string) error {
			_, err := c.Decrypt("a.b.c.d.e")
			if !errors.Is(err, tokenapi.ErrMalformedJWE) {
				return unexpected(err, "ErrMalformedJWE")
			}
			return nil
		}},
	}
}

// TestConcurrentMixedCalls runs 64 goroutines of mixed successful and failing calls
// through one Client, for the race detector to check.
func TestConcurrentMixedCalls(t *testing.T) {
	merchant, key, err := sandbox.GenerateMerchant("concurrency_test")
	if err != nil {
		t.Fatal(err)
	}
	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(flakyFront(server))
	defer httpServer.Close()
	baseline := runtime.NumGoroutine()

	var logs lockedBuffer
	client, err := tokenapi.New(
		tokenapi.WithBaseURL(httpServer.URL),
		tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, merchant.SecretKey),
		tokenapi.WithMLEKey(key),
		tokenapi.WithRetry(tokenapi.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		tokenapi.WithLogger(logs.logger()),
	)
	if err != nil {
		t.Fatal(err)
	}

	const goroutines, callsEach = 64, 3
	calls := concurrentCalls()
	var wg sync.WaitGroup
	failures := make(chan string, goroutines*callsEach)
	for g := range goroutines {
		wg.Go(func() {
			for i := range callsEach {
				call := calls[(g*callsEach+i)%len(calls)]
				if err := call.run(context.Background(), client, fmt.Sprintf("%d-%d", g, i)); err != nil {
					failures <- fmt.Sprintf("goroutine %d, %s: %v", g, call.name, err)
				}
			}
		})
	}
	wg.Wait()
	close(failures)
	for failure := range failures {
		t.Error(failure)
	}
	if n := strings.Count(logs.String(), `"msg":"tokenapi retry"`); n == 0 {
		t.Error("no call was retried; the 503 path did not run concurrently")
	}

	client.CloseIdleConnections()
	waitForGoroutines(t, baseline)
}

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// unexpected describes an error, possibly nil, that differs from the one expected.
func unexpected(err error, want string) error {
	return errors.New("error = " + fmt.Sprint(err) + ", want " + want)
}
