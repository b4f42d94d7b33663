package sandbox_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/sandbox"
)

var (
	fourDigits  = regexp.MustCompile(`^[0-9]{4}$`)
	threeDigits = regexp.MustCompile(`^[0-9]{3}$`)
)

// demoToken returns the demo token with the id.
func demoToken(t *testing.T, id string) sandbox.Token {
	t.Helper()
	for _, token := range sandbox.DemoTokens() {
		if token.ID == id {
			return token
		}
	}
	t.Fatalf("no demo token %s", id)
	return sandbox.Token{}
}

func checkCryptogram(t *testing.T, card gen.TokenizedCard) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(card.Cryptogram)
	if err != nil {
		t.Errorf("cryptogram %q is not standard base64: %v", card.Cryptogram, err)
	}
	if len(raw) != 20 {
		t.Errorf("cryptogram has %d bytes, want 20", len(raw))
	}
	if card.SecurityCode != "" {
		t.Errorf("securityCode = %q alongside a cryptogram, want none", card.SecurityCode)
	}
}

func TestSuccessForEachNetworkAndVersion(t *testing.T) {
	ss, ms := defaultSandbox(t)
	merchant := ms[0]
	client := newClient(t, ss, signerFor(merchant))

	for _, tokenID := range []string{sandbox.DemoVisaTokenID, sandbox.DemoMastercardTokenID, sandbox.DemoAmericanExpressTokenID} {
		for _, version := range []string{"v2", "v3"} {
			token := demoToken(t, tokenID)
			t.Run(string(token.Network)+" "+version, func(t *testing.T) {
				res := call(t, client, version, tokenID, gen.PaymentCredentialsRequest{}, callOptions{})
				got := decrypt(t, merchant, res)
				card := got.TokenizedCard

				wantSelf := "/tms/" + version + "/tokens/" + tokenID + "/payment-credentials"
				if got.Links.Self.Href != wantSelf {
					t.Errorf("_links.self = %q, want %q", got.Links.Self.Href, wantSelf)
				}
				if want := "/tms/v2/tokenized-cards/" + token.TokenizedCardID; got.Links.TokenizedCard.Href != want {
					t.Errorf("_links.tokenizedCard = %q, want %q", got.Links.TokenizedCard.Href, want)
				}
				if card.Number != token.NetworkTokenNumber {
					t.Errorf("number = %q, want %q", card.Number, token.NetworkTokenNumber)
				}
				if card.ExpirationMonth != token.ExpirationMonth || card.ExpirationYear != token.ExpirationYear {
					t.Errorf("expiry = %s/%s, want %s/%s", card.ExpirationMonth, card.ExpirationYear, token.ExpirationMonth, token.ExpirationYear)
				}
				if card.Type != string(token.Network) {
					t.Errorf("type = %q, want %q", card.Type, token.Network)
				}
				if card.State != gen.TokenizedCardStateActive {
					t.Errorf("state = %q, want ACTIVE", card.State)
				}
				if card.RequestorID != token.RequestorID {
					t.Errorf("requestorId = %q, want %q", card.RequestorID, token.RequestorID)
				}
				if card.PaymentAccountReference != token.PaymentAccountReference {
					t.Errorf("paymentAccountReference = %q, want %q", card.PaymentAccountReference, token.PaymentAccountReference)
				}
				if want := token.PAN[len(token.PAN)-4:]; card.Card.Suffix != want {
					t.Errorf("card.suffix = %q, want %q", card.Card.Suffix, want)
				}
				if card.Card.ExpirationMonth != token.CardExpirationMonth || card.Card.ExpirationYear != token.CardExpirationYear {
					t.Errorf("card expiry = %s/%s, want %s/%s", card.Card.ExpirationMonth, card.Card.ExpirationYear, token.CardExpirationMonth, token.CardExpirationYear)
				}
				if card.Card.Number != "" {
					t.Errorf("card.number = %q, want the PAN left out", card.Card.Number)
				}
				if got.Card != (gen.Card{}) {
					t.Errorf("top-level card = %+v, want none for a token with a network token", got.Card)
				}

				switch token.Network {
				case sandbox.AmericanExpress:
					if !fourDigits.MatchString(card.SecurityCode) {
						t.Errorf("securityCode = %q, want four digits", card.SecurityCode)
					}
					if card.Cryptogram != "" || card.ECI != "" {
						t.Errorf("cryptogram %q and eci %q for American Express, want none", card.Cryptogram, card.ECI)
					}
				default:
					checkCryptogram(t, card)
					if card.ECI != "07" {
						t.Errorf("eci = %q, want 07", card.ECI)
					}
				}

				rec := ss.lastRecord(t)
				if rec.Status != http.StatusCreated || rec.TokenID != tokenID || rec.MerchantID != merchant.ID {
					t.Errorf("record = %+v, want status 201 for token %s and merchant %s", rec, tokenID, merchant.ID)
				}
			})
		}
	}
}

