package tokenapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldError is one problem with the input of a call.
type FieldError struct {
	// Field is the parameter or the dotted JSON path of the request field, such as
	// "tokenId", "profile-id" or "authenticatedIdentities[0].id".
	Field string
	// Problem is a description of the fault and of the expected value.
	Problem string
}

// ValidationError lists every problem found in the input of a call, which was rejected
// before any request was sent. errors.Is(err, ErrInvalidRequest) is true for it.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("tokenapi: invalid request: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(" ")
		b.WriteString(f.Problem)
	}
	return b.String()
}

// Unwrap returns ErrInvalidRequest.
func (e *ValidationError) Unwrap() error { return ErrInvalidRequest }

// validateTokenID checks a token id. The spec allows 1 to 32 characters with no pattern;
// CyberSource's ids are digits or hexadecimal, so this also rejects anything but ASCII
// letters, digits, '-' and '_'. That keeps ids such as "../x" or "a/b" from ever
// reaching a path, even though the generated client escapes them.
func validateTokenID(id string) *FieldError {
	if len(id) < tokenIDMinLength {
		return &FieldError{Field: "tokenId", Problem: "is empty; pass the id of a Customer, Payment Instrument, Instrument Identifier or Tokenized Card"}
	}
	if len(id) > tokenIDMaxLength {
		return &FieldError{Field: "tokenId", Problem: fmt.Sprintf("is %d characters, over the maximum of %d", len(id), tokenIDMaxLength)}
	}
	for i := 0; i < len(id); i++ {
		if !isTokenIDByte(id[i]) {
			return &FieldError{Field: "tokenId", Problem: fmt.Sprintf("contains %s at position %d; token ids contain only letters, digits, '-' and '_'", describeByte(id[i]), i+1)}
		}
	}
	return nil
}

func isTokenIDByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func describeByte(c byte) string {
	if c >= 0x21 && c <= 0x7e {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// validateProfileID checks the profile-id header: exactly 36 printable ASCII characters,
// such as 93B32398-AD51-4CC2-A682-EA3E93614EB1.
func validateProfileID(id string) *FieldError {
	if len(id) != profileIDLength {
		return &FieldError{Field: "profile-id", Problem: fmt.Sprintf("has length %d; it must be exactly %d characters, a UUID such as 93B32398-AD51-4CC2-A682-EA3E93614EB1", len(id), profileIDLength)}
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return &FieldError{Field: "profile-id", Problem: fmt.Sprintf("contains %s at position %d; it must be a UUID", describeByte(id[i]), i+1)}
		}
	}
	return nil
}

// validateRequestBody checks every set string field of r against requestLimits. Lengths
// count characters (Unicode code points), as JSON Schema's maxLength does.
func validateRequestBody(r *PaymentCredentialsRequest) []FieldError {
	var problems []FieldError
	visitStringFields(r, func(path string, index int, value string) {
		if value == "" {
			return
		}
		field := path
		if index >= 0 {
			field = strings.Replace(path, "[]", "["+strconv.Itoa(index)+"]", 1)
		}
		if !utf8.ValidString(value) {
			problems = append(problems, FieldError{Field: field, Problem: "is not valid UTF-8; JSON encoding would replace the invalid bytes"})
			return
		}
		limit := requestLimits[path]
		if limit.maxLength > 0 {
			if n := utf8.RuneCountInString(value); n > limit.maxLength {
				problems = append(problems, FieldError{Field: field, Problem: fmt.Sprintf("is %d characters, over the maximum of %d", n, limit.maxLength)})
			}
		}
		if limit.enum != nil && !contains(limit.enum, value) {
			problems = append(problems, FieldError{Field: field, Problem: fmt.Sprintf("is %s; use one of %s", quoteShort(value), strings.Join(limit.enum, ", "))})
		}
	})
	return problems
}

func contains(list []string, value string) bool {
	for _, v := range list {
		if v == value {
			return true
		}
	}
	return false
}

// quoteShort quotes a value for an error message, cut to 40 bytes.
func quoteShort(s string) string {
	const maxQuoted = 40
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}
