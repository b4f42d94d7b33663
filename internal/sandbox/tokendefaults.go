package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Card data that CompleteToken fills in, per network: the network's published test card
// number, and the first six digits of the made-up network token numbers.
//
//nolint:gosec // Published test card numbers, not credentials.
var tokenDefaults = map[Network]struct {
	pan, tokenPrefix string
	tokenLength      int
}{
	Visa:            {pan: "4111111111111111", tokenPrefix: "489537", tokenLength: 16},
	Mastercard:      {pan: "5555555555554444", tokenPrefix: "520424", tokenLength: 16},
	AmericanExpress: {pan: "378282246310005", tokenPrefix: "374245", tokenLength: 15},
}

// Expiry dates that CompleteToken fills in. They are fixed, so a completed token is the
// same on every run.
const (
	defaultCardExpirationMonth  = "12"
	defaultCardExpirationYear   = "2034"
	defaultTokenExpirationMonth = "06"
	defaultTokenExpirationYear  = "2033"
)

// CompleteToken returns t with the card data it lacks filled in from its id and network,
// so that a token can be described by its id, network and state alone. It fills the PAN
// with the network's published test card number and the card expiry with 12/2034. With
// networkToken it also fills a network token number (a test range, a valid Luhn check
// digit, the rest derived from the id), its expiry 06/2033 and a Tokenized Card id. Fields
// already set are kept, and a token of an unknown network is returned unchanged for New
// or AddToken to reject.
func CompleteToken(t Token, networkToken bool) Token {
	defaults, ok := tokenDefaults[t.Network]
	if !ok {
		return t
	}
	digest := sha256.Sum256([]byte(t.ID))

	if t.PAN == "" {
		t.PAN = defaults.pan
	}
	if t.CardExpirationMonth == "" && t.CardExpirationYear == "" {
		t.CardExpirationMonth, t.CardExpirationYear = defaultCardExpirationMonth, defaultCardExpirationYear
	}
	if !networkToken {
		return t
	}
	if t.NetworkTokenNumber == "" {
		t.NetworkTokenNumber = withLuhnDigit(defaults.tokenPrefix + digitsFrom(digest[:], defaults.tokenLength-len(defaults.tokenPrefix)-1))
	}
	if t.ExpirationMonth == "" && t.ExpirationYear == "" {
		t.ExpirationMonth, t.ExpirationYear = defaultTokenExpirationMonth, defaultTokenExpirationYear
	}
	if t.TokenizedCardID == "" {
		t.TokenizedCardID = strings.ToUpper(hex.EncodeToString(digest[:16]))
	}
	return t
}

// digitsFrom returns n decimal digits taken from the bytes of seed, one per byte.
func digitsFrom(seed []byte, n int) string {
	digits := make([]byte, n)
	for i := range digits {
		digits[i] = '0' + seed[i%len(seed)]%10
	}
	return string(digits)
}

// withLuhnDigit appends the Luhn check digit to number, a string of decimal digits.
func withLuhnDigit(number string) string {
	sum := 0
	for i := range len(number) {
		d := int(number[len(number)-1-i] - '0')
		if i%2 == 0 {
			// Counting from the check digit to come, these positions are doubled.
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return number + string(rune('0'+(10-sum%10)%10))
}
