package tokenapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the retries of one call. WithRetry turns retries on; without it a
// Client makes one attempt per call.
//
// A call is retried only after a failure that means the request was not processed:
//   - the status is 429 Too Many Requests, 502 Bad Gateway, 503 Service Unavailable or
//     504 Gateway Timeout;
//   - the connection failed before the request was sent: the dial was refused or reset,
//     the proxy rejected the CONNECT, or the TLS handshake failed for a reason other
//     than the server's certificate. A host name that does not resolve is not retried.
//
// Nothing else is retried. A 4xx other than 429 would fail again. A connection that
// broke after the request was written, a response cut mid-body and a timed-out attempt
// may each have minted credentials at CyberSource, so they are returned to the caller
// instead. A 502 or 504 from a gateway can hide a request that did reach the token
// service, so a retry after one may mint credentials a second time.
//
// Each successful call mints a new cryptogram or dynamic CVV. Retrying is therefore safe,
// because a cryptogram that is never used in an authorization authorizes nothing, but not
// free: each one is a new request that CyberSource and the card network's token service
// process.
//
// Every attempt builds the request anew and signs it, so it carries its own date, digest
// and signature. Zero fields take the values of
// DefaultRetryPolicy.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts, the first included. 1 turns retries off.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry. Each later wait doubles, up to
	// MaxBackoff. The wait is drawn at random from the upper half of that value (jitter),
	// so clients that failed together do not retry together.
	InitialBackoff time.Duration
	// MaxBackoff caps the computed wait.
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait that a Retry-After response header requests, in seconds
	// or as an HTTP date. When the header is present, its value replaces the computed wait.
	MaxRetryAfter time.Duration
	// Budget is the time from the start of the call within which a retry may start. A
	// retry whose wait would end after Budget, or after the context's deadline, is not
	// made, and the last error is returned at once. An attempt in flight is not cut short
	// by Budget, because it may already have minted credentials, so a call can take up to
	// Budget plus the per-attempt timeout (WithTimeout).
	Budget time.Duration
}

// maxRetryAttempts is the largest RetryPolicy.MaxAttempts accepted, so that a typo cannot
// make one call send dozens of requests.
const maxRetryAttempts = 10

// DefaultRetryPolicy returns the policy that WithRetry(RetryPolicy{}) uses: 3 attempts,
// waits of 100 to 200 ms and then 200 to 400 ms, at most 10 s for a Retry-After, and a
// budget of 15 s.
//
// NOTE: CyberSource does not document rate limits or a retry interval for these
// operations. These values are choices that keep a failed call within a few seconds of
// extra latency, not figures from CyberSource.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:    3,
		InitialBackoff: 200 * time.Millisecond,
		MaxBackoff:     2 * time.Second,
		MaxRetryAfter:  10 * time.Second,
		Budget:         15 * time.Second,
	}
}

// WithRetry retries failed attempts as policy allows; see RetryPolicy for which failures
// are retried and why retrying mints no duplicate credentials in most cases. Zero fields
// of policy take the values of DefaultRetryPolicy, so WithRetry(tokenapi.RetryPolicy{})
// turns the defaults on. Each retry is logged at info level to the WithLogger logger.
func WithRetry(policy RetryPolicy) Option {
	return func(s *settings) error {
		resolved, err := policy.resolve()
		if err != nil {
			return err
		}
		s.retry = resolved
		return nil
	}
}

// resolve fills zero fields with the defaults and checks the result.
func (p RetryPolicy) resolve() (RetryPolicy, error) {
	defaults := DefaultRetryPolicy()
	fields := []struct {
		name  string
		value *time.Duration
		zero  time.Duration
	}{
		{"InitialBackoff", &p.InitialBackoff, defaults.InitialBackoff},
		{"MaxBackoff", &p.MaxBackoff, defaults.MaxBackoff},
		{"MaxRetryAfter", &p.MaxRetryAfter, defaults.MaxRetryAfter},
		{"Budget", &p.Budget, defaults.Budget},
	}
	for _, f := range fields {
		if *f.value < 0 {
			return p, fmt.Errorf("%w: RetryPolicy.%s is %v; use a positive duration, or 0 for the default", ErrInvalidOption, f.name, *f.value)
		}
		if *f.value == 0 {
			*f.value = f.zero
		}
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = defaults.MaxAttempts
	}
	if p.MaxAttempts < 0 || p.MaxAttempts > maxRetryAttempts {
		return p, fmt.Errorf("%w: RetryPolicy.MaxAttempts is %d; use 1 to %d", ErrInvalidOption, p.MaxAttempts, maxRetryAttempts)
	}
	if p.MaxBackoff < p.InitialBackoff {
		return p, fmt.Errorf("%w: RetryPolicy.MaxBackoff %v is below InitialBackoff %v", ErrInvalidOption, p.MaxBackoff, p.InitialBackoff)
	}
	return p, nil
}

