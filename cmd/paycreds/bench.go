package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// Bounds of the bench flags. A run always stops at --calls or --duration, whichever
// comes first.
const (
	maxBenchCalls       = 100_000_000
	maxBenchDuration    = time.Hour
	maxBenchConcurrency = 256

	// benchContentKeyReuse is how many responses of the embedded sandbox share a content
	// encryption key.
	benchContentKeyReuse = 1000
)

// benchFlags are the flags of `paycreds bench`: those of `paycreds get` that configure
// the client, and the shape of the load.
type benchFlags struct {
	get          getFlags
	calls        int
	concurrency  int
	duration     time.Duration
	decrypt      bool
	progress     time.Duration
	cpuProfile   string
	allowRemote  bool
	jsonSummary  bool
	embeddedMode bool // set when no --base-url is given
}

// getFlagsNotForBench are the flags of `paycreds get` that bench does not take: bench
// prints no credentials, and --decrypt replaces --raw.
var getFlagsNotForBench = map[string]bool{"raw": true, "reveal": true, "json": true, "env": true}

func (f *benchFlags) register(fs *flag.FlagSet) {
	// Take the client flags of `paycreds get`, so that bench authenticates and selects
	// keys as get does.
	getSet := flag.NewFlagSet("get", flag.ContinueOnError)
	f.get.register(getSet)
	getSet.VisitAll(func(fl *flag.Flag) {
		switch {
		case getFlagsNotForBench[fl.Name]:
		case fl.Name == "base-url":
			fs.Var(fl.Value, fl.Name, "base URL to load, loopback unless --allow-remote; without it bench starts a sandbox on 127.0.0.1 and ignores the $CYBERSOURCE_ variables")
		default:
			fs.Var(fl.Value, fl.Name, fl.Usage)
		}
	})

	fs.IntVar(&f.calls, "calls", 10_000, fmt.Sprintf("stop after this many calls (at most %d)", maxBenchCalls))
	fs.IntVar(&f.concurrency, "concurrency", 1, fmt.Sprintf("number of calls in flight at once (1 to %d)", maxBenchConcurrency))
	fs.DurationVar(&f.duration, "duration", 10*time.Second, fmt.Sprintf("stop starting calls after this time (at most %s)", maxBenchDuration))
	fs.BoolVar(&f.decrypt, "decrypt", false, "decrypt each JWE (needs an MLE key with --base-url); without it the JWE is returned unopened")
	fs.DurationVar(&f.progress, "progress", time.Second, "interval of the progress line on standard error; 0 turns it off")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to `FILE` (with the embedded sandbox, it covers the sandbox too)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a --base-url that is not a loopback address; every successful call mints credentials there")
	fs.BoolVar(&f.jsonSummary, "json", false, "print the summary as one JSON object on standard output")
}

// runBench sends calls to --base-url, or to a sandbox it starts on 127.0.0.1, and prints
// the rate, latency percentiles, errors by kind and CPU time per call.
func runBench(ctx context.Context, a *app, args []string) int {
	var f benchFlags
	fs := newFlagSet("bench", "[flags] [TOKEN_ID]", a.stderr)
	f.register(fs)
	positional, err := parseInterspersed(fs, args, a.stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if err := f.check(positional); err != nil {
		return a.fail("bench", err)
	}
	tokenID := sandbox.DemoVisaTokenID
	if len(positional) == 1 {
		tokenID = positional[0]
	}

	client, target, stop, err := f.newClient(ctx, a)
	if err != nil {
		return a.fail("bench", err)
	}
	defer stop()
	request, err := f.get.request(a.stdin)
	if err != nil {
		return a.fail("bench", err)
	}

	if f.cpuProfile != "" {
		stopProfile, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return a.fail("bench", err)
		}
		defer stopProfile()
	}

	load := benchLoad{
		client:      client,
		tokenID:     tokenID,
		request:     request,
		v3:          f.get.api == "v3",
		decrypt:     f.decrypt,
		calls:       int64(f.calls),
		concurrency: f.concurrency,
		duration:    f.duration,
	}
	if f.progress > 0 {
		load.progress = func(p benchProgress) { printBenchProgress(a.stderr, p) }
		load.progressInterval = f.progress
	}
	result := load.run(ctx)
	result.Target = target
	result.Decrypt = f.decrypt
	result.API = f.get.api

	if f.jsonSummary {
		if err := printBenchJSON(a.stdout, result); err != nil {
			return a.fail("bench", err)
		}
	} else {
		printBenchSummary(a.stdout, result)
	}
	if result.Succeeded == 0 {
		fmt.Fprintln(a.stderr, "paycreds bench: no call succeeded")
		return exitError
	}
	return exitOK
}

