package tokenapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// exchange sends a validated call, retrying it as c.retry allows, and returns the JWE of
// the 201 response.
func (c *Client) exchange(ctx context.Context, version apiVersion, tokenID string, request *PaymentCredentialsRequest, call callSettings) (*EncryptedPaymentCredentials, error) {
	operation := version.operation()
	callStart := time.Now()
	for attempt := 1; ; attempt++ {
		result, cause, err := c.attempt(ctx, version, tokenID, request, call, attempt)
		if cause == nil {
			return result, countAttempts(err, attempt)
		}

		wait, skipped, ok := c.retry.retryWait(ctx, callStart, attempt, cause)
		if !ok {
			if skipped != "" {
				c.logRetrySkipped(ctx, operation, tokenID, attempt, cause, skipped)
			}
			return nil, countAttempts(err, attempt)
		}
		c.logRetry(ctx, operation, tokenID, attempt, cause, wait)
		if ctxErr := sleep(ctx, wait); ctxErr != nil {
			return nil, fmt.Errorf("tokenapi: %s for token %s: waiting to retry after attempt %d failed (%s): %w",
				operation, maskTokenID(tokenID), attempt, cause.reason, ctxErr)
		}
	}
}

// attempt sends the call once, bounded by the client's timeout, and reads the response.
// cause is set when the failure may be retried.
func (c *Client) attempt(ctx context.Context, version apiVersion, tokenID string, request *PaymentCredentialsRequest, call callSettings, attempt int) (result *EncryptedPaymentCredentials, cause *retryCause, err error) {
	attemptCtx := ctx
	if c.timeout > 0 && !endsWithin(ctx, c.timeout) {
		var cancel context.CancelFunc
		attemptCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	// GotConn marks the point after which bytes of the request may reach the server. Only
	// the retry decision reads it, so the last attempt of a call goes without the trace.
	var connection *connectionTrace
	sendCtx := attemptCtx
	if attempt < c.retry.MaxAttempts {
		connection = &connectionTrace{}
		sendCtx = httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{GotConn: connection.gotConn})
	}

	operation := version.operation()
	start := time.Now()
	resp, sendErr := c.send(sendCtx, version, tokenID, request, call)
	if sendErr != nil {
		err = c.attemptError(ctx, attemptCtx, operation, tokenID, 0, sendErr)
		c.logCall(ctx, operation, 0, nil, start, err, attempt)
		// NOTE: an attempt whose timeout ran out before it got a connection sent nothing,
		// but it is not retried: only the network errors of isConnectFailure are.
		if connection != nil && ctx.Err() == nil && attemptCtx.Err() == nil && !connection.connected.Load() && isConnectFailure(sendErr) {
			cause = &retryCause{reason: "connection failed before the request was sent: " + unwrapURLError(sendErr).Error()}
		}
		return nil, cause, err
	}
	defer resp.Body.Close()

	result, err = c.readResponse(attemptCtx, operation, tokenID, resp)
	if err == nil {
		c.logCall(ctx, operation, resp.StatusCode, resp.Header, start, nil, attempt)
		return result, nil, nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = c.attemptError(ctx, attemptCtx, operation, tokenID, resp.StatusCode, err)
	}
	c.logCall(ctx, operation, resp.StatusCode, resp.Header, start, err, attempt)
	return nil, retryCauseOf(err, attempt, resp.Header), err
}

// connectionTrace records whether an attempt got a connection.
type connectionTrace struct {
	connected atomic.Bool
}

func (t *connectionTrace) gotConn(httptrace.GotConnInfo) { t.connected.Store(true) }

// retryCauseOf sets the attempt count of an *APIError and returns the retry cause when
// its status may be retried. header is the response's.
func retryCauseOf(err error, attempt int, header http.Header) *retryCause {
	apiErr, isAPIError := errors.AsType[*APIError](err)
	if !isAPIError {
		return nil
	}
	apiErr.Attempts = attempt
	if !retryableStatus(apiErr.StatusCode) {
		return nil
	}
	cause := &retryCause{reason: fmt.Sprintf("%d %s", apiErr.StatusCode, http.StatusText(apiErr.StatusCode)), correlationID: apiErr.CorrelationID}
	cause.retryAfter, cause.hasRetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	return cause
}

