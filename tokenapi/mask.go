package tokenapi

import (
	"fmt"
	"log/slog"
	"strconv"
)

// CardNumber is a card number (PAN) or network token number. Printing it with fmt, its
// String method or slog shows only the last four digits; JSON encoding and Reveal give the
// full number, because callers forward it to an authorization.
type CardNumber string

// Reveal returns the full number.
func (n CardNumber) Reveal() string { return string(n) }

// Last4 returns the last four characters, or "" when the number is shorter than 10
// characters and so too short to show any part of.
func (n CardNumber) Last4() string {
	if len(n) < minMaskedLength {
		return ""
	}
	return string(n[len(n)-4:])
}

// minMaskedLength is the shortest value whose last four digits are shown. Card numbers
// have 12 to 19 digits.
const minMaskedLength = 10

// String returns the number masked to its last four digits, such as "****1111".
func (n CardNumber) String() string {
	if n == "" {
		return ""
	}
	return "****" + n.Last4()
}

// GoString returns the masked number as a Go literal, for the %#v verb.
func (n CardNumber) GoString() string {
	return "tokenapi.CardNumber(" + strconv.Quote(n.String()) + ")"
}

// Format writes the masked number for every verb, so that %x or %d cannot print it.
func (n CardNumber) Format(f fmt.State, verb rune) { formatMasked(f, verb, n.String(), n.GoString()) }

// LogValue returns the masked number, so slog never records the full one.
func (n CardNumber) LogValue() slog.Value { return slog.StringValue(n.String()) }

// Secret is a value that must never be printed: a cryptogram or a dynamic security code.
// Printing it shows "[REDACTED]"; JSON encoding and Reveal give the real value.
type Secret string

// Reveal returns the real value.
func (s Secret) Reveal() string { return string(s) }

// redacted replaces a Secret wherever it is printed.
const redacted = "[REDACTED]"

// String returns "[REDACTED]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the redacted value as a Go literal, for the %#v verb.
func (s Secret) GoString() string { return "tokenapi.Secret(" + strconv.Quote(s.String()) + ")" }

// Format writes the redacted value for every verb.
func (s Secret) Format(f fmt.State, verb rune) { formatMasked(f, verb, s.String(), s.GoString()) }

// LogValue returns the redacted value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// formatMasked writes a masked value for any fmt verb: quoted for %q, as a Go literal
// for %#v, plain otherwise.
func formatMasked(f fmt.State, verb rune, masked, goSyntax string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, goSyntax)
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(masked))
	default:
		fmt.Fprint(f, masked)
	}
}

// maskTokenID shortens a token id for error messages and logs: the first four characters
// and the length, such as "7010…(19)". A token id is not card data, but it is what a
// caller presents to mint credentials, so messages do not repeat it whole.
func maskTokenID(id string) string {
	if len(id) <= 4 {
		return "…(" + strconv.Itoa(len(id)) + ")"
	}
	prefix := id[:4]
	for i := 0; i < len(prefix); i++ {
		if prefix[i] < 0x21 || prefix[i] > 0x7e {
			return "…(" + strconv.Itoa(len(id)) + ")"
		}
	}
	return prefix + "…(" + strconv.Itoa(len(id)) + ")"
}
