package sandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paycreds/tms/gen"
)

// FaultHeader is the request header that selects a fault for one request, such as
// "X-Paycreds-Fault: status=503". It is a control of this sandbox only: CyberSource's API
// does not know the header and ignores it.
const FaultHeader = "X-Paycreds-Fault"

// FaultKind is the kind of fault: a response sent in place of the sandbox's, or a way of
// corrupting it.
type FaultKind string

// Fault kinds. The README's fault table describes the bytes each one sends.
const (
	// FaultStatus responds with Fault.Status (500 to 599) and CyberSource's
	// internalError body.
	FaultStatus FaultKind = "status"
	// FaultCloseMidBody sends the status, the headers with the full Content-Length and the
	// first half of the body, then closes the connection.
	FaultCloseMidBody FaultKind = "close-mid-body"
	// FaultTruncatedJWE sends a 201 whose body is the first half of the JWE.
	FaultTruncatedJWE FaultKind = "truncated-jwe"
	// FaultMalformedJWE sends a 201 whose JWE has five parts but a protected header that
	// is not valid JSON.
	FaultMalformedJWE FaultKind = "malformed-jwe"
	// FaultTamperedJWE sends a 201 whose JWE parses but has one bit of its
	// authentication tag flipped, so decryption fails.
	FaultTamperedJWE FaultKind = "tampered-jwe"
	// FaultHTMLError responds with 502 and an HTML page, as a proxy in front of the API
	// does, without CyberSource's headers.
	FaultHTMLError FaultKind = "html-error"
	// FaultOversizedBody responds with 201 and a body of OversizedBodyBytes bytes.
	FaultOversizedBody FaultKind = "oversized-body"
)

// faultKinds lists every FaultKind in the order error messages name them.
var faultKinds = []FaultKind{
	FaultStatus, FaultCloseMidBody, FaultTruncatedJWE, FaultMalformedJWE,
	FaultTamperedJWE, FaultHTMLError, FaultOversizedBody,
}

// Limits of faults.
const (
	// MaxFaultLatency is the longest latency a fault may add.
	MaxFaultLatency = time.Minute
	// OversizedBodyBytes is the size of the body FaultOversizedBody sends: far above the
	// few kilobytes of a real response, and 256 times tokenapi's default response limit.
	OversizedBodyBytes = 16 << 20
)

// ErrInvalidFault marks a fault that ParseFault, New or AddToken rejects.
var ErrInvalidFault = errors.New("invalid fault")

// Fault is a failure the sandbox injects into its response to an authenticated, valid
// request. A request that fails authentication (401) or validation (400) gets its normal
// response, so a fault test also proves that the client signs and builds requests
// correctly. The zero Fault injects nothing.
type Fault struct {
	// Latency delays the response. Zero means no delay.
	Latency time.Duration
	// Kind replaces or corrupts the response. Empty means the normal response.
	Kind FaultKind
	// Status is the status code of a FaultStatus response, 500 to 599.
	Status int
	// Times limits a token's fault to the first Times requests for the token, so a
	// retry can succeed. Zero means every request. A FaultHeader fault must not set it.
	Times int
}

// ParseFault parses the text form of a fault: comma-separated items, each
// latency=DURATION (Go syntax, such as 200ms), status=CODE, times=N, or one of the kinds
// close-mid-body, truncated-jwe, malformed-jwe, tampered-jwe, html-error and
// oversized-body. At most one kind may be given, and latency combines with any of them,
// as in "latency=2s,status=503". An empty string is the zero Fault.
func ParseFault(text string) (Fault, error) {
	var f Fault
	if strings.TrimSpace(text) == "" {
		return f, nil
	}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(text, ",") {
		name, value, hasValue := strings.Cut(strings.TrimSpace(item), "=")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if seen[name] {
			return Fault{}, fmt.Errorf("%w %q: %s is given twice; give it once", ErrInvalidFault, text, name)
		}
		seen[name] = true

		var err error
		switch name {
		case "latency":
			f.Latency, err = parseLatency(value)
		case "times":
			f.Times, err = parseTimes(value)
		case string(FaultStatus):
			err = f.setKind(FaultStatus)
			if err == nil {
				f.Status, err = parseFaultStatus(value)
			}
		default:
			kind := FaultKind(name)
			if !isFaultKind(kind) || kind == FaultStatus {
				return Fault{}, fmt.Errorf("%w %q: unknown item %q; use latency=DURATION, status=CODE, times=N or one of %s",
					ErrInvalidFault, text, strings.TrimSpace(item), kindList())
			}
			if hasValue {
				return Fault{}, fmt.Errorf("%w %q: %s takes no value; write it without '='", ErrInvalidFault, text, name)
			}
			err = f.setKind(kind)
		}
		if err != nil {
			return Fault{}, fmt.Errorf("%w %q: %w", ErrInvalidFault, text, err)
		}
	}
	if f.Times > 0 && f.Kind == "" && f.Latency == 0 {
		return Fault{}, fmt.Errorf("%w %q: times=%d limits nothing; add a latency or a kind", ErrInvalidFault, text, f.Times)
	}
	return f, nil
}