// check validates the flags that do not depend on the environment.
func (f *benchFlags) check(positional []string) error {
	switch {
	case len(positional) > 1:
		return usagef("expected at most one TOKEN_ID argument, got %d", len(positional))
	case f.calls < 1 || f.calls > maxBenchCalls:
		return usagef("--calls is %d; use 1 to %d", f.calls, maxBenchCalls)
	case f.concurrency < 1 || f.concurrency > maxBenchConcurrency:
		return usagef("--concurrency is %d; use 1 to %d", f.concurrency, maxBenchConcurrency)
	case f.duration <= 0 || f.duration > maxBenchDuration:
		return usagef("--duration is %s; use more than 0 and at most %s", f.duration, maxBenchDuration)
	case f.progress < 0:
		return usagef("--progress is %s; use 0 to turn it off or a positive interval", f.progress)
	case f.get.api != "v2" && f.get.api != "v3":
		return usagef("--api is %q; use v2 or v3", f.get.api)
	}
	f.embeddedMode = f.get.baseURL == ""
	if f.embeddedMode {
		return nil
	}
	loopback, err := isLoopbackURL(f.get.baseURL)
	if err != nil {
		return usagef("--base-url: %v", err)
	}
	if !loopback && !f.allowRemote {
		return usagef("--base-url %s is not a loopback address; every successful call mints credentials there, so pass --allow-remote if that is intended", f.get.baseURL)
	}
	return nil
}

// isLoopbackURL reports whether rawURL names localhost or a loopback IP address.
func isLoopbackURL(rawURL string) (bool, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false, err
	}
	if u.Host == "" {
		return false, fmt.Errorf("%q has no host; write it as http://127.0.0.1:PORT", rawURL)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// newClient returns the client to load and a description of its target. Without
// --base-url it starts a sandbox with a fresh merchant on 127.0.0.1 and ignores the
// credentials in the environment, so a run never reaches CyberSource by accident.
func (f *benchFlags) newClient(ctx context.Context, a *app) (*tokenapi.Client, string, func(), error) {
	if !f.embeddedMode {
		if f.decrypt && len(f.get.mleKeys) == 0 && a.getenv(envMLEKeyFile) == "" {
			return nil, "", nil, usagef("--decrypt needs the MLE private key: pass --mle-key FILE or set %s", envMLEKeyFile)
		}
		// Without --decrypt no MLE key is needed, as for `paycreds get --raw`.
		f.get.raw = !f.decrypt
		client, err := f.get.newClient(a)
		if err != nil {
			return nil, "", nil, err
		}
		return client, f.get.baseURL, func() {}, nil
	}

	merchant, mleKey, err := sandbox.GenerateMerchant("paycreds_bench")
	if err != nil {
		return nil, "", nil, err
	}
	// The sandbox shares content keys and remembers validated requests, so that its own
	// CPU time per call stays below the client's.
	server, err := sandbox.New(sandbox.Config{
		Merchants:           []sandbox.Merchant{merchant},
		Tokens:              sandbox.DemoTokens(),
		ContentKeyReuse:     benchContentKeyReuse,
		ValidationCacheSize: 1024,
	})
	if err != nil {
		return nil, "", nil, err
	}
	baseURL, stop, err := serveLoopback(ctx, server)
	if err != nil {
		return nil, "", nil, err
	}
	client, err := tokenapi.New(
		tokenapi.WithBaseURL(baseURL),
		tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, merchant.SecretKey),
		tokenapi.WithMLEKey(mleKey),
		tokenapi.WithTimeout(f.get.timeout),
	)
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	return client, baseURL + " (embedded sandbox)", stop, nil
}

func startCPUProfile(path string) (func(), error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, usagef("--cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(file); err != nil {
		file.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		file.Close()
	}, nil
}

