package tokenapitest

import (
	"fmt"

	"github.com/paycreds/tms/internal/sandbox"
)

// Network is a card network, spelled as in the payload's tokenizedCard.type.
type Network string

// Networks the server issues credentials for.
const (
	Visa            Network = "visa"            // cryptogram and ECI by default
	Mastercard      Network = "mastercard"      // cryptogram and ECI by default, no SECURITY_CODE
	AmericanExpress Network = "americanexpress" // dynamic CVV by default, no CRYPTOGRAM
)

// State is the state of a token, which decides the server's response.
type State string

// Token states. The zero State is Active.
const (
	Active    State = "ACTIVE"    // 201 with credentials
	Suspended State = "SUSPENDED" // 403 declined
	Deleted   State = "DELETED"   // 410 notAvailable
	Linked    State = "LINKED"    // linked to a Payment Instrument: 409 conflict from v3, 201 from v2
)

// Token is a TMS token on the server. Only ID and Network are required: the card data
// left empty is filled in with test values derived from the id.
type Token struct {
	ID      string // 1 to 32 characters, such as 19 digits or 32 hex characters
	Network Network
	State   State // empty means Active

	// NoNetworkToken makes a token without a network token, for which v3 returns the
	// card details and v2 responds with 400 invalidCombination.
	NoNetworkToken bool

	// Fault is injected into every response for the token, such as "status=503,times=2"
	// (two 503s, then normal responses) or "truncated-jwe". Empty means none.
	Fault string

	NetworkTokenNumber string // empty means a made-up number in the network's test range
	ExpirationMonth    string // of the network token, "01" to "12"
	ExpirationYear     string // of the network token, four digits

	PAN                 string // empty means the network's published test card number
	CardExpirationMonth string
	CardExpirationYear  string
}

// sandboxToken converts t, filling in the card data it leaves out.
func (t Token) sandboxToken() (sandbox.Token, error) {
	fault, err := sandbox.ParseFault(t.Fault)
	if err != nil {
		return sandbox.Token{}, fmt.Errorf("token %s: %w", t.ID, err)
	}
	if t.NoNetworkToken && t.NetworkTokenNumber != "" {
		return sandbox.Token{}, fmt.Errorf("token %s: NoNetworkToken is set together with NetworkTokenNumber; set one of them", t.ID)
	}
	st := sandbox.Token{
		ID:                  t.ID,
		Network:             sandbox.Network(t.Network),
		State:               sandbox.TokenState(t.State),
		Fault:               fault,
		NetworkTokenNumber:  t.NetworkTokenNumber,
		ExpirationMonth:     t.ExpirationMonth,
		ExpirationYear:      t.ExpirationYear,
		PAN:                 t.PAN,
		CardExpirationMonth: t.CardExpirationMonth,
		CardExpirationYear:  t.CardExpirationYear,
	}
	return sandbox.CompleteToken(st, !t.NoNetworkToken), nil
}
