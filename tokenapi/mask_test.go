package tokenapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Card data of the test payload; none of these may appear in printed output.
const (
	testNetworkToken = "4895370015293175"
	testPAN          = "4111111111111111"
	testCryptogram   = "AQAAAAAAAQfcXV8gAAAAAAAAAAA="
	testSecurityCode = "4471"
)

func sampleCredentials() *PaymentCredentials {
	return &PaymentCredentials{
		Card: Card{Number: testPAN, ExpirationMonth: "12", ExpirationYear: "2031", Type: "001"},
		TokenizedCard: TokenizedCard{
			State: "ACTIVE", Type: "visa",
			Number: testNetworkToken, ExpirationMonth: "08", ExpirationYear: "2031",
			Cryptogram: testCryptogram, SecurityCode: testSecurityCode, ECI: "07",
			Card: TokenizedCardCard{Number: testPAN, Suffix: "1111"},
		},
		BillTo:        BillingDetails{Email: "jane@example.test"},
		KeyID:         "a0c4f1d2e3b4a5968778695a4b3c2d1e0f9e8d7c",
		CorrelationID: "corr-1",
	}
}

func assertNoCardData(t *testing.T, label, output string) {
	t.Helper()
	for _, secret := range []string{testNetworkToken, testPAN, testCryptogram, testSecurityCode, "jane@example.test"} {
		if strings.Contains(output, secret) {
			t.Errorf("%s prints %q: %s", label, secret, output)
		}
	}
}

func TestPrintingMasksCardData(t *testing.T) {
	creds := sampleCredentials()
	values := map[string]any{
		"*PaymentCredentials": creds,
		"PaymentCredentials":  *creds,
		"TokenizedCard":       creds.TokenizedCard,
		"Card":                creds.Card,
		"TokenizedCardCard":   creds.TokenizedCard.Card,
		"CardNumber":          creds.TokenizedCard.Number,
		"Secret":              creds.TokenizedCard.Cryptogram,
		"struct holding them": struct{ C *PaymentCredentials }{creds},
		"slice of them":       []TokenizedCard{creds.TokenizedCard},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"}
	for name, value := range values {
		for _, verb := range verbs {
			assertNoCardData(t, name+" with "+verb, fmt.Sprintf(verb, value))
		}
		assertNoCardData(t, name+" with Sprint", fmt.Sprint(value))
	}
}

func TestPrintingShowsUsefulSummary(t *testing.T) {
	got := sampleCredentials().String()
	for _, want := range []string{"****3175", "08/2031", "eci: 07", "cryptogram: [REDACTED]", "securityCode: [REDACTED]", "****1111", "kid: a0c4"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %s, missing %q", got, want)
		}
	}
}

func TestSlogMasksCardData(t *testing.T) {
	creds := sampleCredentials()
	var buf bytes.Buffer
	for name, handler := range map[string]slog.Handler{
		"JSON": slog.NewJSONHandler(&buf, nil),
		"text": slog.NewTextHandler(&buf, nil),
	} {
		buf.Reset()
		logger := slog.New(handler)
		logger.Info("credentials", "creds", creds, "token", creds.TokenizedCard, "number", creds.TokenizedCard.Number, "cryptogram", creds.TokenizedCard.Cryptogram)
		logger.Info("value", slog.Any("creds", *creds), slog.Any("card", creds.Card))
		output := buf.String()
		assertNoCardData(t, name+" handler", output)
		if !strings.Contains(output, "****3175") {
			t.Errorf("%s handler output lacks the masked number: %s", name, output)
		}
	}
}

func TestJSONKeepsRealValues(t *testing.T) {
	encoded, err := json.Marshal(sampleCredentials())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{testNetworkToken, testPAN, testCryptogram, testSecurityCode} {
		if !bytes.Contains(encoded, []byte(want)) {
			t.Errorf("JSON lacks %q: %s", want, encoded)
		}
	}
	if bytes.Contains(encoded, []byte("corr-1")) {
		t.Errorf("JSON carries response metadata, which is not part of the payload: %s", encoded)
	}
}

func TestCardNumberMasking(t *testing.T) {
	cases := map[CardNumber]string{
		"":                 "",
		"4895370015293175": "****3175",
		"462294XXXXXX6726": "****6726",
		"123456789":        "****",
		"378282246310005":  "****0005",
	}
	for number, want := range cases {
		if got := number.String(); got != want {
			t.Errorf("CardNumber(%q).String() = %q, want %q", number, got, want)
		}
	}
	if got := Secret("").String(); got != "" {
		t.Errorf("empty Secret prints %q", got)
	}
}

func TestMaskTokenID(t *testing.T) {
	cases := map[string]string{
		"7010000000016241111": "7010…(19)",
		"abc":                 "…(3)",
		"":                    "…(0)",
		"\x00\x01ab12345":     "…(9)",
	}
	for id, want := range cases {
		if got := maskTokenID(id); got != want {
			t.Errorf("maskTokenID(%q) = %q, want %q", id, got, want)
		}
	}
}
