package spec

import (
	"errors"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// FieldErrorKind is the kind of violation a FieldError reports.
type FieldErrorKind int

const (
	// FieldInvalid is a field that is present but breaks the schema: too long, of the
	// wrong type, or not one of the enumerated values.
	FieldInvalid FieldErrorKind = iota + 1
	// FieldMissing is a required field, parameter or body that is absent.
	FieldMissing
	// FieldMalformed is a body that cannot be decoded, such as JSON with a syntax error.
	FieldMalformed
)

// String returns "invalid", "missing" or "malformed".
func (k FieldErrorKind) String() string {
	switch k {
	case FieldInvalid:
		return "invalid"
	case FieldMissing:
		return "missing"
	case FieldMalformed:
		return "malformed"
	}
	return "FieldErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Locations of a FieldError, as CyberSource names them in error details.
const (
	LocationBody   = "body"
	LocationHeader = "header"
	LocationPath   = "path"
)

// FieldError is one violation found by ValidateRequest, in the terms of a CyberSource
// error detail.
type FieldError struct {
	// Name is the field: a dotted JSON path into the body such as
	// orderInformation.billTo.firstName or authenticatedIdentities[0].id, or a header or
	// path parameter name. It is empty when the whole body is at fault.
	Name     string
	Location string // LocationBody, LocationHeader or LocationPath
	Kind     FieldErrorKind
	Reason   string // kin-openapi's explanation, which never contains the value
}

// FieldErrors lists the violations in an error returned by ValidateRequest, in the order
// kin-openapi found them. It returns nil for route errors and for errors from elsewhere.
func FieldErrors(err error) []FieldError {
	var out []FieldError
	collectFieldErrors(err, &out)
	return out
}

func collectFieldErrors(err error, out *[]FieldError) {
	//nolint:errorlint // The walk matches each level of kin-openapi's error tree by its own type.
	switch e := err.(type) {
	case nil:
		return
	case openapi3.MultiError:
		for _, inner := range e {
			collectFieldErrors(inner, out)
		}
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			collectFieldErrors(inner, out)
		}
	case *ContentTypeError:
		*out = append(*out, FieldError{
			Name:     "Content-Type",
			Location: LocationHeader,
			Kind:     kindOfHeader(e.ContentType),
			Reason:   e.Error(),
		})
	case *openapi3filter.RequestError:
		collectRequestError(e, out)
	}
}

func kindOfHeader(value string) FieldErrorKind {
	if value == "" {
		return FieldMissing
	}
	return FieldInvalid
}

func collectRequestError(e *openapi3filter.RequestError, out *[]FieldError) {
	if p := e.Parameter; p != nil {
		kind := FieldInvalid
		if errors.Is(e.Err, openapi3filter.ErrInvalidRequired) || errors.Is(e.Err, openapi3filter.ErrInvalidEmptyValue) {
			kind = FieldMissing
		}
		*out = append(*out, FieldError{Name: p.Name, Location: p.In, Kind: kind, Reason: e.Error()})
		return
	}

	if e.RequestBody == nil {
		return
	}
	if errors.Is(e.Err, openapi3filter.ErrInvalidRequired) {
		*out = append(*out, FieldError{Location: LocationBody, Kind: FieldMissing, Reason: "request body is missing"})
		return
	}
	var parseErr *openapi3filter.ParseError
	if errors.As(e.Err, &parseErr) {
		*out = append(*out, FieldError{Location: LocationBody, Kind: FieldMalformed, Reason: e.Error()})
		return
	}

	root := bodySchema(e)
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(e.Err, &schemaErrs)
	for _, se := range schemaErrs {
		kind := FieldInvalid
		if se.SchemaField == "required" {
			kind = FieldMissing
		}
		*out = append(*out, FieldError{
			Name:     jsonPath(root, se.JSONPointer()),
			Location: LocationBody,
			Kind:     kind,
			Reason:   se.Reason,
		})
	}
}

func collectSchemaErrors(err error, out *[]*openapi3.SchemaError) {
	//nolint:errorlint // As in collectFieldErrors.
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectSchemaErrors(inner, out)
		}
	case *openapi3.SchemaError:
		*out = append(*out, e)
	}
}

// bodySchema returns the schema the body was checked against, or nil.
func bodySchema(e *openapi3filter.RequestError) *openapi3.Schema {
	var contentType string
	if e.Input != nil && e.Input.Request != nil {
		contentType = e.Input.Request.Header.Get("Content-Type")
	}
	media := e.RequestBody.Content.Get(contentType)
	if media == nil || media.Schema == nil {
		return nil
	}
	return media.Schema.Value
}

// jsonPath writes a JSON pointer as CyberSource names fields: object keys joined by dots
// and array indexes in brackets. It follows the schema to tell an array index from an
// object key that happens to be a number.
func jsonPath(schema *openapi3.Schema, pointer []string) string {
	var b strings.Builder
	for _, part := range pointer {
		if isArray(schema) {
			if _, err := strconv.Atoi(part); err == nil {
				b.WriteString("[" + part + "]")
				schema = itemsOf(schema)
				continue
			}
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
		schema = propertyOf(schema, part)
	}
	return b.String()
}

func isArray(schema *openapi3.Schema) bool {
	return schema != nil && schema.Type.Is(openapi3.TypeArray)
}

func itemsOf(schema *openapi3.Schema) *openapi3.Schema {
	if schema == nil || schema.Items == nil {
		return nil
	}
	return schema.Items.Value
}

func propertyOf(schema *openapi3.Schema, name string) *openapi3.Schema {
	if schema == nil {
		return nil
	}
	if ref := schema.Properties[name]; ref != nil {
		return ref.Value
	}
	for _, ref := range schema.AllOf {
		if found := propertyOf(ref.Value, name); found != nil {
			return found
		}
	}
	return nil
}
