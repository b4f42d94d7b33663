package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// ContentTypeError reports a request Content-Type that the operation does not accept.
type ContentTypeError struct {
	ContentType string // the header value as received, "" when absent
}

func (e *ContentTypeError) Error() string {
	if e.ContentType == "" {
		return "header Content-Type is missing, expected application/json"
	}
	return fmt.Sprintf("header Content-Type %q is not accepted, expected application/json with no charset or charset utf-8", e.ContentType)
}

// ValidateRequest checks the route, parameters and body of r against the document, with
// body as the request body. It does not read r.Body. Security requirements are not
// checked, because the sandbox verifies signatures itself.
//
// The document declares the body as application/json;charset=utf-8, which kin-openapi
// matches only in that spelling or with the charset in another case. Real clients also
// send application/json with no parameter and "application/json; charset=utf-8" with a
// space, so any application/json whose only parameter is charset=utf-8 (in any case and
// spacing), or which has no parameter, is accepted as the declared type. Another media
// type or charset fails with a *ContentTypeError.
//
// The error is ErrPathNotFound, ErrMethodNotAllowed, or a validation error that
// FieldErrors turns into a list of fields.
func (s *Spec) ValidateRequest(r *http.Request, body []byte) error {
	matched, route, err := s.findRoute(r)
	if err != nil {
		return err
	}

	// kin-openapi reads, and may replace, the body and headers of the request it
	// validates, so it gets a copy.
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = nil

	options := &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	}

	// A body in a media type the operation does not accept cannot be checked against a
	// schema, so only its parameters are validated.
	var contentTypeErr error
	if requestBody := route.Operation.RequestBody; requestBody != nil && len(body) > 0 {
		received := r.Header.Get("Content-Type")
		if declared, ok := acceptedContentType(requestBody.Value.Content, received); ok {
			req.Header.Set("Content-Type", declared)
		} else {
			contentTypeErr = &ContentTypeError{ContentType: received}
			options.ExcludeRequestBody = true
		}
	}

	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: matched.PathParams,
		Route:      route,
		Options:    options,
	}
	validationErr := openapi3filter.ValidateRequest(req.Context(), input)
	return errors.Join(contentTypeErr, validationErr)
}

// acceptedContentType returns the key of content that the received Content-Type matches.
func acceptedContentType(content openapi3.Content, received string) (string, bool) {
	mediaType, params, err := mime.ParseMediaType(received)
	if err == nil && mediaType == "application/json" {
		charset, hasCharset := params["charset"]
		utf8JSON := len(params) == 0 || (len(params) == 1 && hasCharset && strings.EqualFold(charset, "utf-8"))
		if utf8JSON {
			for key := range content {
				if base, _, _ := strings.Cut(key, ";"); strings.EqualFold(strings.TrimSpace(base), "application/json") {
					return key, true
				}
			}
		}
	}
	if received != "" && content.Get(received) != nil {
		return received, true
	}
	return "", false
}

// ValidateResponse checks a response to r against the document: that the status is
// declared for the operation, that the declared headers are present and valid, and that
// the Content-Type and the body match the declared content. It returns ErrPathNotFound or
// ErrMethodNotAllowed when r matches no operation.
func (s *Spec) ValidateResponse(r *http.Request, status int, header http.Header, body []byte) error {
	matched, route, err := s.findRoute(r)
	if err != nil {
		return err
	}
	options := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	requestInput := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: matched.PathParams,
		Route:      route,
		Options:    options,
	}
	responseInput := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: requestInput,
		Status:                 status,
		Header:                 header,
		Options:                options,
	}
	responseInput.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(r.Context(), responseInput)
}
