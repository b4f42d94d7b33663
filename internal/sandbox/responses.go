package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/spec"
)

// Content types of responses. 201 bodies are JWEs, every error body is JSON.
const (
	contentTypeJOSE = "application/jose;charset=utf-8"
	contentTypeJSON = "application/json"
)

// response is a status, content type and body for the Server to write. ServeHTTP adds
// the headers every response carries.
type response struct {
	status      int
	contentType string
	body        []byte
	errorType   string // the first error type in body, for Record
	allow       string // the Allow header of a 405

	// Set by faults.
	fromProxy bool // sent without CyberSource's headers, as a proxy in front of the API would
	oversized bool // the body is OversizedBodyBytes bytes, written by writeBody
	cutAfter  int  // when above zero, the connection is closed after this many body bytes
}

func jsonResponse(status int, value any, errorType string) response {
	body, err := json.Marshal(value)
	if err != nil {
		// The values are generated types of strings and slices, which always encode.
		panic("sandbox: encode error body: " + err.Error())
	}
	return response{status: status, contentType: contentTypeJSON, body: body, errorType: errorType}
}

// errorResponse returns CyberSource's error body with one error and no details.
func errorResponse(status int, errorType, message string) response {
	body := gen.ErrorResponse{Errors: []gen.Error{{Type: errorType, Message: message}}}
	return jsonResponse(status, body, errorType)
}

// unauthorizedResponse returns the body CyberSource's API gateway sends for every
// authentication failure, whatever the reason.
func unauthorizedResponse() response {
	body := gen.GatewayErrorResponse{Response: gen.GatewayError{Rmsg: "Authentication Failed"}}
	return jsonResponse(http.StatusUnauthorized, body, "")
}

// Error types of a 400 for a request that breaks the OpenAPI document, in the order they
// appear in the body.
var validationErrorTypes = []struct {
	errorType string
	message   string
}{
	{"missingHeaders", "The request is missing one or more required headers"},
	{"invalidHeaders", "One or more headers in the request contain invalid data"},
	{"missingFields", "The request is missing one or more required fields"},
	{"invalidFields", "One or more fields in the request contain invalid data"},
	{"invalidRequest", "Invalid HTTP Body"},
}

// validationResponse turns an error from spec.ValidateRequest into a 400 with one error
// per type, each listing its fields in details. A body that is missing, is not JSON or
// is not an object has no field to name, so it gets type invalidRequest.
func validationResponse(err error) response {
	details := map[string][]gen.ErrorDetail{}
	for _, f := range spec.FieldErrors(err) {
		errorType := validationErrorType(f)
		detail := gen.ErrorDetail{Name: f.Name, Location: f.Location}
		if errorType == "invalidRequest" {
			detail = gen.ErrorDetail{}
		}
		details[errorType] = append(details[errorType], detail)
	}

	var body gen.ErrorResponse
	for _, t := range validationErrorTypes {
		list, ok := details[t.errorType]
		if !ok {
			continue
		}
		e := gen.Error{Type: t.errorType, Message: t.message}
		for _, d := range list {
			if d != (gen.ErrorDetail{}) {
				e.Details = append(e.Details, d)
			}
		}
		body.Errors = append(body.Errors, e)
	}
	if len(body.Errors) == 0 {
		return errorResponse(http.StatusBadRequest, "invalidRequest", "The request does not match the API")
	}
	return jsonResponse(http.StatusBadRequest, body, body.Errors[0].Type)
}

func validationErrorType(f spec.FieldError) string {
	switch {
	case f.Location == spec.LocationBody && f.Name == "":
		return "invalidRequest"
	case f.Location == spec.LocationHeader && f.Kind == spec.FieldMissing:
		return "missingHeaders"
	case f.Location == spec.LocationHeader:
		return "invalidHeaders"
	case f.Kind == spec.FieldMissing:
		return "missingFields"
	}
	return "invalidFields"
}

// log writes one record per request. It never logs a body, a signature or a secret.
func (s *Server) log(ex *exchange, duration time.Duration) {
	rec := ex.record
	attrs := []any{
		"method", rec.Method,
		"path", ex.maskedPath,
		"status", rec.Status,
		"duration", duration,
		"correlation_id", rec.CorrelationID,
	}
	if rec.AuthError != nil {
		attrs = append(attrs, "reason", rec.AuthError.Error())
	}
	if rec.ErrorType != "" {
		attrs = append(attrs, "error_type", rec.ErrorType)
	}
	if rec.Fault != "" {
		attrs = append(attrs, "fault", rec.Fault)
	}

	switch {
	case rec.Fault != "":
		// A 5xx from a fault is what the client asked for, not a failure of the sandbox.
		s.logger.Info("sandbox request with an injected fault", attrs...)
	case rec.Status >= 500:
		s.logger.Error("sandbox request failed", attrs...)
	case rec.Status == http.StatusUnauthorized:
		s.logger.Warn("sandbox request not authenticated", attrs...)
	default:
		s.logger.Info("sandbox request", attrs...)
	}
}

// maxLoggedPath caps the length of a logged path.
const maxLoggedPath = 200

// maskPath returns the request path for logs with the token id masked. A path that
// matched no operation has each segment of eight or more characters that contains a
// digit masked, since it may still hold a token id.
func maskPath(r *http.Request, route spec.Route) string {
	if route.Path != "" {
		return strings.Replace(route.Path, "{tokenId}", maskTokenID(route.PathParams["tokenId"]), 1)
	}
	segments := strings.Split(r.URL.EscapedPath(), "/")
	for i, seg := range segments {
		if len(seg) >= 8 && strings.ContainsAny(seg, "0123456789") {
			segments[i] = "****"
		}
	}
	path := strings.Join(segments, "/")
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath] + "..."
	}
	return path
}

// maskTokenID keeps the last four characters of ids longer than eight characters and
// masks shorter ids entirely.
func maskTokenID(id string) string {
	if len(id) <= 8 {
		return "****"
	}
	return "****" + id[len(id)-4:]
}