// endsWithin reports whether the deadline of ctx is at most d away. A timeout of d would
// then never fire first, so an attempt needs no context of its own.
func endsWithin(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) <= d
}

// attemptError describes a failed attempt. When the client's own timeout ended it, the
// error names the timeout and wraps context.DeadlineExceeded. status is 0 when no
// response arrived, and transportError then describes err. Otherwise the failure came
// while reading the body, and err, from readResponse, is returned as it is.
func (c *Client) attemptError(ctx, attemptCtx context.Context, operation, tokenID string, status int, err error) error {
	if ctx.Err() == nil && attemptCtx.Err() != nil {
		waiting := "no response arrived"
		if status != 0 {
			waiting = fmt.Sprintf("the %d response body did not arrive whole", status)
		}
		return fmt.Errorf("tokenapi: %s for token %s: %s within the timeout of %v (set with WithTimeout): %w",
			operation, maskTokenID(tokenID), waiting, c.timeout, context.DeadlineExceeded)
	}
	if status != 0 {
		return err
	}
	return c.transportError(ctx, operation, tokenID, err)
}

// readError describes a failure to read the body of a response whose status and headers
// arrived.
func (c *Client) readError(ctx context.Context, operation, tokenID string, resp *http.Response, err error) error {
	if ctx.Err() != nil {
		return c.transportError(ctx, operation, tokenID, err)
	}
	return &IncompleteResponseError{
		Operation:     operation,
		StatusCode:    resp.StatusCode,
		CorrelationID: sanitizeHeader(resp.Header.Get("v-c-correlation-id")),
		Err:           unwrapURLError(err),
		tokenID:       maskTokenID(tokenID),
	}
}

// unwrapURLError returns the cause of a *url.Error, whose own message repeats the URL
// and so the whole token id.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// countAttempts adds the number of attempts to the message of an error that ended a
// call of several attempts. An *APIError carries the count in its Attempts field.
func countAttempts(err error, attempts int) error {
	if err == nil || attempts == 1 {
		return err
	}
	if _, isAPIError := errors.AsType[*APIError](err); isAPIError {
		return err
	}
	return fmt.Errorf("%w (after %d attempts)", err, attempts)
}

// IncompleteResponseError reports a response whose status and headers arrived but whose
// body did not: the connection closed or failed mid-body. errors.Is(err, ErrTransport) is
// true. After a 201, CyberSource minted credentials that were lost, so the call is never
// retried; a new call mints new ones.
type IncompleteResponseError struct {
	// Operation is the operationId called.
	Operation string
	// StatusCode is the status of the response, such as 201.
	StatusCode int
	// CorrelationID is the v-c-correlation-id response header.
	CorrelationID string
	// Err is the read error, such as io.ErrUnexpectedEOF.
	Err error

	tokenID string // masked
}

// Error returns the operation, the masked token id, the status and the cause.
func (e *IncompleteResponseError) Error() string {
	msg := fmt.Sprintf("%v: %s for token %s: the %d %s response body was cut off: %v",
		ErrTransport, e.Operation, e.tokenID, e.StatusCode, http.StatusText(e.StatusCode), e.Err)
	if e.StatusCode == http.StatusCreated {
		msg += "; CyberSource minted credentials that did not arrive"
	}
	if e.CorrelationID != "" {
		msg += " [correlation id " + e.CorrelationID + "]"
	}
	return msg
}

// Unwrap returns ErrTransport and the read error.
func (e *IncompleteResponseError) Unwrap() []error { return []error{ErrTransport, e.Err} }

// CloseIdleConnections closes the connections of the Client's transport that are idle,
// as http.Client.CloseIdleConnections does. Calls in flight are not affected, and later
// calls open new connections.
func (c *Client) CloseIdleConnections() {
	c.httpClient.CloseIdleConnections()
}
