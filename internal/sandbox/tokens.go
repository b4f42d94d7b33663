package sandbox

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Network is a card network, spelled as in the payload's tokenizedCard.type.
type Network string

// Networks the sandbox issues credentials for.
const (
	Visa            Network = "visa"
	Mastercard      Network = "mastercard"
	AmericanExpress Network = "americanexpress"
)

// cardTypeCode returns CyberSource's three-digit card type code for the network.
func (n Network) cardTypeCode() string {
	switch n {
	case Visa:
		return "001"
	case Mastercard:
		return "002"
	case AmericanExpress:
		return "003"
	}
	return ""
}

// TokenState is the lifecycle state of a token.
type TokenState string

// Token states. The zero value of Token.State means TokenActive.
const (
	TokenActive    TokenState = "ACTIVE"
	TokenSuspended TokenState = "SUSPENDED" // 403 declined
	TokenDeleted   TokenState = "DELETED"   // 410 notAvailable

	// TokenLinked is a token linked to a Payment Instrument. v3 responds with 409
	// conflict, and v2, which declares no 409, responds as for an active token.
	TokenLinked TokenState = "LINKED"
)

// Token is a TMS token the sandbox can generate payment credentials for. A token without
// NetworkTokenNumber has no network token, so v3 returns its card number details.
type Token struct {
	ID      string // 1 to 32 characters, such as 19 digits or 32 hex characters
	Network Network
	State   TokenState // empty means TokenActive

	// The network token.
	NetworkTokenNumber string
	ExpirationMonth    string // "01" to "12"
	ExpirationYear     string // four digits
	TokenizedCardID    string // optional id of the Tokenized Card, linked from the payload
	TokenReferenceID   string // optional network id of the token

	// The card the token stands for.
	PAN                 string
	CardExpirationMonth string
	CardExpirationYear  string

	RequestorID             string // optional token requestor id, at most 11 characters
	PaymentAccountReference string // optional PAR

	// Fault is injected into the responses for this token, unless a request carries
	// FaultHeader. The zero Fault injects nothing.
	Fault Fault
}

// tokenState is a token with the counters of cryptograms issued and faults injected.
type tokenState struct {
	Token
	transactionCounter atomic.Uint32
	faultsInjected     atomic.Uint64
}

func (t *tokenState) hasNetworkToken() bool { return t.NetworkTokenNumber != "" }

func validateToken(t Token) (Token, error) {
	if t.ID == "" || len(t.ID) > 32 {
		return t, fmt.Errorf("token id %q is not 1 to 32 characters", t.ID)
	}
	if t.Network.cardTypeCode() == "" {
		return t, fmt.Errorf("token %s: network %q is not visa, mastercard or americanexpress", t.ID, t.Network)
	}
	switch t.State {
	case "":
		t.State = TokenActive
	case TokenActive, TokenSuspended, TokenDeleted, TokenLinked:
	default:
		return t, fmt.Errorf("token %s: state %q is not ACTIVE, SUSPENDED, DELETED or LINKED", t.ID, t.State)
	}
	if err := t.Fault.validate(); err != nil {
		return t, fmt.Errorf("token %s: %w", t.ID, err)
	}
	if t.Fault.altersJWE() && (t.State == TokenSuspended || t.State == TokenDeleted) {
		return t, fmt.Errorf("token %s: fault %s corrupts a 201, but a %s token never gets a 201; use state ACTIVE or another fault",
			t.ID, t.Fault.Kind, t.State)
	}

	if err := checkCardNumber(t.PAN); err != nil {
		return t, fmt.Errorf("token %s: PAN: %w", t.ID, err)
	}
	if err := checkExpiry(t.CardExpirationMonth, t.CardExpirationYear); err != nil {
		return t, fmt.Errorf("token %s: card expiry: %w", t.ID, err)
	}
	if t.NetworkTokenNumber != "" {
		if err := checkCardNumber(t.NetworkTokenNumber); err != nil {
			return t, fmt.Errorf("token %s: network token number: %w", t.ID, err)
		}
		if err := checkExpiry(t.ExpirationMonth, t.ExpirationYear); err != nil {
			return t, fmt.Errorf("token %s: network token expiry: %w", t.ID, err)
		}
	}
	if len(t.RequestorID) > 11 {
		return t, fmt.Errorf("token %s: requestor id is over 11 characters", t.ID)
	}
	return t, nil
}

