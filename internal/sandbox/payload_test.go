package sandbox_test

import (
	"testing"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/sandbox"
)

// The payload of a network token carries what the decrypted examples in CyberSource's
// spec show: the card's printed flags and the PAR in a top-level issuer object.
func TestPayloadLikeSpecExamples(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))
	token := demoToken(t, sandbox.DemoVisaTokenID)

	for _, version := range []string{"v2", "v3"} {
		got := decrypt(t, ms[0], call(t, client, version, token.ID, gen.PaymentCredentialsRequest{}, callOptions{}))
		card := got.TokenizedCard.Card
		if card.ExpirationPrinted == nil || !*card.ExpirationPrinted {
			t.Errorf("%s: tokenizedCard.card.expirationPrinted = %v, want true", version, card.ExpirationPrinted)
		}
		if card.SecurityCodePrinted == nil || !*card.SecurityCodePrinted {
			t.Errorf("%s: tokenizedCard.card.securityCodePrinted = %v, want true", version, card.SecurityCodePrinted)
		}
		if got.Issuer.PaymentAccountReference != token.PaymentAccountReference {
			t.Errorf("%s: issuer.paymentAccountReference = %q, want %q", version, got.Issuer.PaymentAccountReference, token.PaymentAccountReference)
		}
	}
}
