package sandbox_test

import (
	"strings"
	"testing"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/sandbox"
)

// jweParts splits a compact JWE and fails the test unless it has five parts.
func jweParts(t *testing.T, body []byte) []string {
	t.Helper()
	parts := strings.Split(string(body), ".")
	if len(parts) != 5 {
		t.Fatalf("the body has %d dot-separated parts, want 5", len(parts))
	}
	return parts
}

func TestSharedContentKeyRotatesAfterReuse(t *testing.T) {
	m := generatedMerchants(t)[0]
	ss := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{m.Merchant}, Tokens: sandbox.DemoTokens(), ContentKeyReuse: 3})
	client := newClient(t, ss, signerFor(m))

	var encryptedKeys, ivs []string
	for range 4 {
		res := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		credentials := decrypt(t, m, res)
		if credentials.TokenizedCard.Cryptogram == "" {
			t.Error("the decrypted credentials have no cryptogram")
		}
		parts := jweParts(t, res.body)
		encryptedKeys = append(encryptedKeys, parts[1])
		ivs = append(ivs, parts[2])
	}

	if encryptedKeys[0] != encryptedKeys[1] || encryptedKeys[1] != encryptedKeys[2] {
		t.Error("the first three responses do not share the encrypted content key")
	}
	if encryptedKeys[3] == encryptedKeys[2] {
		t.Error("the fourth response reuses the content key past ContentKeyReuse")
	}
	seen := map[string]bool{}
	for i, iv := range ivs {
		if seen[iv] {
			t.Errorf("response %d repeats an IV", i+1)
		}
		seen[iv] = true
	}
}

func TestSharedContentKeyHeaderMatchesDefault(t *testing.T) {
	m := generatedMerchants(t)[0]
	fresh := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{m.Merchant}, Tokens: sandbox.DemoTokens()})
	shared := startSandbox(t, sandbox.Config{Merchants: []sandbox.Merchant{m.Merchant}, Tokens: sandbox.DemoTokens(), ContentKeyReuse: 10})

	freshBody := call(t, newClient(t, fresh, signerFor(m)), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{}).body
	sharedBody := call(t, newClient(t, shared, signerFor(m)), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{}).body
	if got, want := jweParts(t, sharedBody)[0], jweParts(t, freshBody)[0]; got != want {
		t.Errorf("protected header with a shared content key = %s, want %s as without", got, want)
	}
}

func TestFreshContentKeyByDefault(t *testing.T) {
	ss, ms := defaultSandbox(t)
	client := newClient(t, ss, signerFor(ms[0]))
	first := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	second := call(t, client, "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	if jweParts(t, first.body)[1] == jweParts(t, second.body)[1] {
		t.Error("two responses share an encrypted content key without ContentKeyReuse")
	}
}

func TestNegativeContentKeyReuseRejected(t *testing.T) {
	if _, err := sandbox.New(sandbox.Config{ContentKeyReuse: -1}); err == nil {
		t.Error("New accepted ContentKeyReuse -1")
	}
}