func TestDynamicValuesAreFresh(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))

	cryptograms := map[string]bool{}
	for range 2 {
		res := call(t, client, "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		cryptograms[decrypt(t, ms[0], res).TokenizedCard.Cryptogram] = true
	}
	if len(cryptograms) != 2 {
		t.Errorf("two calls returned %d distinct cryptograms, want 2", len(cryptograms))
	}

	// Four-digit codes collide one time in 10,000, so five calls all matching would
	// mean the value is not random.
	codes := map[string]bool{}
	for range 5 {
		res := call(t, client, "v3", sandbox.DemoAmericanExpressTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		codes[decrypt(t, ms[0], res).TokenizedCard.SecurityCode] = true
	}
	if len(codes) < 2 {
		t.Errorf("five American Express calls returned the same security code")
	}
}

func TestVisaTransactionCounterIncreases(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))

	var counters []string
	for range 3 {
		res := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		counters = append(counters, decrypt(t, ms[0], res).TokenizedCard.ApplicationTransactionCounter)
	}
	if want := []string{"0001", "0002", "0003"}; strings.Join(counters, ",") != strings.Join(want, ",") {
		t.Errorf("applicationTransactionCounter = %v, want %v", counters, want)
	}

	res := call(t, client, "v2", sandbox.DemoMastercardTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	if got := decrypt(t, ms[0], res).TokenizedCard.ApplicationTransactionCounter; got != "" {
		t.Errorf("Mastercard applicationTransactionCounter = %q, want none", got)
	}
}

