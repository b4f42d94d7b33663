// Package spec loads the project's OpenAPI document (package api) with kin-openapi and
// validates HTTP traffic against it. The sandbox validates every request with it, and
// tests wrap handlers in CheckingHandler so that each response is checked too.
//
// Package tokenapi must not import this package, so that the client library does not
// link kin-openapi.
package spec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/paycreds/tms/api"
)

// Route errors, returned by FindRoute, ValidateRequest and ValidateResponse.
var (
	ErrPathNotFound     = errors.New("no operation in the OpenAPI document has this path")
	ErrMethodNotAllowed = errors.New("the OpenAPI document declares no operation for this method on this path")
)

// joseMediaType is the media type of 201 bodies. kin-openapi has no body decoder for it.
const joseMediaType = "application/jose"

// Spec is the parsed and validated OpenAPI document. It is immutable and safe for
// concurrent use.
type Spec struct {
	doc   *openapi3.T
	paths []pathTemplate
}

// pathTemplate is one path of the document split into segments, such as
// ["tms", "v2", "tokens", "{tokenId}", "payment-credentials"].
type pathTemplate struct {
	path     string
	segments []string
	item     *openapi3.PathItem
}

var (
	loadOnce   sync.Once
	loadedSpec *Spec
	loadErr    error
)

// Load parses and validates api.OpenAPI on its first call and returns the same Spec, or
// the same error, on every call.
//
// The first call also registers a body decoder for "application/jose" in kin-openapi's
// registry, which is global to the program, unless some other code registered one first.
// The decoder passes the body on as a string, so the 201 schema (a string with a pattern)
// applies to it.
func Load() (*Spec, error) {
	loadOnce.Do(func() {
		if openapi3filter.RegisteredBodyDecoder(joseMediaType) == nil {
			openapi3filter.RegisterBodyDecoder(joseMediaType, openapi3filter.PlainBodyDecoder)
		}
		loadedSpec, loadErr = parse(api.OpenAPI)
	})
	return loadedSpec, loadErr
}

func parse(data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate OpenAPI document: %w", err)
	}

	s := &Spec{doc: doc}
	// InMatchingOrder lists paths with fewer parameters first, so /a/b is tried before /a/{x}.
	for _, path := range doc.Paths.InMatchingOrder() {
		s.paths = append(s.paths, pathTemplate{
			path:     path,
			segments: strings.Split(strings.TrimPrefix(path, "/"), "/"),
			item:     doc.Paths.Value(path),
		})
	}
	return s, nil
}

// Document returns the parsed document. Callers must not modify it.
func (s *Spec) Document() *openapi3.T { return s.doc }

// Route is the operation that a request matches.
type Route struct {
	OperationID string
	Path        string            // the path template, such as /tms/v2/tokens/{tokenId}/payment-credentials
	PathParams  map[string]string // path parameters, unescaped
}

// FindRoute matches the request's method and escaped path against the document. It
// returns ErrPathNotFound or ErrMethodNotAllowed when nothing matches.
//
// A path parameter matches one escaped segment, so a tokenId sent as "a%2Fb" matches
// {tokenId} with the value "a/b". This package matches paths itself because kin-openapi
// v0.153.0's legacy router matches the unescaped path and its gorillamux router needs
// gorilla/mux. Server URLs are ignored, so requests to any host match.
func (s *Spec) FindRoute(r *http.Request) (Route, error) {
	route, _, err := s.findRoute(r)
	return route, err
}

func (s *Spec) findRoute(r *http.Request) (Route, *routers.Route, error) {
	segments := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")

	for _, t := range s.paths {
		params, ok := t.match(segments)
		if !ok {
			continue
		}
		operation := t.item.GetOperation(r.Method)
		if operation == nil {
			return Route{}, nil, ErrMethodNotAllowed
		}
		route := Route{OperationID: operation.OperationID, Path: t.path, PathParams: params}
		kinRoute := &routers.Route{
			Spec:      s.doc,
			Path:      t.path,
			PathItem:  t.item,
			Method:    r.Method,
			Operation: operation,
		}
		return route, kinRoute, nil
	}
	return Route{}, nil, ErrPathNotFound
}

// match compares escaped path segments with the template and returns the unescaped
// values of its parameters.
func (t pathTemplate) match(segments []string) (map[string]string, bool) {
	if len(segments) != len(t.segments) {
		return nil, false
	}
	params := map[string]string{}
	for i, want := range t.segments {
		got, err := url.PathUnescape(segments[i])
		if err != nil {
			return nil, false
		}
		if name, ok := strings.CutPrefix(want, "{"); ok {
			params[strings.TrimSuffix(name, "}")] = got
			continue
		}
		if got != want {
			return nil, false
		}
	}
	return params, true
}
