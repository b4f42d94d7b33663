package httpsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Parameters are the parsed parameters of a signature header.
type Parameters struct {
	KeyID     string
	Algorithm string
	Headers   []string // names in signing order, lower case
	Signature string   // base64, as sent
}

// maxSignatureHeader bounds the header a verifier parses. Real headers are under 300 bytes.
const maxSignatureHeader = 4096

// ParseSignatureHeader parses a signature header value of the form
// keyid="…", algorithm="…", headers="…", signature="…". Parameters may come in any order,
// separated by commas with optional spaces. All four are required and none may repeat.
func ParseSignatureHeader(value string) (Parameters, error) {
	var p Parameters
	if value == "" {
		return p, errors.New("signature header is empty")
	}
	if len(value) > maxSignatureHeader {
		return p, fmt.Errorf("signature header is %d bytes, over the limit of %d", len(value), maxSignatureHeader)
	}

	seen := map[string]bool{}
	rest := value
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t")
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return p, fmt.Errorf("signature header parameter %q has no value", rest)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if !strings.HasPrefix(after, `"`) {
			return p, fmt.Errorf("signature header parameter %s is not a quoted string", name)
		}
		end := strings.IndexByte(after[1:], '"')
		if end < 0 {
			return p, fmt.Errorf("signature header parameter %s has no closing quote", name)
		}
		quoted := after[1 : 1+end]
		rest = strings.TrimLeft(after[2+end:], " \t")
		if rest != "" {
			if rest[0] != ',' {
				return p, fmt.Errorf("signature header has text after parameter %s that is not a comma", name)
			}
			rest = rest[1:]
		}

		if seen[name] {
			return p, fmt.Errorf("signature header repeats parameter %s", name)
		}
		seen[name] = true
		switch name {
		case "keyid":
			p.KeyID = quoted
		case "algorithm":
			p.Algorithm = quoted
		case "headers":
			p.Headers = strings.Fields(strings.ToLower(quoted))
		case "signature":
			p.Signature = quoted
		default:
			return p, fmt.Errorf("signature header has unknown parameter %s", name)
		}
	}

	for _, name := range []string{"keyid", "algorithm", "headers", "signature"} {
		if !seen[name] {
			return p, fmt.Errorf("signature header is missing parameter %s", name)
		}
	}
	if p.KeyID == "" {
		return p, errors.New("signature header parameter keyid is empty")
	}
	if len(p.Headers) == 0 {
		return p, errors.New("signature header parameter headers is empty")
	}
	return p, nil
}

// BuildSigningString builds the signing string for the header names a signature declares,
// taking each value from value. It fails on an unknown or missing header.
func BuildSigningString(names []string, value func(name string) (string, bool)) (string, error) {
	var b strings.Builder
	for i, name := range names {
		v, ok := value(name)
		if !ok {
			return "", fmt.Errorf("signed header %s is missing from the request", name)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(v)
	}
	return b.String(), nil
}

// Verify reports whether signature (base64, as sent) is the HMAC-SHA256 of signingString
// under the decoded secret. It compares in constant time.
func Verify(secret []byte, signingString, signature string) bool {
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signingString))
	return hmac.Equal(got, mac.Sum(nil))
}