func TestBusinessRules(t *testing.T) {
	const suspendedID = "7030000000000055555"
	ss, ms := defaultSandbox(t)
	suspended := demoToken(t, sandbox.DemoVisaTokenID)
	suspended.ID = suspendedID
	suspended.State = sandbox.TokenSuspended
	if err := ss.sandbox.AddToken(suspended); err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	merchant := ms[0]
	client := newClient(t, ss, signerFor(merchant))

	passkey := []gen.AuthenticatedIdentity{{ID: "aWQ", Provider: gen.IdentityProviderVisaPaymentPasskey}}

	tests := []struct {
		name      string
		version   string
		tokenID   string
		request   gen.PaymentCredentialsRequest
		errorType string // empty for 201
		status    int
		check     func(t *testing.T, got gen.PaymentCredentials)
	}{
		{
			name:      "American Express rejects CRYPTOGRAM",
			tokenID:   sandbox.DemoAmericanExpressTokenID,
			request:   gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeCryptogram},
			errorType: "invalidCombination", status: 400,
		},
		{
			name:    "American Express SECURITY_CODE",
			tokenID: sandbox.DemoAmericanExpressTokenID,
			request: gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeSecurityCode},
			check: func(t *testing.T, got gen.PaymentCredentials) {
				if !fourDigits.MatchString(got.TokenizedCard.SecurityCode) {
					t.Errorf("securityCode = %q, want four digits", got.TokenizedCard.SecurityCode)
				}
				if got.TokenizedCard.Cryptogram != "" {
					t.Errorf("cryptogram = %q, want none", got.TokenizedCard.Cryptogram)
				}
			},
		},
		{
			name:    "Visa CRYPTOGRAM",
			tokenID: sandbox.DemoVisaTokenID,
			request: gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeCryptogram},
			check: func(t *testing.T, got gen.PaymentCredentials) {
				checkCryptogram(t, got.TokenizedCard)
				if got.TokenizedCard.ECI != "07" {
					t.Errorf("eci = %q, want 07", got.TokenizedCard.ECI)
				}
			},
		},
		{
			name:    "Mastercard CRYPTOGRAM",
			tokenID: sandbox.DemoMastercardTokenID,
			request: gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeCryptogram},
			check: func(t *testing.T, got gen.PaymentCredentials) {
				checkCryptogram(t, got.TokenizedCard)
				if got.TokenizedCard.ECI == "" {
					t.Error("eci is empty")
				}
			},
		},
		{
			name:    "Visa passkey earns ECI 05",
			tokenID: sandbox.DemoVisaTokenID,
			request: gen.PaymentCredentialsRequest{AuthenticatedIdentities: passkey},
			check: func(t *testing.T, got gen.PaymentCredentials) {
				if got.TokenizedCard.ECI != "05" {
					t.Errorf("eci = %q, want 05", got.TokenizedCard.ECI)
				}
			},
		},
		{
			name:    "Visa SECURITY_CODE",
			tokenID: sandbox.DemoVisaTokenID,
			request: gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeSecurityCode},
			check: func(t *testing.T, got gen.PaymentCredentials) {
				if !threeDigits.MatchString(got.TokenizedCard.SecurityCode) {
					t.Errorf("securityCode = %q, want three digits", got.TokenizedCard.SecurityCode)
				}
				if got.TokenizedCard.Cryptogram != "" {
					t.Errorf("cryptogram = %q, want none", got.TokenizedCard.Cryptogram)
				}
			},
		},
		{
			name:      "Mastercard rejects SECURITY_CODE",
			tokenID:   sandbox.DemoMastercardTokenID,
			request:   gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeSecurityCode},
			errorType: "invalidCombination", status: 400,
		},
		{
			name:    "NETWORK_TOKEN for Visa",
			tokenID: sandbox.DemoVisaTokenID,
			request: gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeNetworkToken},
			check:   checkNetworkTokenOnly(sandbox.DemoVisaTokenID),
		},
		{
			name:    "NETWORK_TOKEN for American Express",
			tokenID: sandbox.DemoAmericanExpressTokenID,
			request: gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeNetworkToken},
			check:   checkNetworkTokenOnly(sandbox.DemoAmericanExpressTokenID),
		},
		{
			name:    "AFT for Visa CRYPTOGRAM",
			tokenID: sandbox.DemoVisaTokenID,
			request: gen.PaymentCredentialsRequest{
				PaymentCredentialType: gen.PaymentCredentialTypeCryptogram,
				TransactionType:       gen.TransactionTypeAccountFunding,
			},
			check: func(t *testing.T, got gen.PaymentCredentials) { checkCryptogram(t, got.TokenizedCard) },
		},
		{
			name:      "AFT for Visa without a credential type",
			tokenID:   sandbox.DemoVisaTokenID,
			request:   gen.PaymentCredentialsRequest{TransactionType: gen.TransactionTypeAccountFunding},
			errorType: "invalidCombination", status: 400,
		},
		{
			name:    "AFT for Mastercard",
			tokenID: sandbox.DemoMastercardTokenID,
			request: gen.PaymentCredentialsRequest{
				PaymentCredentialType: gen.PaymentCredentialTypeCryptogram,
				TransactionType:       gen.TransactionTypeAccountFunding,
			},
			errorType: "invalidCombination", status: 400,
		},
		{
			name:      "AFT for American Express",
			tokenID:   sandbox.DemoAmericanExpressTokenID,
			request:   gen.PaymentCredentialsRequest{TransactionType: gen.TransactionTypeAccountFunding},
			errorType: "invalidCombination", status: 400,
		},
		{
			name:    "ECOM for Mastercard",
			tokenID: sandbox.DemoMastercardTokenID,
			request: gen.PaymentCredentialsRequest{TransactionType: gen.TransactionTypeEcommerce},
			check:   func(t *testing.T, got gen.PaymentCredentials) { checkCryptogram(t, got.TokenizedCard) },
		},
		{
			name:    "no network token on v3 returns the card",
			version: "v3",
			tokenID: sandbox.DemoNoNetworkTokenID,
			check: func(t *testing.T, got gen.PaymentCredentials) {
				want := gen.Card{Number: "400005XXXXXX5556", ExpirationMonth: "09", ExpirationYear: "2030", Type: "001"}
				if got.Card != want {
					t.Errorf("card = %+v, want %+v", got.Card, want)
				}
				if wantSelf := "/tms/v3/tokens/" + sandbox.DemoNoNetworkTokenID + "/payment-credentials"; got.Links.Self.Href != wantSelf {
					t.Errorf("_links.self = %q, want %q", got.Links.Self.Href, wantSelf)
				}
				if got.TokenizedCard != (gen.TokenizedCard{}) {
					t.Errorf("tokenizedCard = %+v, want none", got.TokenizedCard)
				}
			},
		},
		{
			name:      "no network token on v2",
			version:   "v2",
			tokenID:   sandbox.DemoNoNetworkTokenID,
			errorType: "invalidCombination", status: 400,
		},
		{
			name:      "suspended token",
			tokenID:   suspendedID,
			errorType: "declined", status: 403,
		},
	}
	for _, tt := range tests {
		versions := []string{"v2", "v3"}
		if tt.version != "" {
			versions = []string{tt.version}
		}
		for _, version := range versions {
			t.Run(tt.name+" "+version, func(t *testing.T) {
				res := call(t, client, version, tt.tokenID, tt.request, callOptions{})
				if tt.errorType != "" {
					errorBody(t, res, tt.status, tt.errorType)
					if rec := ss.lastRecord(t); rec.ErrorType != tt.errorType {
						t.Errorf("Record.ErrorType = %q, want %q", rec.ErrorType, tt.errorType)
					}
					return
				}
				tt.check(t, decrypt(t, merchant, res))
			})
		}
	}
}

