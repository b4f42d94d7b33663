package tokenapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paycreds/tms/tokenapi"
)

// hangBound is how long a test waits for something that should happen at once. It only
// catches hangs: nothing in these tests is expected to come near it.
const hangBound = 10 * time.Second

// waitForGoroutines polls until at most want goroutines run, for up to hangBound, and
// fails the test with their stacks otherwise.
func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			stacks := make([]byte, 1<<20)
			stacks = stacks[:runtime.Stack(stacks, true)]
			t.Errorf("%d goroutines still run, want at most %d:\n%s", n, want, stacks)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hangingServer sends no response until the client goes away. When body is set it first
// sends a 201 whose Content-Length promises more than body. closed receives a value
// when the server notices that the client closed the connection.
type hangingServer struct {
	url     string
	entered chan struct{}
	closed  chan struct{}
}

func startHangingServer(t *testing.T, body string) *hangingServer {
	t.Helper()
	s := &hangingServer{entered: make(chan struct{}, 1), closed: make(chan struct{}, 1)}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if body != "" {
			w.Header().Set("Content-Type", "application/jose;charset=utf-8")
			w.Header().Set("Content-Length", "4000")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, body)
			_ = http.NewResponseController(w).Flush()
		}
		s.entered <- struct{}{}
		<-r.Context().Done()
		s.closed <- struct{}{}
	}))
	t.Cleanup(server.Close)
	s.url = server.URL
	return s
}

// awaitClosed fails the test unless the server saw the client close its connection.
func (s *hangingServer) awaitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(hangBound):
		t.Error("the client left its connection open after the call returned")
	}
}

// callInBackground runs call and returns a channel that receives its error.
func callInBackground(call func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- call() }()
	return done
}

func awaitError(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(hangBound):
		t.Fatal("the call did not return")
		return nil
	}
}

func TestCancelReleasesConnection(t *testing.T) {
	for name, body := range map[string]string{"before the response": "", "mid-body": "eyJraWQiOiJh"} {
		t.Run(name, func(t *testing.T) {
			server := startHangingServer(t, body)
			baseline := runtime.NumGoroutine()
			client := stubClient(t, server.url)

			ctx, cancel := context.WithCancel(context.Background())
			done := callInBackground(func() error {
				_, err := client.GeneratePaymentCredentials(ctx, "7030000000000011111", nil)
				return err
			})
			<-server.entered
			cancel()

			err := awaitError(t, done)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
			if errors.Is(err, tokenapi.ErrTransport) {
				t.Errorf("error = %v: a cancelled call is not a transport failure", err)
			}
			if strings.Contains(err.Error(), "7030000000000011111") {
				t.Errorf("the message repeats the whole token id: %v", err)
			}
			server.awaitClosed(t)
			client.CloseIdleConnections()
			waitForGoroutines(t, baseline)
		})
	}
}

func TestTimeoutReleasesConnection(t *testing.T) {
	cases := []struct {
		name, body, message string
	}{
		{"before the response", "", "no response arrived within the timeout of 50ms"},
		{"mid-body", "eyJraWQiOiJh", "the 201 response body did not arrive whole within the timeout of 50ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := startHangingServer(t, tc.body)
			baseline := runtime.NumGoroutine()
			client := stubClient(t, server.url, tokenapi.WithTimeout(50*time.Millisecond))

			err := awaitError(t, callInBackground(func() error {
				_, err := client.GeneratePaymentCredentials(context.Background(), "7030000000000011111", nil)
				return err
			}))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want context.DeadlineExceeded", err)
			}
			if !strings.Contains(err.Error(), tc.message) || !strings.Contains(err.Error(), "WithTimeout") {
				t.Errorf("message %q does not say %q and name WithTimeout", err, tc.message)
			}
			server.awaitClosed(t)
			client.CloseIdleConnections()
			waitForGoroutines(t, baseline)
		})
	}
}

// TestCallerDeadlineIsReported checks that a deadline of the caller's context, shorter
// than the client's timeout, is reported as the caller's and not as the client's.
func TestCallerDeadlineIsReported(t *testing.T) {
	server := startHangingServer(t, "")
	client := stubClient(t, server.url, tokenapi.WithRetry(tokenapi.RetryPolicy{}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	err := awaitError(t, callInBackground(func() error {
		_, err := client.GeneratePaymentCredentialsJWE(ctx, "7030000000000011111", nil)
		return err
	}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if strings.Contains(err.Error(), "WithTimeout") {
		t.Errorf("message %q blames the client's timeout for the caller's deadline", err)
	}
	server.awaitClosed(t)
}

// TestTimeoutBeforeCallerDeadline checks that the client's timeout still ends an attempt
// when the caller's context has a later deadline, and is named in the error.
func TestTimeoutBeforeCallerDeadline(t *testing.T) {
	server := startHangingServer(t, "")
	client := stubClient(t, server.url, tokenapi.WithTimeout(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	err := awaitError(t, callInBackground(func() error {
		_, err := client.GeneratePaymentCredentialsJWE(ctx, "7030000000000011111", nil)
		return err
	}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "within the timeout of 50ms (set with WithTimeout)") {
		t.Errorf("message %q does not name the client's timeout", err)
	}
	server.awaitClosed(t)
}

func TestCancelledContextSendsNothing(t *testing.T) {
	server := startHangingServer(t, "")
	client := stubClient(t, server.url, tokenapi.WithRetry(tokenapi.RetryPolicy{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := client.GeneratePaymentCredentials(ctx, "7030000000000011111", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	select {
	case <-server.entered:
		t.Error("a call with a cancelled context reached the server")
	default:
	}
}
