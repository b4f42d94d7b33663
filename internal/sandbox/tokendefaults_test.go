package sandbox_test

import (
	"strings"
	"testing"

	"github.com/paycreds/tms/internal/sandbox"
)

func TestCompleteToken(t *testing.T) {
	for _, network := range []sandbox.Network{sandbox.Visa, sandbox.Mastercard, sandbox.AmericanExpress} {
		t.Run(string(network), func(t *testing.T) {
			token := sandbox.CompleteToken(sandbox.Token{ID: "7030000000000088888", Network: network}, true)
			if !luhnValid(token.PAN) || !luhnValid(token.NetworkTokenNumber) {
				t.Errorf("PAN %s or network token %s fails the Luhn check", token.PAN, token.NetworkTokenNumber)
			}
			if len(token.NetworkTokenNumber) != len(token.PAN) {
				t.Errorf("network token has %d digits, the PAN %d", len(token.NetworkTokenNumber), len(token.PAN))
			}
			if token.PAN[0] != token.NetworkTokenNumber[0] {
				t.Errorf("network token %s is not in the range of %s cards", token.NetworkTokenNumber, network)
			}
			if token.TokenizedCardID == "" || token.ExpirationYear == "" || token.CardExpirationYear == "" {
				t.Errorf("token = %+v, want a Tokenized Card id and both expiry dates", token)
			}
			if again := sandbox.CompleteToken(sandbox.Token{ID: token.ID, Network: network}, true); again != token {
				t.Errorf("a second completion differs: %+v, want %+v", again, token)
			}
			other := sandbox.CompleteToken(sandbox.Token{ID: "7030000000000099999", Network: network}, true)
			if other.NetworkTokenNumber == token.NetworkTokenNumber {
				t.Error("two token ids get the same network token number")
			}
			if _, err := sandbox.New(sandbox.Config{Tokens: []sandbox.Token{token}}); err != nil {
				t.Errorf("New rejects the completed token: %v", err)
			}
		})
	}

	t.Run("without network token", func(t *testing.T) {
		token := sandbox.CompleteToken(sandbox.Token{ID: "F0E1D2C3B4A5968778695A4B3C2D1E00", Network: sandbox.Visa}, false)
		if token.NetworkTokenNumber != "" || token.TokenizedCardID != "" || token.PAN == "" {
			t.Errorf("token = %+v, want a PAN and no network token", token)
		}
	})

	t.Run("set fields kept", func(t *testing.T) {
		given := sandbox.Token{ID: "1", Network: sandbox.Visa, PAN: "4000056655665556", ExpirationMonth: "01", ExpirationYear: "2040"}
		token := sandbox.CompleteToken(given, true)
		if token.PAN != given.PAN || token.ExpirationMonth != "01" || token.ExpirationYear != "2040" {
			t.Errorf("token = %+v, want the given PAN and expiry kept", token)
		}
	})

	t.Run("unknown network", func(t *testing.T) {
		given := sandbox.Token{ID: "1", Network: "discover"}
		if got := sandbox.CompleteToken(given, true); got != given {
			t.Errorf("token = %+v, want it unchanged", got)
		}
		_, err := sandbox.New(sandbox.Config{Tokens: []sandbox.Token{given}})
		if err == nil || !strings.Contains(err.Error(), `network "discover"`) {
			t.Errorf("New: error = %v, want the unknown network named", err)
		}
	})
}
