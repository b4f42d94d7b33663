package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/net/netutil"

	"github.com/paycreds/tms/internal/sandbox"
)

// Limits of the server that `paycreds sandbox` runs. The sandbox itself caps request
// bodies at 64 KiB.
const (
	sandboxReadHeaderTimeout = 10 * time.Second
	sandboxReadTimeout       = 30 * time.Second
	// sandboxWriteTimeout leaves room for the longest latency fault.
	sandboxWriteTimeout   = sandbox.MaxFaultLatency + 30*time.Second
	sandboxIdleTimeout    = 2 * time.Minute
	sandboxMaxHeaderBytes = 64 << 10
	sandboxShutdownWait   = 10 * time.Second

	defaultMaxConnections = 256
)

// sandboxFlags are the flags of `paycreds sandbox`.
type sandboxFlags struct {
	addr           string
	listenAny      bool
	tls            bool
	configFile     string
	stateDir       string
	maxConnections int
	requestHosts   requestHostList
}

func (f *sandboxFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "address to listen on, HOST:PORT; port 0 picks a free port, printed at start")
	fs.BoolVar(&f.listenAny, "listen-any", false, "allow an --addr that is not a loopback address, so that other machines can connect")
	fs.BoolVar(&f.tls, "tls", false, "serve HTTPS with a self-signed certificate for 127.0.0.1, ::1 and localhost, written to certFile in the state directory")
	fs.StringVar(&f.configFile, "config", "", "JSON (.json) or YAML (.yaml, .yml) file of merchants and tokens (default: one generated merchant and the demo tokens)")
	fs.StringVar(&f.stateDir, "state-dir", "", "directory for generated MLE private keys, P12 files and certificates, kept after exit (default: a temporary directory, removed on exit)")
	fs.IntVar(&f.maxConnections, "max-connections", defaultMaxConnections, "maximum number of open client connections; more wait until one closes")
	f.requestHosts.hosts = defaultRequestHosts()
	fs.Var(&f.requestHosts, "request-host", "host a JWT's request-host claim may name besides the Host header, repeatable; the first one given replaces the default list: the CyberSource API hosts, which SDKs sign while they connect to 127.0.0.1, and localhost")
}

// sandboxReady is the first line `paycreds sandbox` prints: one JSON object for scripts.
// The top-level merchant fields repeat Merchants[0].
type sandboxReady struct {
	BaseURL     string            `json:"baseURL"`
	MerchantID  string            `json:"merchantID"`
	KeyID       string            `json:"keyID"`
	SecretKey   string            `json:"secretKey"`
	MLEKeyFile  string            `json:"mleKeyFile"`
	MLEKeyID    string            `json:"mleKeyID"`
	P12File     string            `json:"p12File"`
	P12Password string            `json:"p12Password"`
	Tokens      map[string]string `json:"tokens"`
	CertFile    string            `json:"certFile,omitempty"`
	StateDir    string            `json:"stateDir"`
	FaultHeader string            `json:"faultHeader"`
	Merchants   []merchantReport  `json:"merchants"`

	// RequestCertFile is CyberSource's request-encryption certificate in PEM, and
	// RequestHosts the request-host claims accepted besides the Host header.
	RequestCertFile string   `json:"requestCertFile"`
	RequestHosts    []string `json:"requestHosts"`
}

