package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// demoCall is one call the demo makes, with the outcome it expects.
type demoCall struct {
	title      string
	tokenID    string
	v3         bool
	request    tokenapi.PaymentCredentialsRequest
	wantStatus int // 0 for success, else the error status the sandbox must return
}

func demoCalls() []demoCall {
	return []demoCall{
		{title: "Visa network token with a cryptogram (v2)", tokenID: sandbox.DemoVisaTokenID},
		{title: "Mastercard, cryptogram requested (v2)", tokenID: sandbox.DemoMastercardTokenID,
			request: tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}},
		{title: "American Express with a dynamic CVV (v3)", tokenID: sandbox.DemoAmericanExpressTokenID, v3: true},
		{title: "Token without a network token: card details (v3)", tokenID: sandbox.DemoNoNetworkTokenID, v3: true},
		{title: "A deleted token (error case)", tokenID: sandbox.DemoDeletedTokenID, wantStatus: http.StatusGone},
	}
}

// runDemo starts the sandbox on a loopback port with fresh keys and runs demoCalls through
// the real client over HTTP: signed, encrypted by the sandbox, decrypted here.
func runDemo(ctx context.Context, a *app, args []string) int {
	var opts printOptions
	fs := newFlagSet("demo", "[flags]", a.stderr)
	fs.BoolVar(&opts.reveal, "reveal", false, "print full network token numbers, cryptograms and security codes (all made up)")
	positional, err := parseInterspersed(fs, args, a.stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(positional) > 0 {
		return a.fail("demo", usagef("demo takes no arguments, got %q", positional))
	}

	fmt.Fprintln(a.stdout, "paycreds demo: the full flow against a local CyberSource sandbox; nothing leaves this machine.")
	merchant, mleKey, err := sandbox.GenerateMerchant("paycreds_demo")
	if err != nil {
		return a.fail("demo", err)
	}
	jwtSetup, err := newDemoJWT(&merchant)
	if err != nil {
		return a.fail("demo", err)
	}
	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens(), RequestEncryption: jwtSetup.requestKey})
	if err != nil {
		return a.fail("demo", err)
	}
	baseURL, stop, err := serveLoopback(ctx, server)
	if err != nil {
		return a.fail("demo", err)
	}
	defer stop()

	kid, err := sandbox.MLEKeyID(&mleKey.PublicKey)
	if err != nil {
		return a.fail("demo", err)
	}
	fmt.Fprintf(a.stdout, "Sandbox listening on %s, merchant %s, key id %s, fresh RSA-2048 MLE key (kid %s)\n",
		baseURL, merchant.ID, merchant.KeyID, kid)
	client, err := tokenapi.New(
		tokenapi.WithBaseURL(baseURL),
		tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, merchant.SecretKey),
		tokenapi.WithMLEKey(mleKey),
	)
	if err != nil {
		return a.fail("demo", err)
	}

	failures := 0
	calls := demoCalls()
	for i, call := range calls {
		fmt.Fprintf(a.stdout, "\n%d. %s, token %s\n", i+1, call.title, call.tokenID)
		if !runDemoCall(ctx, a.stdout, client, call, opts) {
			failures++
		}
	}
	fmt.Fprintf(a.stdout, "\n%d. JWT (RS256, key from a P12 file) with encrypted request and response (v3), token %s\n", len(calls)+1, sandbox.DemoVisaTokenID)
	if !runDemoJWT(ctx, a.stdout, baseURL, merchant.ID, mleKey, jwtSetup, opts) {
		failures++
	}

	fmt.Fprintln(a.stdout)
	fmt.Fprintln(a.stdout, "Calls 1 to 5 were signed with HTTP Signature and call 6 with a JWT. Each was answered with a JWE")
	fmt.Fprintln(a.stdout, "encrypted to the MLE public key (RSA-OAEP-256, A256GCM) and decrypted by the client. Numbers are")
	fmt.Fprintln(a.stdout, "masked; --reveal shows them.")
	fmt.Fprintln(a.stdout, "Next: 'paycreds get -h' (or 'go run ./cmd/paycreds get -h' from a clone) for real calls to CyberSource.")
	if failures > 0 {
		fmt.Fprintf(a.stderr, "paycreds demo: %d of %d calls did not behave as expected\n", failures, len(calls)+1)
		return exitError
	}
	return exitOK
}

// runDemoCall makes one call and prints its outcome. It reports whether the outcome was
// the expected one.
func runDemoCall(ctx context.Context, w io.Writer, client *tokenapi.Client, call demoCall, opts printOptions) bool {
	start := time.Now()
	var creds *tokenapi.PaymentCredentials
	var err error
	if call.v3 {
		creds, err = client.GeneratePaymentCredentialsV3(ctx, call.tokenID, &call.request)
	} else {
		creds, err = client.GeneratePaymentCredentials(ctx, call.tokenID, &call.request)
	}
	elapsed := time.Since(start)

	if err != nil {
		var apiErr *tokenapi.APIError
		expected := errors.As(err, &apiErr) && apiErr.StatusCode == call.wantStatus
		printError(w, "  ", "the sandbox", err)
		fmt.Fprintf(w, "  time                   %s\n", roundDuration(elapsed))
		return expected
	}
	if err := printCredentials(w, creds, opts); err != nil {
		fmt.Fprintf(w, "  printing failed: %v\n", err)
		return false
	}
	fmt.Fprintf(w, "  time            %s\n", roundDuration(elapsed))
	return call.wantStatus == 0
}

// roundDuration rounds d for display: 1.42ms, 12.3ms, 153ms.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < 10*time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d < 100*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// serveLoopback serves handler on a free 127.0.0.1 port and returns its base URL and a
// function that shuts it down.
func serveLoopback(ctx context.Context, handler http.Handler) (string, func(), error) {
	var config net.ListenConfig
	listener, err := config.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go server.Serve(listener) //nolint:errcheck // Serve returns http.ErrServerClosed after Shutdown.
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx) //nolint:errcheck // nothing is left to do if shutdown times out
	}
	return "http://" + listener.Addr().String(), stop, nil
}
