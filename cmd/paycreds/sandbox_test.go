package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// runningSandbox is `paycreds sandbox` running in-process.
type runningSandbox struct {
	ready  sandboxReady
	stop   context.CancelFunc
	done   chan int // receives the exit code
	stderr *lockedBuffer
}

// lockedBuffer is a bytes.Buffer safe for the logger's writes and the test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
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

// startSandboxCommand runs `paycreds sandbox args...` and returns once the first output
// line is read. The command is stopped when the test ends, if the test did not stop it.
func startSandboxCommand(t *testing.T, args ...string) *runningSandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdoutReader, stdoutWriter := io.Pipe()
	rs := &runningSandbox{stop: cancel, done: make(chan int, 1), stderr: &lockedBuffer{}}
	a := &app{stdin: strings.NewReader(""), stdout: stdoutWriter, stderr: rs.stderr, getenv: func(string) string { return "" }}
	go func() {
		code := run(ctx, a, append([]string{"sandbox"}, args...))
		_ = stdoutWriter.Close() // Unblocks the reader of the first line if run failed early.
		rs.done <- code
	}()
	t.Cleanup(func() {
		cancel()
		<-rs.done
	})

	line, err := bufio.NewReader(stdoutReader).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first output line: %v\nstderr:\n%s", err, rs.stderr)
	}
	decoder := json.NewDecoder(strings.NewReader(line))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&rs.ready); err != nil {
		t.Fatalf("first output line %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdoutReader) //nolint:errcheck // Nothing else is expected, and the pipe closes at exit.
	return rs
}

// wait stops the command and returns its exit code.
func (rs *runningSandbox) wait(t *testing.T) int {
	t.Helper()
	rs.stop()
	select {
	case code := <-rs.done:
		rs.done <- code // for the cleanup
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("paycreds sandbox did not exit within 30s of the cancellation")
		return -1
	}
}

func (rs *runningSandbox) client(t *testing.T, opts ...tokenapi.Option) *tokenapi.Client {
	t.Helper()
	var mleKey []tokenapi.Option
	if rs.ready.MLEKeyFile != "" {
		key, err := tokenapi.LoadMLEKeyFile(rs.ready.MLEKeyFile, nil)
		if err != nil {
			t.Fatal(err)
		}
		mleKey = append(mleKey, tokenapi.WithMLEKey(key))
	}
	base := []tokenapi.Option{
		tokenapi.WithBaseURL(rs.ready.BaseURL),
		tokenapi.WithHTTPSignature(rs.ready.MerchantID, rs.ready.KeyID, rs.ready.SecretKey),
	}
	client, err := tokenapi.New(append(append(base, mleKey...), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestSandboxCommandServes(t *testing.T) {
	rs := startSandboxCommand(t)
	ready := rs.ready

	if !strings.HasPrefix(ready.BaseURL, "http://127.0.0.1:") || strings.HasSuffix(ready.BaseURL, ":0") {
		t.Errorf("baseURL = %q, want http://127.0.0.1 with the port chosen", ready.BaseURL)
	}
	if ready.MerchantID != defaultSandboxMerchantID || ready.KeyID == "" || ready.SecretKey == "" || ready.CertFile != "" {
		t.Errorf("first line %+v, want the generated merchant and no certificate", ready)
	}
	if ready.Tokens[sandbox.DemoVisaTokenID] != "ACTIVE" || ready.Tokens[sandbox.DemoDeletedTokenID] != "DELETED" || len(ready.Tokens) != 5 {
		t.Errorf("tokens = %v, want the five demo tokens with their states", ready.Tokens)
	}
	if ready.FaultHeader != sandbox.FaultHeader || len(ready.Merchants) != 1 || ready.Merchants[0].MLEKeyFile != ready.MLEKeyFile {
		t.Errorf("first line %+v, want the fault header and one merchant", ready)
	}
	info, err := os.Stat(ready.MLEKeyFile)
	if err != nil {
		t.Fatalf("mleKeyFile: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mleKeyFile mode %v, want 0600", info.Mode().Perm())
	}

	client := rs.client(t)
	ctx := context.Background()
	creds, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil)
	if err != nil {
		t.Fatalf("v2 call: %v", err)
	}
	if creds.KeyID != ready.MLEKeyID {
		t.Errorf("JWE kid = %q, want mleKeyID %q", creds.KeyID, ready.MLEKeyID)
	}
	_, err = client.GeneratePaymentCredentialsV3(ctx, sandbox.DemoDeletedTokenID, nil)
	var apiErr *tokenapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusGone {
		t.Errorf("deleted token: error = %v, want 410", err)
	}
	faulty := rs.client(t, tokenapi.WithHTTPClient(&http.Client{Transport: headerTransport{http.DefaultTransport, sandbox.FaultHeader, "status=502"}}))
	_, err = faulty.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || apiErr.Type != "internalError" {
		t.Errorf("fault header: error = %v, want 502 internalError", err)
	}

	if code := rs.wait(t); code != exitOK {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, rs.stderr)
	}
	if _, err := os.Stat(ready.StateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary state directory %s is still there after exit: %v", ready.StateDir, err)
	}

	logs := rs.stderr.String()
	for _, want := range []string{
		`msg="sandbox listening"`,
		"path=/tms/v2/tokens/****1111/payment-credentials status=201",
		"path=/tms/v3/tokens/****9999/payment-credentials status=410",
		`fault="status=502"`, `msg="sandbox request with an injected fault"`,
		"correlation_id=" + creds.CorrelationID,
		`msg="sandbox stopped"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{ready.SecretKey, sandbox.DemoVisaTokenID, creds.TokenizedCard.Number.Reveal(), creds.TokenizedCard.Cryptogram.Reveal()} {
		if strings.Contains(logs, secret) {
			t.Errorf("stderr contains %q", secret)
		}
	}
}

func TestSandboxCommandTLS(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "state")
	rs := startSandboxCommand(t, "--tls", "--state-dir", stateDir)
	ready := rs.ready
	if !strings.HasPrefix(ready.BaseURL, "https://127.0.0.1:") {
		t.Errorf("baseURL = %q, want https://127.0.0.1", ready.BaseURL)
	}
	if filepath.Dir(ready.CertFile) != stateDir {
		t.Errorf("certFile %q is not in the state directory %s", ready.CertFile, stateDir)
	}

	data, err := os.ReadFile(ready.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("certFile holds no PEM block:\n%s", data)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("certificate does not cover %s: %v", host, err)
		}
	}

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	trusting := &http.Client{Transport: transport}
	if _, err := rs.client(t, tokenapi.WithHTTPClient(trusting)).GeneratePaymentCredentialsV3(context.Background(), sandbox.DemoNoNetworkTokenID, nil); err != nil {
		t.Errorf("call trusting certFile: %v", err)
	}

	// Over HTTP/2, close-mid-body resets the stream after half the body.
	probe, err := trusting.Get(ready.BaseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	probe.Body.Close()
	if probe.Proto != "HTTP/2.0" {
		t.Errorf("protocol = %s, want HTTP/2.0", probe.Proto)
	}
	cutting := &http.Client{Transport: headerTransport{transport, sandbox.FaultHeader, "close-mid-body"}}
	_, err = rs.client(t, tokenapi.WithHTTPClient(cutting)).GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil)
	if !errors.Is(err, tokenapi.ErrTransport) {
		t.Errorf("close-mid-body over HTTP/2: error = %v, want ErrTransport", err)
	}
	_, err = rs.client(t).GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil)
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) {
		t.Errorf("call without trusting certFile: error = %v, want an unknown authority", err)
	}

	if code := rs.wait(t); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	for _, file := range []string{ready.CertFile, ready.MLEKeyFile} {
		if _, err := os.Stat(file); err != nil {
			t.Errorf("%s is gone after exit, but --state-dir keeps it: %v", file, err)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSandboxCommandConfig(t *testing.T) {
	dir := t.TempDir()
	mleKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&mleKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "mle-public.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	const secret = "s5YCAlXANW1p+Z0fIK+ZYd0KDkHsbWT1nhIOlMD51kI="

	yamlConfig := writeFile(t, dir, "sandbox.yaml", `
merchants:
  - id: acme_shop
    keyId: 2f0c5a8e-7d4b-4c1e-9a3f-6b8d0e2c4a17
    secretKey: `+secret+`
    mlePublicKeyFile: mle-public.pem
  - id: second_shop
tokens:
  - id: "7030000000000000101"
    network: visa
  - id: "7030000000000000102"
    network: mastercard
    state: LINKED
  - id: "7030000000000000103"
    network: americanexpress
    fault: status=503,times=1
  - id: "7030000000000000104"
    network: visa
    state: DELETED
  - id: F0E1D2C3B4A5968778695A4B3C2D1E01
    network: visa
    noNetworkToken: true
`)
	rs := startSandboxCommand(t, "--config", yamlConfig)
	ready := rs.ready
	if ready.MerchantID != "acme_shop" || ready.KeyID != "2f0c5a8e-7d4b-4c1e-9a3f-6b8d0e2c4a17" || ready.SecretKey != secret {
		t.Errorf("first merchant %s %s %s, want the configured one", ready.MerchantID, ready.KeyID, ready.SecretKey)
	}
	if ready.MLEKeyFile != "" {
		t.Errorf("mleKeyFile = %q, want none for a configured public key", ready.MLEKeyFile)
	}
	if len(ready.Merchants) != 2 || ready.Merchants[1].MerchantID != "second_shop" || ready.Merchants[1].MLEKeyFile == "" {
		t.Errorf("merchants = %+v, want the second one generated with a key file", ready.Merchants)
	}
	wantTokens := map[string]string{
		"7030000000000000101": "ACTIVE", "7030000000000000102": "LINKED", "7030000000000000103": "ACTIVE",
		"7030000000000000104": "DELETED", "F0E1D2C3B4A5968778695A4B3C2D1E01": "ACTIVE",
	}
	if len(ready.Tokens) != len(wantTokens) {
		t.Errorf("tokens = %v, want %v", ready.Tokens, wantTokens)
	}
	for id, state := range wantTokens {
		if ready.Tokens[id] != state {
			t.Errorf("tokens[%s] = %q, want %q", id, ready.Tokens[id], state)
		}
	}

	client := rs.client(t, tokenapi.WithMLEKey(mleKey))
	ctx := context.Background()
	if _, err := client.GeneratePaymentCredentials(ctx, "7030000000000000101", nil); err != nil {
		t.Errorf("configured Visa token: %v", err)
	}
	var apiErr *tokenapi.APIError
	if _, err := client.GeneratePaymentCredentialsV3(ctx, "7030000000000000102", nil); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict {
		t.Errorf("linked token on v3: error = %v, want 409", err)
	}
	if _, err := client.GeneratePaymentCredentials(ctx, "7030000000000000103", nil); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("first call of the faulty token: error = %v, want 503", err)
	}
	if _, err := client.GeneratePaymentCredentials(ctx, "7030000000000000103", nil); err != nil {
		t.Errorf("second call of the faulty token: %v", err)
	}
	creds, err := client.GeneratePaymentCredentialsV3(ctx, "F0E1D2C3B4A5968778695A4B3C2D1E01", nil)
	if err != nil || creds.Card.Number.Last4() != "1111" {
		t.Errorf("token without a network token: %v, card %v", err, creds)
	}
	if _, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("demo token with a config that lists tokens: error = %v, want 404", err)
	}

	t.Run("JSON", func(t *testing.T) {
		jsonConfig := writeFile(t, dir, "sandbox.json", `{"merchants":[{"id":"json_shop","profileIds":["93B32398-AD51-4CC2-A682-EA3E93614EB1"]}],
			"tokens":[{"id":"7030000000000000201","network":"mastercard","state":"SUSPENDED"}]}`)
		rs := startSandboxCommand(t, "--config", jsonConfig)
		if rs.ready.MerchantID != "json_shop" || rs.ready.Tokens["7030000000000000201"] != "SUSPENDED" {
			t.Errorf("first line %+v, want json_shop and the suspended token", rs.ready)
		}
		if got := rs.ready.Merchants[0].ProfileIDs; len(got) != 1 {
			t.Errorf("profileIds = %v, want the configured one", got)
		}
		_, err := rs.client(t).GeneratePaymentCredentials(ctx, "7030000000000000201", nil)
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || apiErr.Type != "declined" {
			t.Errorf("suspended token: error = %v, want 403 declined", err)
		}
	})
}

func TestSandboxCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"all interfaces", []string{"--addr", "0.0.0.0:0"}, "--listen-any"},
		{"empty host", []string{"--addr", ":8080"}, "--listen-any"},
		{"other host", []string{"--addr", "192.0.2.10:8080"}, "use a loopback address"},
		{"no port", []string{"--addr", "127.0.0.1"}, "is not HOST:PORT"},
		{"bad port", []string{"--addr", "127.0.0.1:http"}, `port "http" is not a number`},
		{"no connections", []string{"--max-connections", "0"}, "--max-connections 0 is below 1"},
		{"argument", []string{"extra"}, `unexpected argument "extra"`},
		{"config extension", []string{"--config", writeFile(t, dir, "sandbox.toml", "")}, "must end in .json, .yaml or .yml"},
		{"config missing", []string{"--config", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{"unknown YAML field", []string{"--config", writeFile(t, dir, "typo.yaml", "tokens:\n  - id: \"1\"\n    netwrk: visa\n")}, "field netwrk not found"},
		{"unknown JSON field", []string{"--config", writeFile(t, dir, "typo.json", `{"merchant":[]}`)}, `unknown field "merchant"`},
		{"merchant without id", []string{"--config", writeFile(t, dir, "noid.yaml", "merchants:\n  - keyId: k\n")}, "merchants[0]: id is missing"},
		{"public key file missing", []string{"--config", writeFile(t, dir, "nokey.yaml", "merchants:\n  - id: m\n    mlePublicKeyFile: absent.pem\n")}, "mlePublicKeyFile"},
		{"token state", []string{"--config", writeFile(t, dir, "state.yaml", "tokens:\n  - {id: \"1\", network: visa, state: active}\n")}, `state "active" is not ACTIVE`},
		{"token network", []string{"--config", writeFile(t, dir, "network.yaml", "tokens:\n  - {id: \"1\", network: discover}\n")}, `network "discover"`},
		{"token fault", []string{"--config", writeFile(t, dir, "fault.yaml", "tokens:\n  - {id: \"1\", network: visa, fault: slow}\n")}, `tokens[0] (id "1"): invalid fault "slow"`},
		{"secret not base64", []string{"--config", writeFile(t, dir, "secret.yaml", "merchants:\n  - {id: m, secretKey: \"not base64!\"}\n")}, "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCommand(t, nil, "", append([]string{"sandbox"}, tt.args...)...)
			if res.code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing before the server listens", res.stdout)
			}
		})
	}
}

func TestCheckListenAddrListenAny(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":0", "[::]:0", "192.0.2.10:443"} {
		if err := checkListenAddr(addr, true); err != nil {
			t.Errorf("checkListenAddr(%q, listenAny) = %v, want nil", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:8080", "localhost:0", "127.1.2.3:80"} {
		if err := checkListenAddr(addr, false); err != nil {
			t.Errorf("checkListenAddr(%q) = %v, want nil for a loopback address", addr, err)
		}
	}
}

// With --max-connections 1, a second client waits while a first connection is open and
// is served once it closes.
func TestSandboxCommandConnectionCap(t *testing.T) {
	rs := startSandboxCommand(t, "--max-connections", "1")
	host := strings.TrimPrefix(rs.ready.BaseURL, "http://")

	first, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })

	client := rs.client(t)
	served := make(chan error, 1)
	go func() {
		_, err := client.GeneratePaymentCredentials(context.Background(), sandbox.DemoVisaTokenID, nil)
		served <- err
	}()

	// A server without the cap would serve the second client at once; give it the chance.
	select {
	case err := <-served:
		t.Fatalf("the second client was served while the first connection was open (error %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Errorf("the second client after the first closed: %v", err)
	}
}

func TestGetSandboxFault(t *testing.T) {
	// 502 is a fault that keeps to the spec, which the sandbox of startSandbox checks.
	fx := startSandbox(t)
	res := runCommand(t, fx.env, "", "get", "--sandbox-fault", "status=502", sandbox.DemoVisaTokenID)
	if res.code != exitError || !strings.Contains(res.stderr, "502 Bad Gateway") {
		t.Errorf("status=502: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "the server at 127.0.0.1:") {
		t.Errorf("the error does not name the local server:\n%s", res.stderr)
	}

	res = runCommand(t, fx.env, "", "get", "--sandbox-fault", "status=502", "--retries", "1", sandbox.DemoVisaTokenID)
	if res.code != exitError {
		t.Errorf("a header fault applies to every attempt, so the retry fails too: exit %d", res.code)
	}

	res = runCommand(t, fx.env, "", "get", "--sandbox-fault", "teapot", sandbox.DemoVisaTokenID)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--sandbox-fault") {
		t.Errorf("invalid fault: exit %d, stderr:\n%s", res.code, res.stderr)
	}

	remote := map[string]string{}
	for k, v := range fx.env {
		remote[k] = v
	}
	delete(remote, envBaseURL)
	res = runCommand(t, remote, "", "get", "--sandbox-fault", "status=502", sandbox.DemoVisaTokenID)
	if res.code != exitUsage || !strings.Contains(res.stderr, "loopback --base-url") {
		t.Errorf("fault without a loopback base URL: exit %d, stderr:\n%s", res.code, res.stderr)
	}
}