// noRetry is the policy of a Client without WithRetry.
var noRetry = RetryPolicy{MaxAttempts: 1}

// retryableStatus reports whether a response status is retried: the statuses that mean
// the request was not processed and may succeed later.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isConnectFailure reports whether err, from an attempt that never got a connection,
// is a network failure that may pass: a refused or reset dial, a failed proxy CONNECT,
// or a TLS handshake cut short. A certificate the client rejects, a server that does
// not speak TLS and a host name that does not resolve would fail again, so they are
// not retried.
func isConnectFailure(err error) bool {
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &certErr), errors.As(err, &recordErr):
		return false
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return false
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}

// backoff returns the wait before the retry that follows failed attempt number attempt
// (1 for the first): InitialBackoff doubled per earlier retry, capped at MaxBackoff, and
// drawn at random from the upper half of that value.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	wait := p.InitialBackoff
	for i := 1; i < attempt && wait < p.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, p.MaxBackoff)
	half := wait / 2
	return half + rand.N(wait-half+1) //nolint:gosec // jitter spreads retries; it needs no cryptographic randomness
}

// maxRetryAfterSeconds bounds the parsed Retry-After, in seconds or as a date far in the
// future, so that converting it to a time.Duration cannot overflow. It is far above any
// sensible MaxRetryAfter.
const maxRetryAfterSeconds = 1 << 20

// parseRetryAfter reads a Retry-After header value: a number of seconds, or an HTTP date
// taken relative to now. A date in the past is a wait of zero. ok is false when the value
// is missing or unreadable.
func parseRetryAfter(value string, now time.Time) (wait time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if value[0] >= '0' && value[0] <= '9' {
		seconds, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			// All digits but too long for uint64 is still a wait longer than any cap.
			if errors.Is(err, strconv.ErrRange) {
				return maxRetryAfterSeconds * time.Second, true
			}
			return 0, false
		}
		return time.Duration(min(seconds, maxRetryAfterSeconds)) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return min(max(at.Sub(now), 0), maxRetryAfterSeconds*time.Second), true
}

// retryCause describes a failed attempt that may be retried.
type retryCause struct {
	reason        string        // for the log, such as "503 Service Unavailable"
	retryAfter    time.Duration // the Retry-After wait, when hasRetryAfter
	hasRetryAfter bool
	correlationID string
}

// retryWait returns the wait before the next attempt, or ok false when no retry may be
// made: attempts are used up, or the wait would end after the budget or the context's
// deadline. skipped explains a refusal for the log; it is empty when attempts ran out.
func (p RetryPolicy) retryWait(ctx context.Context, callStart time.Time, attempt int, cause *retryCause) (wait time.Duration, skipped string, ok bool) {
	if attempt >= p.MaxAttempts {
		return 0, "", false
	}
	wait = p.backoff(attempt)
	if cause.hasRetryAfter {
		wait = min(cause.retryAfter, p.MaxRetryAfter)
	}
	resume := time.Now().Add(wait)
	if resume.Sub(callStart) > p.Budget {
		return 0, fmt.Sprintf("the wait of %v would pass the retry budget of %v", wait, p.Budget), false
	}
	if deadline, hasDeadline := ctx.Deadline(); hasDeadline && resume.After(deadline) {
		return 0, fmt.Sprintf("the wait of %v would pass the context deadline", wait), false
	}
	return wait, "", true
}

// sleep waits for d or until ctx ends, and returns ctx.Err() in the second case.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logRetry records a retry at info level. It names the token by its masked id only.
func (c *Client) logRetry(ctx context.Context, operation, tokenID string, attempt int, cause *retryCause, wait time.Duration) {
	if c.logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("operation", operation),
		slog.String("host", c.host),
		slog.String("token", maskTokenID(tokenID)),
		slog.Int("attempt", attempt),
		slog.Int("max_attempts", c.retry.MaxAttempts),
		slog.String("reason", cause.reason),
		slog.Duration("delay", wait),
	}
	if cause.hasRetryAfter {
		attrs = append(attrs, slog.Duration("retry_after", cause.retryAfter))
	}
	if cause.correlationID != "" {
		attrs = append(attrs, slog.String("correlation_id", cause.correlationID))
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "tokenapi retry", attrs...)
}

// logRetrySkipped records, at info level, a retryable failure that is returned because
// no time was left for another attempt.
func (c *Client) logRetrySkipped(ctx context.Context, operation, tokenID string, attempt int, cause *retryCause, skipped string) {
	if c.logger == nil {
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "tokenapi retry skipped",
		slog.String("operation", operation),
		slog.String("host", c.host),
		slog.String("token", maskTokenID(tokenID)),
		slog.Int("attempt", attempt),
		slog.String("reason", cause.reason),
		slog.String("skipped", skipped),
	)
}