// benchLoad is one run of the load generator.
type benchLoad struct {
	client      *tokenapi.Client
	tokenID     string
	request     *tokenapi.PaymentCredentialsRequest
	v3          bool
	decrypt     bool
	calls       int64
	concurrency int
	duration    time.Duration

	progress         func(benchProgress)
	progressInterval time.Duration
}

// benchProgress is a snapshot of a run for the progress line.
type benchProgress struct {
	elapsed   time.Duration
	completed int64
	failed    int64
	heapBytes uint64
}

// benchWorker is the state one goroutine of the load keeps to itself.
type benchWorker struct {
	latencies latencyHistogram
	errors    map[string]int64
}

// run sends calls from f.concurrency goroutines until f.calls have started, f.duration
// has passed or ctx is done. Calls in flight at the end of the duration are completed;
// calls in flight when ctx is done are canceled and counted as errors.
func (l *benchLoad) run(ctx context.Context) benchResult {
	heapStart := heapInUse()
	cpuStart, cpuOK := processCPUTime()
	start := time.Now()
	deadline := start.Add(l.duration)

	var started, completed, failed atomic.Int64
	workers := make([]benchWorker, l.concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.errors = map[string]int64{}
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && started.Add(1) <= l.calls {
				callStart := time.Now()
				err := l.call(ctx)
				if err != nil {
					w.errors[classifyBenchError(err)]++
					failed.Add(1)
				} else {
					w.latencies.record(time.Since(callStart))
				}
				completed.Add(1)
			}
		})
	}

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	l.reportProgress(done, start, &completed, &failed)

	elapsed := time.Since(start)
	result := benchResult{
		Concurrency:     l.concurrency,
		Completed:       completed.Load(),
		Failed:          failed.Load(),
		Elapsed:         elapsed,
		Errors:          map[string]int64{},
		HeapStartBytes:  heapStart,
		HeapEndBytes:    heapInUse(),
		CPUTimeMeasured: cpuOK,
	}
	var latencies latencyHistogram
	for i := range workers {
		latencies.merge(&workers[i].latencies)
		for kind, n := range workers[i].errors {
			result.Errors[kind] += n
		}
	}
	result.Succeeded = result.Completed - result.Failed
	if cpuEnd, ok := processCPUTime(); ok && cpuOK {
		result.CPUTime = cpuEnd - cpuStart
	}
	result.summarize(&latencies)
	return result
}

// reportProgress calls l.progress every l.progressInterval until done is closed.
func (l *benchLoad) reportProgress(done <-chan struct{}, start time.Time, completed, failed *atomic.Int64) {
	if l.progress == nil {
		<-done
		return
	}
	ticker := time.NewTicker(l.progressInterval)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
			l.progress(benchProgress{
				elapsed:   time.Since(start),
				completed: completed.Load(),
				failed:    failed.Load(),
				heapBytes: heapInUse(),
			})
		}
	}
}

func (l *benchLoad) call(ctx context.Context) error {
	var err error
	switch {
	case l.decrypt && l.v3:
		_, err = l.client.GeneratePaymentCredentialsV3(ctx, l.tokenID, l.request)
	case l.decrypt:
		_, err = l.client.GeneratePaymentCredentials(ctx, l.tokenID, l.request)
	case l.v3:
		_, err = l.client.GeneratePaymentCredentialsV3JWE(ctx, l.tokenID, l.request)
	default:
		_, err = l.client.GeneratePaymentCredentialsJWE(ctx, l.tokenID, l.request)
	}
	return err
}

// classifyBenchError returns the kind under which err is counted: the HTTP status and
// CyberSource error type of an API error, or the sentinel a local failure wraps.
func classifyBenchError(err error) string {
	var apiErr *tokenapi.APIError
	var decryptErr *tokenapi.DecryptError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.Type != "" {
			return fmt.Sprintf("HTTP %d %s", apiErr.StatusCode, apiErr.Type)
		}
		return fmt.Sprintf("HTTP %d", apiErr.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &decryptErr):
		return "decryption: " + decryptErr.Reason.Error()
	case errors.Is(err, tokenapi.ErrResponseTooLarge):
		return "response too large"
	case errors.Is(err, tokenapi.ErrInvalidRequest):
		return "invalid request"
	case errors.Is(err, tokenapi.ErrTransport):
		return "transport"
	}
	return "other"
}
