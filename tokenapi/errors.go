package tokenapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/paycreds/tms/gen"
)

// Sentinel errors. Errors returned by this package wrap one of them (or are an *APIError),
// so callers can branch with errors.Is and errors.As.
var (
	// ErrInvalidOption marks a problem with an Option passed to New.
	ErrInvalidOption = errors.New("tokenapi: invalid option")

	// ErrInvalidRequest marks input rejected before any request was sent. The error is a
	// *ValidationError naming each field at fault.
	ErrInvalidRequest = errors.New("tokenapi: invalid request")

	// ErrNoMLEKey means a call needs to decrypt but no MLE private key was configured.
	// The check runs before the request is sent, so no credentials are minted in vain.
	ErrNoMLEKey = errors.New("tokenapi: no MLE private key configured; add one with WithMLEKey or WithMLEKeys, or call a ...JWE method to get the JWE unopened")

	// ErrResponseTooLarge means a response body exceeded the size limit of the client.
	ErrResponseTooLarge = errors.New("tokenapi: response body too large")

	// ErrTransport marks a failure to send the request or read the response, such as a
	// refused connection or a connection closed mid-body. The request may or may not
	// have reached CyberSource.
	ErrTransport = errors.New("tokenapi: transport failure")
)

// APIError is a response from CyberSource with a status other than 201 Created. Match it
// with errors.As. Error bodies that are not CyberSource's JSON (an HTML page from a proxy,
// an empty body) still produce an APIError with the status and the raw body.
type APIError struct {
	// Operation is the operationId called, such as "postTokenPaymentCredentials".
	Operation string
	// StatusCode is the HTTP status, such as 404.
	StatusCode int
	// Type is CyberSource's error type of the first error, such as "notFound" or
	// "invalidFields". It is open text: CyberSource uses more values than it documents.
	// It is empty when the body is not a CyberSource error object.
	Type string
	// Message is CyberSource's explanation of the first error.
	Message string
	// Details names the fields at fault, on 400 responses, cleaned like Message.
	Details []ErrorDetail
	// Errors holds every error in the body; Type, Message and Details repeat the first.
	Errors []ErrorEntry
	// CorrelationID is the v-c-correlation-id response header; quote it to CyberSource support.
	CorrelationID string
	// UniqueTransactionID is the uniqueTransactionID response header.
	UniqueTransactionID string
	// ContentType is the Content-Type response header.
	ContentType string
	// Body is the raw response body, cut at MaxErrorBodyBytes.
	Body []byte
	// BodyTruncated reports whether Body was cut.
	BodyTruncated bool
	// Attempts is the number of attempts the call made, 1 without WithRetry.
	Attempts int

	tokenID string // masked
}

// ErrorDetail names one field at fault in a 400 response.
type ErrorDetail = gen.ErrorDetail

// MaxErrorBodyBytes is the number of bytes of an error body kept in APIError.Body.
const MaxErrorBodyBytes = 8 << 10

// Error returns the operation, the masked token id, the status, and CyberSource's error
// type, message and correlation id when present.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("tokenapi: ")
	b.WriteString(e.Operation)
	if e.tokenID != "" {
		b.WriteString(" for token ")
		b.WriteString(e.tokenID)
	}
	b.WriteString(": ")
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Type != "" || e.Message != "":
		if e.Type != "" {
			b.WriteString(": ")
			b.WriteString(e.Type)
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		for i, d := range e.Details {
			if i == 0 {
				b.WriteString(" (fields:")
			}
			b.WriteString(" ")
			b.WriteString(d.Name)
			if i == len(e.Details)-1 {
				b.WriteString(")")
			}
		}
	case e.StatusCode == http.StatusOK:
		b.WriteString(" (the operation answers 201 Created on success; an intermediary may have answered)")
	default:
		fmt.Fprintf(&b, " (%s body of %d bytes, not a CyberSource error object)", describeMediaType(e.ContentType), len(e.Body))
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.CorrelationID != "" {
		b.WriteString(" [correlation id ")
		b.WriteString(e.CorrelationID)
		b.WriteString("]")
	}
	return b.String()
}

func describeMediaType(contentType string) string {
	if contentType == "" {
		return "untyped"
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "unparseable content type"
	}
	return mediaType
}

// errorBody covers the error shapes CyberSource uses: TMS's {"errors":[…]}, the API
// gateway's {"response":{"rmsg":…}}, and the flat {"reason","message"} of other APIs.
type errorBody struct {
	Errors   []gen.Error       `json:"errors"`
	Response *gen.GatewayError `json:"response"`
	Reason   string            `json:"reason"`
	Message  string            `json:"message"`
}

// newAPIError builds an APIError from a non-201 response. body is what was read, at most
// the client's limit; truncated reports whether more was left unread.
func newAPIError(operation, maskedTokenID string, resp *http.Response, body []byte, truncated bool) *APIError {
	e := &APIError{
		Operation:           operation,
		StatusCode:          resp.StatusCode,
		CorrelationID:       sanitizeHeader(resp.Header.Get("v-c-correlation-id")),
		UniqueTransactionID: sanitizeHeader(resp.Header.Get("uniqueTransactionID")),
		ContentType:         sanitizeHeader(resp.Header.Get("Content-Type")),
		BodyTruncated:       truncated,
		tokenID:             maskedTokenID,
	}
	if len(body) > MaxErrorBodyBytes {
		body = body[:MaxErrorBodyBytes]
		e.BodyTruncated = true
	}
	e.Body = append([]byte(nil), body...)

	var parsed errorBody
	if truncated || json.Unmarshal(body, &parsed) != nil {
		return e
	}
	switch {
	case len(parsed.Errors) > 0:
		e.Errors = parsed.Errors
		e.Type = sanitizeText(parsed.Errors[0].Type)
		e.Message = sanitizeText(parsed.Errors[0].Message)
		e.Details = sanitizeDetails(parsed.Errors[0].Details)
	case parsed.Response != nil:
		e.Message = sanitizeText(parsed.Response.Rmsg)
	case parsed.Reason != "" || parsed.Message != "":
		e.Type = sanitizeText(parsed.Reason)
		e.Message = sanitizeText(parsed.Message)
	}
	return e
}

// sanitizeDetails returns a copy of details with names and locations made safe to print,
// because Error writes the names into the message.
func sanitizeDetails(details []ErrorDetail) []ErrorDetail {
	if details == nil {
		return nil
	}
	clean := make([]ErrorDetail, len(details))
	for i, d := range details {
		clean[i] = ErrorDetail{Name: sanitizeText(d.Name), Location: sanitizeText(d.Location)}
	}
	return clean
}

// maxTextLength bounds the strings from a response that go into error messages.
const maxTextLength = 512

// sanitizeText makes server-supplied text safe to print in one log line: it drops
// control characters and invalid UTF-8 and cuts the text at maxTextLength bytes.
func sanitizeText(s string) string {
	if len(s) > maxTextLength {
		s = s[:maxTextLength]
	}
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func sanitizeHeader(s string) string { return sanitizeText(s) }