func checkCardNumber(number string) error {
	if len(number) < 12 || len(number) > 19 {
		return fmt.Errorf("%d digits, want 12 to 19", len(number))
	}
	for _, c := range number {
		if c < '0' || c > '9' {
			return errors.New("contains a character that is not a digit")
		}
	}
	return nil
}

func checkExpiry(month, year string) error {
	if len(month) != 2 || month < "01" || month > "12" {
		return fmt.Errorf("month %q is not 01 to 12", month)
	}
	if len(year) != 4 {
		return fmt.Errorf("year %q is not four digits", year)
	}
	for _, c := range year {
		if c < '0' || c > '9' {
			return fmt.Errorf("year %q is not four digits", year)
		}
	}
	return nil
}

// maskPAN keeps the first six and last four digits, as in 411111XXXXXX1111.
func maskPAN(pan string) string {
	masked := []byte(pan)
	for i := 6; i < len(masked)-4; i++ {
		masked[i] = 'X'
	}
	return string(masked)
}

// Ids of the tokens that DemoTokens returns.
//
//nolint:gosec // Token ids of the demo data, not credentials.
const (
	DemoVisaTokenID            = "7030000000000011111"
	DemoMastercardTokenID      = "7030000000000024444"
	DemoAmericanExpressTokenID = "A1B2C3D4E5F60718293A4B5C6D7E8F90"
	DemoDeletedTokenID         = "7030000000000039999"
	DemoNoNetworkTokenID       = "F0E1D2C3B4A5968778695A4B3C2D1E0F"
)

// DemoTokens returns a set of tokens for demos and tests: active Visa, Mastercard and
// American Express tokens, a deleted Visa token, and a Visa token with no network token.
// Card numbers are the networks' published test numbers, and network token numbers are
// made up in test ranges with a valid Luhn check digit.
//
//nolint:gosec // Published test card numbers and made-up token data, not credentials.
func DemoTokens() []Token {
	return []Token{
		{
			ID:                      DemoVisaTokenID,
			Network:                 Visa,
			NetworkTokenNumber:      "4895370000000015",
			ExpirationMonth:         "08",
			ExpirationYear:          "2031",
			TokenizedCardID:         "2D4E6F8091A2B3C4D5E6F708192A3B4C",
			TokenReferenceID:        "DNITHE000000000000000001",
			PAN:                     "4111111111111111",
			CardExpirationMonth:     "12",
			CardExpirationYear:      "2031",
			RequestorID:             "40000000001",
			PaymentAccountReference: "V0010000000000000000000000001",
		},
		{
			ID:                      DemoMastercardTokenID,
			Network:                 Mastercard,
			NetworkTokenNumber:      "5204240000000013",
			ExpirationMonth:         "05",
			ExpirationYear:          "2030",
			TokenizedCardID:         "3E5F7091A2B3C4D5E6F708192A3B4C5D",
			TokenReferenceID:        "DM4MMC000000000000000002",
			PAN:                     "5555555555554444",
			CardExpirationMonth:     "11",
			CardExpirationYear:      "2030",
			RequestorID:             "50000000002",
			PaymentAccountReference: "500100000000000000000000002",
		},
		{
			ID:                      DemoAmericanExpressTokenID,
			Network:                 AmericanExpress,
			NetworkTokenNumber:      "374245000000017",
			ExpirationMonth:         "02",
			ExpirationYear:          "2032",
			TokenizedCardID:         "4F6081A2B3C4D5E6F708192A3B4C5D6E",
			PAN:                     "378282246310005",
			CardExpirationMonth:     "01",
			CardExpirationYear:      "2032",
			RequestorID:             "30000000003",
			PaymentAccountReference: "A00100000000000000000000003",
		},
		{
			ID:                  DemoDeletedTokenID,
			Network:             Visa,
			State:               TokenDeleted,
			NetworkTokenNumber:  "4895370000000015",
			ExpirationMonth:     "08",
			ExpirationYear:      "2031",
			PAN:                 "4012888888881881",
			CardExpirationMonth: "10",
			CardExpirationYear:  "2029",
		},
		{
			ID:                  DemoNoNetworkTokenID,
			Network:             Visa,
			PAN:                 "4000056655665556",
			CardExpirationMonth: "09",
			CardExpirationYear:  "2030",
		},
	}
}