func (f *Fault) setKind(kind FaultKind) error {
	if f.Kind != "" {
		return fmt.Errorf("both %s and %s are given; a fault has at most one kind", f.Kind, kind)
	}
	f.Kind = kind
	return nil
}

func parseLatency(value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("latency %q is not a duration; write it like 200ms or 2s", value)
	}
	if d <= 0 || d > MaxFaultLatency {
		return 0, fmt.Errorf("latency %s is not between 0 and %s", d, MaxFaultLatency)
	}
	return d, nil
}

func parseFaultStatus(value string) (int, error) {
	code, err := strconv.Atoi(value)
	if err != nil || code < 500 || code > 599 {
		return 0, fmt.Errorf("status %q is not a code from 500 to 599; write it like status=503", value)
	}
	return code, nil
}

func parseTimes(value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("times %q is not a positive whole number; write it like times=2", value)
	}
	return n, nil
}

func isFaultKind(kind FaultKind) bool {
	for _, k := range faultKinds {
		if k == kind {
			return true
		}
	}
	return false
}

func kindList() string {
	var names []string
	for _, k := range faultKinds[1:] {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// String returns the text form that ParseFault reads, or "" for the zero Fault.
func (f Fault) String() string {
	var items []string
	if f.Latency > 0 {
		items = append(items, "latency="+f.Latency.String())
	}
	switch f.Kind {
	case "":
	case FaultStatus:
		items = append(items, "status="+strconv.Itoa(f.Status))
	default:
		items = append(items, string(f.Kind))
	}
	if f.Times > 0 {
		items = append(items, "times="+strconv.Itoa(f.Times))
	}
	return strings.Join(items, ",")
}

// IsZero reports whether f injects nothing.
func (f Fault) IsZero() bool { return f == Fault{} }

// validate checks a Fault built in code, as ParseFault checks text.
func (f Fault) validate() error {
	if f.IsZero() {
		return nil
	}
	_, err := ParseFault(f.String())
	switch {
	case err != nil:
		return err
	case f.Kind != FaultStatus && f.Status != 0:
		return fmt.Errorf("%w: Status %d is set but Kind is %q; set Kind to %s", ErrInvalidFault, f.Status, f.Kind, FaultStatus)
	case f.Latency < 0 || f.Times < 0:
		return fmt.Errorf("%w: Latency %s or Times %d is negative", ErrInvalidFault, f.Latency, f.Times)
	}
	return nil
}

// altersJWE reports whether the fault corrupts the JWE of a 201 response.
func (f Fault) altersJWE() bool {
	return f.Kind == FaultTruncatedJWE || f.Kind == FaultMalformedJWE || f.Kind == FaultTamperedJWE
}

// faultFor returns the fault for an authenticated, valid request: the FaultHeader's
// fault when the request carries the header, else the token's fault while its Times
// allow. token is nil when no token has the requested id.
func faultFor(r *http.Request, token *tokenState) (Fault, error) {
	if values := r.Header.Values(FaultHeader); len(values) > 0 {
		if len(values) > 1 {
			return Fault{}, fmt.Errorf("%w: the %s header is sent %d times; send it once, with items separated by commas", ErrInvalidFault, FaultHeader, len(values))
		}
		f, err := ParseFault(values[0])
		if err != nil {
			return Fault{}, err
		}
		if f.Times != 0 {
			return Fault{}, fmt.Errorf("%w %q: times applies only to a token's fault; the header applies to its own request", ErrInvalidFault, values[0])
		}
		return f, nil
	}
	if token == nil || token.Fault.IsZero() {
		return Fault{}, nil
	}
	if token.Fault.Times > 0 && token.faultsInjected.Add(1) > uint64(token.Fault.Times) {
		return Fault{}, nil
	}
	return token.Fault, nil
}

// invalidFaultResponse is the 400 for a FaultHeader value that ParseFault rejects. Its
// message names the value and how to fix it.
func invalidFaultResponse(err error) response {
	body := gen.ErrorResponse{Errors: []gen.Error{{
		Type:    "invalidHeaders",
		Message: err.Error(),
		Details: []gen.ErrorDetail{{Name: FaultHeader, Location: "header"}},
	}}}
	return jsonResponse(http.StatusBadRequest, body, "invalidHeaders")
}

// wait blocks for the fault's latency or until ctx ends.
func (f Fault) wait(ctx context.Context) {
	if f.Latency <= 0 {
		return
	}
	timer := time.NewTimer(f.Latency)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// replacement returns the response that the fault sends in place of the sandbox's own,
// and false for a fault that only delays or corrupts that response.
func (f Fault) replacement() (response, bool) {
	switch f.Kind {
	case FaultStatus:
		return serverErrorResponse(f.Status), true
	case FaultHTMLError:
		return response{
			status:      http.StatusBadGateway,
			contentType: "text/html; charset=utf-8",
			body:        []byte(htmlErrorPage),
			fromProxy:   true,
		}, true
	case FaultOversizedBody:
		return response{status: http.StatusCreated, contentType: contentTypeJOSE, oversized: true}, true
	}
	return response{}, false
}

// serverErrorResponse is CyberSource's body for a 5xx. The OpenAPI document declares 500
// and 502 with type internalError; other 5xx codes break it on purpose.
func serverErrorResponse(status int) response {
	message := "The service had an unexpected error. Try again later"
	if status == http.StatusBadGateway {
		message = "The network token service returned an unexpected error"
	}
	return errorResponse(status, "internalError", message)
}

// htmlErrorPage is the page that a proxy or load balancer in front of the API sends when
// the API does not respond.
const htmlErrorPage = `<!DOCTYPE html>
<html>
<head><title>502 Bad Gateway</title></head>
<body>
<h1>502 Bad Gateway</h1>
<p>The server did not receive a valid answer from the upstream server.</p>
</body>
</html>
`

// alter corrupts the sandbox's own response as the fault's kind requires. JWE faults
// leave responses other than 201 unchanged.
func (f Fault) alter(resp response) response {
	switch {
	case f.Kind == FaultCloseMidBody:
		resp.cutAfter = max(len(resp.body)/2, 1)
	case f.altersJWE() && resp.status == http.StatusCreated:
		resp.body = corruptJWE(f.Kind, resp.body)
	}
	return resp
}

// corruptJWE returns a copy of the compact JWE in body, corrupted in the way kind names.
func corruptJWE(kind FaultKind, body []byte) []byte {
	if kind == FaultTruncatedJWE {
		return bytes.Clone(body[:len(body)/2])
	}
	parts := strings.Split(string(body), ".")
	if len(parts) != 5 {
		// generate always returns a compact JWE, so this is unreachable.
		panic("sandbox: corrupt a JWE that does not have five parts")
	}
	switch kind {
	case FaultMalformedJWE:
		header, _ := base64.RawURLEncoding.DecodeString(parts[0])
		header = bytes.TrimSuffix(header, []byte("}"))
		parts[0] = base64.RawURLEncoding.EncodeToString(header)
	case FaultTamperedJWE:
		tag, _ := base64.RawURLEncoding.DecodeString(parts[4])
		tag[0] ^= 0x01
		parts[4] = base64.RawURLEncoding.EncodeToString(tag)
	}
	return []byte(strings.Join(parts, "."))
}

// errConnectionCut makes ServeHTTP close the connection once the request is logged.
var errConnectionCut = errors.New("connection closed mid-body by the close-mid-body fault")

// contentLength is the value of the Content-Length header of resp.
func (resp response) contentLength() int {
	if resp.oversized {
		return OversizedBodyBytes
	}
	return len(resp.body)
}

// writeBody writes the body of resp after the headers. For FaultCloseMidBody it writes
// the first part, flushes it and returns errConnectionCut.
func (resp response) writeBody(w http.ResponseWriter) error {
	switch {
	case resp.oversized:
		return writeOversizedBody(w)
	case resp.cutAfter > 0:
		if _, err := w.Write(resp.body[:resp.cutAfter]); err != nil {
			return err
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			return fmt.Errorf("flush the first half of the body: %w", err)
		}
		return errConnectionCut
	}
	_, err := w.Write(resp.body)
	return err
}

// writeOversizedBody streams OversizedBodyBytes of base64url characters without holding
// them in memory. It stops at the first write error, such as the client closing the
// connection once its own limit is reached.
func writeOversizedBody(w http.ResponseWriter) error {
	chunk := bytes.Repeat([]byte("A"), 32<<10)
	for written := 0; written < OversizedBodyBytes; written += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	return nil
}
