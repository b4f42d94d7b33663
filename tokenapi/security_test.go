package tokenapi

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestDefaultTransportSettings(t *testing.T) {
	client, err := New(WithEnvironment(Sandbox), WithHTTPSignature("m", "k", retryTestSecret))
	if err != nil {
		t.Fatal(err)
	}
	transport, ok := client.httpClient.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("the transport is a %T, want a clone of http.DefaultTransport", client.httpClient.Transport)
	}
	if transport == http.DefaultTransport {
		t.Error("the client changes http.DefaultTransport instead of a clone")
	}
	if transport.TLSClientConfig == nil || transport.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS settings %+v, want MinVersion TLS 1.2", transport.TLSClientConfig)
	}
	if transport.Proxy == nil {
		t.Error("the transport ignores proxies from the environment")
	}
	if client.httpClient.CheckRedirect == nil {
		t.Error("the client follows redirects")
	}
}

// TestRejectsTLSBelow12 connects to a loopback server that offers only TLS 1.0 and 1.1.
// The handshake fails on the version, before any certificate check.
func TestRejectsTLSBelow12(t *testing.T) {
	var handshakes atomic.Int32
	server := httptest.NewUnstartedServer(http.NotFoundHandler())
	server.TLS = &tls.Config{
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS11,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			handshakes.Add(1)
			return nil, nil
		},
	}
	server.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	server.StartTLS()
	defer server.Close()

	client := newRetryClient(t, server.URL)
	_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
	if !errors.Is(err, ErrTransport) || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("error = %v, want ErrTransport naming the protocol version", err)
	}
	if handshakes.Load() != 1 {
		t.Errorf("%d handshakes, want 1", handshakes.Load())
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var followed atomic.Int32
		target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
		redirecting := newScriptedServer(t, scriptedResponse{status: status, header: map[string]string{"Location": target.URL + "/tms/v2/tokens/x/payment-credentials"}})
		client := newRetryClient(t, redirecting.URL, WithRetry(fastRetry))

		_, err := client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status || apiErr.Attempts != 1 {
			t.Errorf("%d: error = %v, want an *APIError with the status after 1 attempt", status, err)
		}
		if followed.Load() != 0 {
			t.Errorf("%d: the client followed the redirect", status)
		}
		target.Close()
	}
}

// proxyChildEnv marks the process that TestProxyFromEnvironment starts.
const proxyChildEnv = "TOKENAPI_TEST_PROXY_CHILD"

// TestProxyFromEnvironment runs a loopback proxy and, because net/http reads the proxy
// variables once per process, starts this test binary again with HTTPS_PROXY pointing
// at it. The proxy rejects the CONNECT, so nothing goes further than the proxy.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv(proxyChildEnv) != "" {
		t.Skip("runs in the parent process only")
	}
	var mu sync.Mutex
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connects = append(connects, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "this proxy forwards nothing", http.StatusForbidden)
	}))
	defer proxy.Close()

	child := exec.Command(os.Args[0], "-test.run=^TestProxyChild$", "-test.count=1", "-test.v")
	child.Env = append(os.Environ(),
		proxyChildEnv+"=1",
		"HTTPS_PROXY="+proxy.URL, "https_proxy="+proxy.URL,
		"NO_PROXY=", "no_proxy=",
	)
	out, err := child.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestProxyChild") {
		t.Fatalf("the child process failed: %v\n%s", err, out)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(connects) != 1 || connects[0] != "CONNECT "+Sandbox.Host()+":443" {
		t.Errorf("the proxy received %q, want one CONNECT to %s:443", connects, Sandbox.Host())
	}
}

// TestProxyChild is the child process of TestProxyFromEnvironment. Before sending, it
// checks that the transport resolves the sandbox host to the loopback proxy, so a
// failure to honour HTTPS_PROXY cannot send anything to CyberSource.
func TestProxyChild(t *testing.T) {
	proxyURL := os.Getenv("HTTPS_PROXY")
	if os.Getenv(proxyChildEnv) == "" || proxyURL == "" {
		t.Skip("runs as the child process of TestProxyFromEnvironment only")
	}
	client, err := New(WithEnvironment(Sandbox), WithHTTPSignature("m", "k", retryTestSecret))
	if err != nil {
		t.Fatal(err)
	}
	transport := client.httpClient.Transport.(*http.Transport)
	probe, err := http.NewRequest(http.MethodPost, Sandbox.BaseURL()+"/tms/v2/tokens/x/payment-credentials", nil)
	if err != nil {
		t.Fatal(err)
	}
	via, err := transport.Proxy(probe)
	if err != nil || via == nil || via.String() != proxyURL {
		t.Fatalf("the transport sends %s through proxy %v (%v), want %s; not sending", Sandbox.Host(), via, err, proxyURL)
	}

	_, err = client.GeneratePaymentCredentialsJWE(context.Background(), retryTestTokenID, nil)
	if !errors.Is(err, ErrTransport) || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("error = %v, want ErrTransport carrying the proxy's 403", err)
	}
}
