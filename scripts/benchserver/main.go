//go:build linux || darwin || freebsd

// Command benchserver serves a loopback endpoint for load tests in a process of its own,
// so that the CPU time of the client under test and of the server are measured apart.
//
//	go run ./scripts/benchserver --mode fixed --env-file /tmp/bench.env
//	go run ./scripts/benchserver --mode sandbox --env-file /tmp/bench.env
//
// --mode fixed responds 201 to every POST with the JWE in
// tokenapi/testdata/v2-visa-cryptogram.jwe, the one the Go call benchmarks use, and checks
// nothing. --mode sandbox serves the sandbox with a fresh merchant, as `paycreds bench`
// embeds it, and --mode sandbox-plain serves it with its defaults. The env file sets CYBERSOURCE_BASE_URL and credentials for `paycreds bench
// --base-url`. On SIGINT or SIGTERM, or after --max-duration, it prints the requests it
// served and its own CPU time per request, then exits.
package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
)

func main() {
	mode := flag.String("mode", "fixed", "fixed: respond with one pre-made JWE; sandbox: serve the sandbox as paycreds bench embeds it; sandbox-plain: the sandbox with a fresh content key per response and full validation of every request")
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	envFile := flag.String("env-file", "", "write CYBERSOURCE_* variables for paycreds bench to this file")
	maxDuration := flag.Duration("max-duration", 30*time.Minute, "exit after this time even without a signal")
	flag.Parse()

	if err := run(*mode, *addr, *envFile, *maxDuration); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
}

func run(mode, addr, envFile string, maxDuration time.Duration) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q is not a loopback IP address", addr)
	}

	handler, env, err := newHandler(mode)
	if err != nil {
		return err
	}
	var served atomic.Int64
	counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		handler.ServeHTTP(w, r)
	})

	var config net.ListenConfig
	listener, err := config.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return err
	}
	baseURL := "http://" + listener.Addr().String()
	env["CYBERSOURCE_BASE_URL"] = baseURL
	if envFile != "" {
		if err := writeEnvFile(envFile, env); err != nil {
			return err
		}
	}
	fmt.Printf("benchserver: %s mode on %s (pid %d)\n", mode, baseURL, os.Getpid())

	server := &http.Server{Handler: counting, ReadHeaderTimeout: 10 * time.Second}
	go server.Serve(listener) //nolint:errcheck // Serve returns http.ErrServerClosed after Shutdown.

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(maxDuration):
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = server.Shutdown(shutdown)

	cpu := processCPUTime()
	requests := served.Load()
	perRequest := time.Duration(0)
	if requests > 0 {
		perRequest = cpu / time.Duration(requests)
	}
	fmt.Printf("benchserver: served %d requests, CPU %.2fs, %s per request\n", requests, cpu.Seconds(), perRequest.Round(100*time.Nanosecond))
	return nil
}

// newHandler returns the handler of mode and the credentials a client needs for it.
func newHandler(mode string) (http.Handler, map[string]string, error) {
	switch mode {
	case "fixed":
		root, err := repositoryRoot()
		if err != nil {
			return nil, nil, err
		}
		jwe, err := os.ReadFile(filepath.Join(root, "tokenapi", "testdata", "v2-visa-cryptogram.jwe"))
		if err != nil {
			return nil, nil, err
		}
		env := map[string]string{ //nolint:gosec // made-up credentials for a handler that checks none
			"CYBERSOURCE_MERCHANT_ID":  "benchmark_merchant",
			"CYBERSOURCE_KEY_ID":       "e3b0c442-98fc-4c14-9afb-f4c8996fb924",
			"CYBERSOURCE_SECRET_KEY":   "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=",
			"CYBERSOURCE_MLE_KEY_FILE": filepath.Join(root, "tokenapi", "testdata", "mle-private-key.pem"),
		}
		return fixedJWEHandler([]byte(strings.TrimSpace(string(jwe)))), env, nil
	case "sandbox", "sandbox-plain":
		merchant, key, err := sandbox.GenerateMerchant("benchserver_merchant")
		if err != nil {
			return nil, nil, err
		}
		cfg := sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens()}
		if mode == "sandbox" {
			cfg.ContentKeyReuse = 1000
			cfg.ValidationCacheSize = 1024
		}
		server, err := sandbox.New(cfg)
		if err != nil {
			return nil, nil, err
		}
		keyFile, err := writeKey(key)
		if err != nil {
			return nil, nil, err
		}
		env := map[string]string{
			"CYBERSOURCE_MERCHANT_ID":  merchant.ID,
			"CYBERSOURCE_KEY_ID":       merchant.KeyID,
			"CYBERSOURCE_SECRET_KEY":   merchant.SecretKey,
			"CYBERSOURCE_MLE_KEY_FILE": keyFile,
		}
		return server, env, nil
	}
	return nil, nil, fmt.Errorf("--mode %q: use fixed, sandbox or sandbox-plain", mode)
}

// fixedJWEHandler reads each request body and responds 201 with jwe and the headers
// CyberSource sends.
func fixedJWEHandler(jwe []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "reading the body failed", http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/jose;charset=utf-8")
		h.Set("v-c-correlation-id", "0f6b3a52-8d3e-4c1b-9a57-2f1e4d9c7b60")
		h.Set("uniqueTransactionID", "9c1d6e2a-5b4f-4e8a-b3c7-1a2d3e4f5a6b")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(jwe)
	})
}

// repositoryRoot returns the directory of go.mod, searching up from the working directory.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory; run from the repository")
		}
		dir = parent
	}
}

func writeKey(key *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	file, err := os.CreateTemp("", "benchserver-mle-*.pem")
	if err != nil {
		return "", err
	}
	defer file.Close()
	if err := pem.Encode(file, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return "", err
	}
	return file.Name(), nil
}

func writeEnvFile(path string, env map[string]string) error {
	var b strings.Builder
	for _, name := range []string{"CYBERSOURCE_BASE_URL", "CYBERSOURCE_MERCHANT_ID", "CYBERSOURCE_KEY_ID", "CYBERSOURCE_SECRET_KEY", "CYBERSOURCE_MLE_KEY_FILE"} {
		fmt.Fprintf(&b, "export %s='%s'\n", name, env[name])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func processCPUTime() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
