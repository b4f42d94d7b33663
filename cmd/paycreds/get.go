package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// Environment variables that stand in for flags. The shared secret and the key password
// are read only from the environment or a file, never from the command line, where other
// users of the machine could see them.
const (
	envMerchantID     = "CYBERSOURCE_MERCHANT_ID"
	envKeyID          = "CYBERSOURCE_KEY_ID"
	envSecretKey      = "CYBERSOURCE_SECRET_KEY"
	envMLEKeyFile     = "CYBERSOURCE_MLE_KEY_FILE"
	envMLEKeyPassword = "CYBERSOURCE_MLE_KEY_PASSWORD" //nolint:gosec // the name of a variable, not a password
	envProfileID      = "CYBERSOURCE_PROFILE_ID"
	envEnvironment    = "CYBERSOURCE_ENVIRONMENT"
	envBaseURL        = "CYBERSOURCE_BASE_URL"
)

// getFlags are the flags of `paycreds get`.
type getFlags struct {
	environment     string
	baseURL         string
	merchantID      string
	keyID           string
	secretKeyFile   string
	portfolioID     string
	mleKeys         stringList
	legacyJWE       bool
	profileID       string
	credentialType  string
	transactionType string
	requestFile     string
	correlationID   string
	api             string
	timeout         time.Duration
	clientCert      string
	clientKey       string
	caCert          string
	sandboxFault    string
	retries         int
	verbose         bool
	authFlags
	printOptions
	raw bool
}

func (f *getFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.environment, "env", "", "CyberSource environment: "+environmentNames()+" (default sandbox, or $"+envEnvironment+")")
	fs.StringVar(&f.baseURL, "base-url", "", "base URL to call instead of the environment's host, https or loopback http (or $"+envBaseURL+")")
	fs.StringVar(&f.merchantID, "merchant-id", "", "merchant id (or $"+envMerchantID+")")
	fs.StringVar(&f.keyID, "key-id", "", "REST shared secret key id, for HTTP Signature and --shared-secret-jwt (or $"+envKeyID+")")
	fs.StringVar(&f.secretKeyFile, "secret-key-file", "", "file holding the base64 shared secret (default: $"+envSecretKey+")")
	fs.StringVar(&f.portfolioID, "meta-key", "", "portfolio id, when the key id and secret are a portfolio's meta key")
	fs.Var(&f.mleKeys, "mle-key", "PEM file of an MLE private key, or KID=FILE; repeat for several keys (or $"+envMLEKeyFile+", paths separated by '"+string(os.PathListSeparator)+"'); an encrypted key's password comes from $"+envMLEKeyPassword)
	fs.BoolVar(&f.legacyJWE, "legacy-jwe", false, "also accept JWEs encrypted with RSA-OAEP (SHA-1) and A128GCM")
	fs.StringVar(&f.profileID, "profile-id", "", "TMS profile id, a UUID (or $"+envProfileID+")")
	fs.StringVar(&f.credentialType, "type", "", "paymentCredentialType: NETWORK_TOKEN, SECURITY_CODE or CRYPTOGRAM (default: as the network supports)")
	fs.StringVar(&f.transactionType, "transaction-type", "", "transactionType: ECOM or AFT (default ECOM)")
	fs.StringVar(&f.requestFile, "request", "", "JSON file with the full request body, or - for standard input; --type and --transaction-type override its fields")
	fs.StringVar(&f.correlationID, "correlation-id", "", "v-c-correlation-id header to send, echoed by CyberSource")
	fs.StringVar(&f.api, "api", "v2", "operation version: v2 or v3")
	fs.DurationVar(&f.timeout, "timeout", tokenapi.DefaultTimeout, "time limit of each attempt")
	fs.IntVar(&f.retries, "retries", 0, "retries after 429, 502, 503, 504 or a connection that failed before the request was sent, 0 to 9")
	fs.BoolVar(&f.verbose, "verbose", false, "log each attempt and retry to standard error (metadata only, never card data or secrets)")
	fs.StringVar(&f.clientCert, "client-cert", "", "PEM certificate for mutual TLS, as the mutual-tls-* environments require (with --client-key)")
	fs.StringVar(&f.clientKey, "client-key", "", "PEM private key of --client-cert")
	fs.StringVar(&f.caCert, "ca-cert", "", "PEM file of extra root certificates to trust, such as a TLS-inspecting proxy's")
	fs.StringVar(&f.sandboxFault, "sandbox-fault", "", "fault for paycreds sandbox to inject, sent in its "+sandbox.FaultHeader+" header, such as status=503 or close-mid-body; loopback --base-url only")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&f.reveal, "reveal", false, "print full card numbers, cryptograms and security codes")
	fs.BoolVar(&f.raw, "raw", false, "print the JWE as received, without decrypting it (no MLE key needed)")
	f.authFlags.register(fs)
}