// runSandbox serves the sandbox until ctx ends, which main ties to SIGINT and SIGTERM.
func runSandbox(ctx context.Context, a *app, args []string) int {
	var f sandboxFlags
	fs := newFlagSet("sandbox", "[flags]", a.stderr)
	f.register(fs)
	positional, err := parseInterspersed(fs, args, a.stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(positional) > 0 {
		return a.fail("sandbox", usagef("unexpected argument %q; the sandbox takes only flags", positional[0]))
	}
	if err := f.check(); err != nil {
		return a.fail("sandbox", err)
	}

	logger := slog.New(slog.NewTextHandler(a.stderr, nil))
	stateDir, removeStateDir, err := f.makeStateDir()
	if err != nil {
		return a.fail("sandbox", err)
	}
	defer func() {
		if err := removeStateDir(); err != nil {
			logger.Warn("removing the temporary state directory failed", "dir", stateDir, "error", err)
		}
	}()

	server, ready, err := f.newServer(ctx, stateDir, logger)
	if err != nil {
		return a.fail("sandbox", err)
	}
	return serveSandbox(ctx, a, server, ready, logger)
}

// check validates the flags that do not need the file system.
func (f *sandboxFlags) check() error {
	if f.maxConnections < 1 {
		return usagef("--max-connections %d is below 1", f.maxConnections)
	}
	return checkListenAddr(f.addr, f.listenAny)
}

// checkListenAddr accepts a loopback address, and any address with listenAny.
func checkListenAddr(addr string, listenAny bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q is not HOST:PORT, such as 127.0.0.1:8080", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return usagef("--addr %q: port %q is not a number from 0 to 65535", addr, port)
	}
	if listenAny {
		return nil
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return usagef("--addr %q accepts connections from other machines; use a loopback address such as 127.0.0.1:8080, or add --listen-any to allow it", addr)
}

// makeStateDir creates the state directory and returns a function that removes it when
// it is a temporary one.
func (f *sandboxFlags) makeStateDir() (string, func() error, error) {
	if f.stateDir != "" {
		if err := os.MkdirAll(f.stateDir, 0o700); err != nil {
			return "", nil, usagef("--state-dir: %v", err)
		}
		dir, err := filepath.Abs(f.stateDir)
		if err != nil {
			return "", nil, usagef("--state-dir: %v", err)
		}
		return dir, func() error { return nil }, nil
	}
	dir, err := os.MkdirTemp("", "paycreds-sandbox-")
	if err != nil {
		return "", nil, fmt.Errorf("create the state directory: %w", err)
	}
	return dir, func() error { return os.RemoveAll(dir) }, nil
}

// newServer builds the sandbox from the flags and the config file, listens, and returns
// the server with the first output line that describes it.
func (f *sandboxFlags) newServer(ctx context.Context, stateDir string, logger *slog.Logger) (*sandboxServer, *sandboxReady, error) {
	var file *sandboxFile
	configDir := "."
	if f.configFile != "" {
		var err error
		if file, err = loadSandboxFile(f.configFile); err != nil {
			return nil, nil, err
		}
		configDir = filepath.Dir(f.configFile)
	}
	setup, err := buildSandboxSetup(file, configDir, stateDir)
	if err != nil {
		return nil, nil, err
	}
	setup.config.Logger = logger
	setup.config.RequestHosts = f.requestHosts.hosts
	handler, err := sandbox.New(setup.config)
	if err != nil {
		return nil, nil, usagef("config: %v", err)
	}

	first := setup.merchants[0]
	ready := &sandboxReady{
		MerchantID:  first.MerchantID,
		KeyID:       first.KeyID,
		SecretKey:   first.SecretKey,
		MLEKeyFile:  first.MLEKeyFile,
		MLEKeyID:    first.MLEKeyID,
		P12File:     first.P12File,
		P12Password: first.P12Password,
		Tokens:      setup.tokens,
		StateDir:    stateDir,
		FaultHeader: sandbox.FaultHeader,
		Merchants:   setup.merchants,

		RequestCertFile: setup.requestCertFile,
		RequestHosts:    f.requestHosts.hosts,
	}

	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: sandboxReadHeaderTimeout,
		ReadTimeout:       sandboxReadTimeout,
		WriteTimeout:      sandboxWriteTimeout,
		IdleTimeout:       sandboxIdleTimeout,
		MaxHeaderBytes:    sandboxMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if f.tls {
		ready.CertFile = filepath.Join(stateDir, "sandbox-cert.pem")
		cert, err := selfSignedCertificate(ready.CertFile, time.Now())
		if err != nil {
			return nil, nil, err
		}
		server.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	var config net.ListenConfig
	listener, err := config.Listen(ctx, "tcp", f.addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	ready.BaseURL = baseURL(listener.Addr(), f.tls)
	limited := netutil.LimitListener(listener, f.maxConnections)
	return &sandboxServer{http: server, listener: limited, tls: f.tls}, ready, nil
}

// sandboxServer is the HTTP server and its listener, capped in connections.
type sandboxServer struct {
	http     *http.Server
	listener net.Listener
	tls      bool
}

// baseURL returns the URL clients use for the listener's address. For an address on all
// interfaces it names 127.0.0.1, which reaches it from this machine.
func baseURL(addr net.Addr, useTLS bool) string {
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return scheme + "://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// serveSandbox prints the first line, serves until ctx ends and shuts the server down,
// letting requests in progress finish for up to sandboxShutdownWait.
func serveSandbox(ctx context.Context, a *app, server *sandboxServer, ready *sandboxReady, logger *slog.Logger) int {
	served := make(chan error, 1)
	go func() {
		if server.tls {
			served <- server.http.ServeTLS(server.listener, "", "")
		} else {
			served <- server.http.Serve(server.listener)
		}
	}()

	line, err := json.Marshal(ready)
	if err == nil {
		_, err = fmt.Fprintf(a.stdout, "%s\n", line)
	}
	if err != nil {
		_ = server.http.Close() // The write error is the one to report.
		return a.fail("sandbox", fmt.Errorf("write the first output line: %w", err))
	}
	logger.Info("sandbox listening", "base_url", ready.BaseURL, "merchants", len(ready.Merchants), "tokens", len(ready.Tokens), "state_dir", ready.StateDir)

	select {
	case err := <-served:
		logger.Error("sandbox server failed", "error", err)
		return exitError
	case <-ctx.Done():
	}

	logger.Info("sandbox stopping", "reason", context.Cause(ctx).Error())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sandboxShutdownWait)
	defer cancel()
	if err := server.http.Shutdown(shutdownCtx); err != nil {
		logger.Warn("sandbox shutdown did not finish; closing the remaining connections", "error", err)
		if err := server.http.Close(); err != nil {
			logger.Warn("sandbox close failed", "error", err)
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("sandbox server ended with an error", "error", err)
	}
	logger.Info("sandbox stopped")
	return exitOK
}