func checkNetworkTokenOnly(tokenID string) func(t *testing.T, got gen.PaymentCredentials) {
	return func(t *testing.T, got gen.PaymentCredentials) {
		card := got.TokenizedCard
		var token sandbox.Token
		for _, demo := range sandbox.DemoTokens() {
			if demo.ID == tokenID {
				token = demo
			}
		}
		if card.Number != token.NetworkTokenNumber {
			t.Errorf("number = %q, want %q", card.Number, token.NetworkTokenNumber)
		}
		if card.ExpirationMonth != token.ExpirationMonth || card.ExpirationYear != token.ExpirationYear {
			t.Errorf("expiry = %s/%s, want %s/%s", card.ExpirationMonth, card.ExpirationYear, token.ExpirationMonth, token.ExpirationYear)
		}
		if card.Cryptogram != "" || card.ECI != "" || card.SecurityCode != "" || card.ApplicationTransactionCounter != "" {
			t.Errorf("cryptogram %q, eci %q, securityCode %q, counter %q, want none",
				card.Cryptogram, card.ECI, card.SecurityCode, card.ApplicationTransactionCounter)
		}
	}
}

func TestTokenLookupErrors(t *testing.T) {
	const allowedProfile = "93B32398-AD51-4CC2-A682-EA3E93614EB1"
	const otherProfile = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"

	ms := generatedMerchants(t)
	restricted := ms[0].Merchant
	restricted.ProfileIDs = []string{allowedProfile}
	ss := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{restricted}, Tokens: sandbox.DemoTokens()})
	client := newClient(t, ss, signerFor(ms[0]))

	for _, version := range []string{"v2", "v3"} {
		t.Run("unknown token "+version, func(t *testing.T) {
			res := call(t, client, version, "7030000000000000000", gen.PaymentCredentialsRequest{}, callOptions{})
			errorBody(t, res, http.StatusNotFound, "notFound")
		})
		t.Run("deleted token "+version, func(t *testing.T) {
			res := call(t, client, version, sandbox.DemoDeletedTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
			errorBody(t, res, http.StatusGone, "notAvailable")
		})
		t.Run("profile not allowed "+version, func(t *testing.T) {
			res := call(t, client, version, sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{profileID: otherProfile})
			errorBody(t, res, http.StatusForbidden, "forbidden")
		})
		t.Run("profile allowed "+version, func(t *testing.T) {
			res := call(t, client, version, sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{profileID: allowedProfile})
			decrypt(t, ms[0], res)
		})
		t.Run("no profile "+version, func(t *testing.T) {
			res := call(t, client, version, sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
			decrypt(t, ms[0], res)
		})
	}
}

func TestReservedCharactersInTokenID(t *testing.T) {
	ss, ms := defaultSandbox(t)
	for _, id := range []string{"a b", "a/b", "a%2Fb", "a?b#c"} {
		token := demoToken(t, sandbox.DemoVisaTokenID)
		token.ID = id
		if err := ss.sandbox.AddToken(token); err != nil {
			t.Fatalf("AddToken(%q): %v", id, err)
		}
	}
	client := newClient(t, ss, signerFor(ms[0]))

	tests := []struct {
		id      string
		escaped string
	}{
		{"a b", "a%20b"},
		{"a/b", "a%2Fb"},
		{"a%2Fb", "a%252Fb"},
		{"a?b#c", "a%3Fb%23c"},
	}
	for _, tt := range tests {
		for _, version := range []string{"v2", "v3"} {
			t.Run(tt.id+" "+version, func(t *testing.T) {
				res := call(t, client, version, tt.id, gen.PaymentCredentialsRequest{}, callOptions{})
				got := decrypt(t, ms[0], res)
				if want := "/tms/" + version + "/tokens/" + tt.escaped + "/payment-credentials"; got.Links.Self.Href != want {
					t.Errorf("_links.self = %q, want %q", got.Links.Self.Href, want)
				}
				if rec := ss.lastRecord(t); rec.TokenID != tt.id {
					t.Errorf("Record.TokenID = %q, want %q", rec.TokenID, tt.id)
				}
			})
		}
	}
}

func TestJWEHeader(t *testing.T) {
	ms := generatedMerchants(t)
	custom := ms[1].Merchant
	custom.MLEKeyID = "0123456789abcdef0123456789abcdef01234567"
	ss := startSandbox(t, sandbox.Config{
		Merchants: []sandbox.Merchant{ms[0].Merchant, custom},
		Tokens:    sandbox.DemoTokens(),
	})

	derived, err := sandbox.MLEKeyID(ms[0].MLEPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(derived) {
		t.Errorf("MLEKeyID = %q, want 40 lower-case hex characters", derived)
	}

	for _, tt := range []struct {
		merchant testMerchant
		kid      string
	}{
		{ms[0], derived},
		{testMerchant{Merchant: custom, mleKey: ms[1].mleKey}, custom.MLEKeyID},
	} {
		t.Run(tt.merchant.ID, func(t *testing.T) {
			client := newClient(t, ss, signerFor(tt.merchant))
			res := call(t, client, "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
			decrypt(t, tt.merchant, res)

			parts := strings.Split(string(res.body), ".")
			if len(parts) != 5 {
				t.Fatalf("JWE has %d parts, want 5", len(parts))
			}
			want := map[string]any{"kid": tt.kid, "cty": "json", "typ": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP-256"}
			header := protectedHeader(t, string(res.body))
			if len(header) != len(want) {
				t.Errorf("protected header %v has %d parameters, want %d", header, len(header), len(want))
			}
			for name, value := range want {
				if header[name] != value {
					t.Errorf("header %s = %v, want %v", name, header[name], value)
				}
			}

			sizes := map[string]struct{ part, bytes int }{
				"encrypted key": {1, 256},
				"IV":            {2, 12},
				"tag":           {4, 16},
			}
			for name, size := range sizes {
				raw, err := base64.RawURLEncoding.DecodeString(parts[size.part])
				if err != nil {
					t.Fatalf("decode %s: %v", name, err)
				}
				if len(raw) != size.bytes {
					t.Errorf("%s has %d bytes, want %d", name, len(raw), size.bytes)
				}
			}
		})
	}
}

func TestConcurrentRequests(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))

	var wg sync.WaitGroup
	results := make([]result, 16)
	errs := make([]error, 16)
	addErrs := make([]error, 16)
	for i := range results {
		wg.Add(2)
		go func() {
			defer wg.Done()
			tokenID := sandbox.DemoVisaTokenID
			if i%2 == 1 {
				tokenID = sandbox.DemoAmericanExpressTokenID
			}
			results[i], errs[i] = send(client, "v3", tokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		}()
		go func() {
			defer wg.Done()
			token := sandbox.DemoTokens()[1]
			token.ID = fmt.Sprintf("concurrent-%d", i)
			addErrs[i] = ss.sandbox.AddToken(token)
		}()
	}
	wg.Wait()

	for i := range results {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if addErrs[i] != nil {
			t.Errorf("AddToken %d: %v", i, addErrs[i])
		}
		decrypt(t, ms[0], results[i])
	}
	res := call(t, client, "v2", "concurrent-7", gen.PaymentCredentialsRequest{}, callOptions{})
	decrypt(t, ms[0], res)
}