func environmentNames() string {
	var names []string
	for _, env := range tokenapi.Environments() {
		names = append(names, env.Name())
	}
	return strings.Join(names, ", ")
}

func runGet(ctx context.Context, a *app, args []string) int {
	var f getFlags
	fs := newFlagSet("get", "[flags] TOKEN_ID", a.stderr)
	f.register(fs)
	positional, err := parseInterspersed(fs, args, a.stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(positional) != 1 {
		return a.fail("get", usagef("expected one TOKEN_ID argument, got %d", len(positional)))
	}
	tokenID := positional[0]

	client, err := f.newClient(a)
	if err != nil {
		return a.fail("get", err)
	}
	request, err := f.request(a.stdin)
	if err != nil {
		return a.fail("get", err)
	}
	var callOpts []tokenapi.CallOption
	if f.correlationID != "" {
		callOpts = append(callOpts, tokenapi.WithCorrelationID(f.correlationID))
	}

	start := time.Now()
	if f.raw {
		encrypted, err := f.fetchJWE(ctx, client, tokenID, request, callOpts)
		if err != nil {
			return a.failCall("get", err)
		}
		fmt.Fprintln(a.stdout, encrypted.JWE)
		return exitOK
	}
	creds, err := f.generate(ctx, client, tokenID, request, callOpts)
	if err != nil {
		return a.failCall("get", err)
	}
	if !f.json {
		fmt.Fprintf(a.stdout, "Payment credentials (%s, %s)\n", f.api, roundDuration(time.Since(start)))
	}
	if err := printCredentials(a.stdout, creds, f.printOptions); err != nil {
		return a.fail("get", err)
	}
	return exitOK
}

// failCall reports a failed call: input the library rejected is a usage error, anything
// else is an API, decryption or transport error.
func (a *app) failCall(command string, err error) int {
	if errors.Is(err, tokenapi.ErrInvalidRequest) {
		return a.fail(command, usagef("%v", err))
	}
	return a.fail(command, err)
}

func (f *getFlags) fetchJWE(ctx context.Context, c *tokenapi.Client, tokenID string, r *tokenapi.PaymentCredentialsRequest, opts []tokenapi.CallOption) (*tokenapi.EncryptedPaymentCredentials, error) {
	if f.api == "v3" {
		return c.GeneratePaymentCredentialsV3JWE(ctx, tokenID, r, opts...)
	}
	return c.GeneratePaymentCredentialsJWE(ctx, tokenID, r, opts...)
}

func (f *getFlags) generate(ctx context.Context, c *tokenapi.Client, tokenID string, r *tokenapi.PaymentCredentialsRequest, opts []tokenapi.CallOption) (*tokenapi.PaymentCredentials, error) {
	if f.api == "v3" {
		return c.GeneratePaymentCredentialsV3(ctx, tokenID, r, opts...)
	}
	return c.GeneratePaymentCredentials(ctx, tokenID, r, opts...)
}

// newClient builds a Client from the flags and the environment. Every problem is a
// usage error naming the flag or variable to fix.
func (f *getFlags) newClient(a *app) (*tokenapi.Client, error) {
	if f.api != "v2" && f.api != "v3" {
		return nil, usagef("--api is %q; use v2 or v3", f.api)
	}
	opts := []tokenapi.Option{tokenapi.WithTimeout(f.timeout)}
	reliability, err := f.reliabilityOptions(a.stderr)
	if err != nil {
		return nil, err
	}
	opts = append(opts, reliability...)

	baseURL := firstNonEmpty(f.baseURL, a.getenv(envBaseURL))
	envName := firstNonEmpty(f.environment, a.getenv(envEnvironment), "sandbox")
	env, err := tokenapi.ParseEnvironment(envName)
	if err != nil {
		return nil, usagef("--env: %v", err)
	}
	opts = append(opts, tokenapi.WithEnvironment(env))
	if baseURL != "" {
		opts = append(opts, tokenapi.WithBaseURL(baseURL))
		if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
			a.server = "the server at " + u.Host
		}
	}

	merchantID := firstNonEmpty(f.merchantID, a.getenv(envMerchantID))
	if merchantID == "" {
		return nil, usagef("no merchant id: pass --merchant-id or set %s", envMerchantID)
	}
	authOpts, err := f.authOptions(a, merchantID)
	if err != nil {
		return nil, err
	}
	opts = append(opts, authOpts...)

	keys, err := loadMLEKeys("--mle-key", f.mleKeys, a.getenv)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 && !f.raw {
		return nil, usagef("no MLE private key to decrypt the response: pass --mle-key FILE or set %s, or pass --raw to print the JWE", envMLEKeyFile)
	}
	if len(keys) > 0 {
		opts = append(opts, tokenapi.WithMLEKeys(keys...))
	}
	if f.legacyJWE {
		opts = append(opts, tokenapi.WithLegacyJWEAlgorithms())
	}
	if profileID := firstNonEmpty(f.profileID, a.getenv(envProfileID)); profileID != "" {
		opts = append(opts, tokenapi.WithDefaultProfileID(profileID))
	}

	httpClient, err := f.httpClient(baseURL)
	if err != nil {
		return nil, err
	}
	if httpClient != nil {
		opts = append(opts, tokenapi.WithHTTPClient(httpClient))
	}

	client, err := tokenapi.New(opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return client, nil
}

// httpClient returns an *http.Client with the TLS settings of --client-cert, --client-key
// and --ca-cert and the header of --sandbox-fault, or nil when none is given.
func (f *getFlags) httpClient(baseURL string) (*http.Client, error) {
	if f.clientCert == "" && f.clientKey == "" && f.caCert == "" && f.sandboxFault == "" {
		return nil, nil
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if (f.clientCert == "") != (f.clientKey == "") {
		return nil, usagef("--client-cert and --client-key go together; pass both")
	}
	if f.clientCert != "" {
		certificate, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
		if err != nil {
			return nil, usagef("--client-cert %s with --client-key %s: %v", f.clientCert, f.clientKey, err)
		}
		config.Certificates = []tls.Certificate{certificate}
	}
	if f.caCert != "" {
		data, err := os.ReadFile(f.caCert)
		if err != nil {
			return nil, usagef("--ca-cert: %v", err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(data) {
			return nil, usagef("--ca-cert %s contains no PEM certificate; pass a file with -----BEGIN CERTIFICATE----- blocks", f.caCert)
		}
		config.RootCAs = roots
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = config
	if f.sandboxFault == "" {
		return &http.Client{Transport: transport}, nil
	}

	if loopback, err := isLoopbackURL(baseURL); err != nil || !loopback {
		return nil, usagef("--sandbox-fault controls paycreds sandbox and is sent only to a loopback --base-url such as http://127.0.0.1:PORT; got %q", baseURL)
	}
	if _, err := sandbox.ParseFault(f.sandboxFault); err != nil {
		return nil, usagef("--sandbox-fault: %v", err)
	}
	return &http.Client{Transport: headerTransport{base: transport, name: sandbox.FaultHeader, value: f.sandboxFault}}, nil
}

// headerTransport adds one header to every request.
type headerTransport struct {
	base        http.RoundTripper
	name, value string
}

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Header.Set(t.name, t.value)
	return t.base.RoundTrip(out)
}

// secretKey reads the shared secret from --secret-key-file or the environment.
func (f *getFlags) secretKey(a *app) (string, error) {
	if f.secretKeyFile != "" {
		data, err := os.ReadFile(f.secretKeyFile)
		if err != nil {
			return "", usagef("--secret-key-file: %v", err)
		}
		return strings.TrimSpace(string(data)), nil
	}
	if secret := a.getenv(envSecretKey); secret != "" {
		return secret, nil
	}
	return "", usagef("no shared secret: set %s or pass --secret-key-file FILE (the secret is never taken as a flag value)", envSecretKey)
}

// loadMLEKeys loads the keys named by the flag flagName, or by the environment when the
// flag is not given. An argument is FILE or KID=FILE.
func loadMLEKeys(flagName string, flags []string, getenv env) ([]tokenapi.MLEKey, error) {
	specs := flags
	source := flagName
	if len(specs) == 0 && getenv(envMLEKeyFile) != "" {
		specs = filepath.SplitList(getenv(envMLEKeyFile))
		source = envMLEKeyFile
	}
	password := []byte(getenv(envMLEKeyPassword))

	var keys []tokenapi.MLEKey
	for _, spec := range specs {
		kid, path := splitKeySpec(spec)
		key, err := tokenapi.LoadMLEKeyFile(path, password)
		if err != nil {
			if errors.Is(err, tokenapi.ErrKeyPasswordRequired) {
				return nil, usagef("%s %s: the key is encrypted; set %s to its password", source, path, envMLEKeyPassword)
			}
			return nil, usagef("%s: %v", source, err)
		}
		keys = append(keys, tokenapi.MLEKey{KeyID: kid, Key: key})
	}
	if len(keys) > 1 {
		for _, k := range keys {
			if k.KeyID == "" {
				return nil, usagef("%s: with several MLE keys each needs its kid; write KID=FILE", source)
			}
		}
	}
	return keys, nil
}

// splitKeySpec splits KID=FILE. An argument without '=', or whose text before '=' contains
// a path separator, is a plain FILE.
func splitKeySpec(spec string) (kid, path string) {
	before, after, found := strings.Cut(spec, "=")
	if !found || strings.ContainsAny(before, `/\`) || before == "" {
		return "", spec
	}
	if _, err := os.Stat(spec); err == nil {
		return "", spec
	}
	return before, after
}

// request builds the request body from --request, --type and --transaction-type.
func (f *getFlags) request(stdin io.Reader) (*tokenapi.PaymentCredentialsRequest, error) {
	var request tokenapi.PaymentCredentialsRequest
	if f.requestFile != "" {
		data, err := readInput(f.requestFile, stdin)
		if err != nil {
			return nil, usagef("--request: %v", err)
		}
		decoder := json.NewDecoder(strings.NewReader(string(data)))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&request); err != nil {
			return nil, usagef("--request %s: not a valid request body: %v", f.requestFile, err)
		}
	}
	if f.credentialType != "" {
		request.PaymentCredentialType = tokenapi.PaymentCredentialType(strings.ToUpper(f.credentialType))
	}
	if f.transactionType != "" {
		request.TransactionType = tokenapi.TransactionType(strings.ToUpper(f.transactionType))
	}
	return &request, nil
}

// maxInputBytes bounds a file or standard input read by a command.
const maxInputBytes = 1 << 20

// readInput reads a file, or standard input for "-", up to maxInputBytes.
func readInput(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		file, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		r = file
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("%s is over %d bytes", name, maxInputBytes)
	}
	return data, nil
}
