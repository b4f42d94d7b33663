package tokenapi

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// fixtureKey is the MLE private key the JWE fixtures were encrypted to, by the jose
// library for Node.
func fixtureKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("testdata/mle-private-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("testdata/mle-private-key.pem holds no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(*rsa.PrivateKey)
}

func readFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func newTestDecrypter(t testing.TB, opts DecrypterOptions, keys ...MLEKey) *Decrypter {
	t.Helper()
	d, err := NewDecrypter(keys, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// assertSameJSON compares two JSON documents by value.
func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want invalid JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs:\ngot  %s\nwant %s", got, want)
	}
}

func TestDecryptFixtures(t *testing.T) {
	key := fixtureKey(t)
	cases := []struct {
		name   string
		legacy bool
	}{
		{"v2-visa-cryptogram", false},
		{"v3-visa-full", false},
		{"rsa-oaep-a128gcm", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDecrypter(t, DecrypterOptions{AllowLegacyAlgorithms: tc.legacy}, MLEKey{Key: key})
			creds, err := d.Decrypt(readFixture(t, tc.name+".jwe"))
			if err != nil {
				t.Fatal(err)
			}
			want := []byte(readFixture(t, tc.name+".json"))
			assertSameJSON(t, creds.RawJSON(), want)
			if creds.KeyID != "a0c4f1d2e3b4a5968778695a4b3c2d1e0f9e8d7c" {
				t.Errorf("KeyID = %q", creds.KeyID)
			}

			// Re-encoding the typed value gives the plaintext back, less unknown fields and
			// empty strings: every documented field has a home in the types.
			var plain map[string]any
			if err := json.Unmarshal(want, &plain); err != nil {
				t.Fatal(err)
			}
			delete(plain, "futureField")
			dropEmptyStrings(plain)
			wantKnown, _ := json.Marshal(plain)
			encoded, err := json.Marshal(creds)
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, encoded, wantKnown)
		})
	}
}

// dropEmptyStrings removes "" values from a decoded JSON object, recursively, because the
// typed values leave empty fields out when encoded.
func dropEmptyStrings(object map[string]any) {
	for key, value := range object {
		switch v := value.(type) {
		case string:
			if v == "" {
				delete(object, key)
			}
		case map[string]any:
			dropEmptyStrings(v)
		}
	}
}

func TestDecryptV3FixtureFields(t *testing.T) {
	d := newTestDecrypter(t, DecrypterOptions{}, MLEKey{Key: fixtureKey(t)})
	creds, err := d.Decrypt(readFixture(t, "v3-visa-full.jwe"))
	if err != nil {
		t.Fatal(err)
	}
	tc := creds.TokenizedCard
	if tc.Number.Reveal() != "4895370015293175" || tc.Cryptogram.Reveal() != "AQAAAAAAAQfcXV8gAAAAAAAAAAA=" {
		t.Errorf("number or cryptogram wrong: %q %q", tc.Number.Reveal(), tc.Cryptogram.Reveal())
	}
	if tc.ECI != "07" || tc.State != "ACTIVE" || tc.Source != "ONFILE" || tc.Type != "visa" {
		t.Errorf("eci %q state %q source %q type %q", tc.ECI, tc.State, tc.Source, tc.Type)
	}
	if tc.Card.ExpirationPrinted == nil || !*tc.Card.ExpirationPrinted {
		t.Error("card.expirationPrinted not decoded as true")
	}
	if tc.Card.IssueDate != "2024-01-15" || tc.Card.TermsAndConditions.URL != "https://example.test/terms" {
		t.Errorf("issueDate %q terms %q", tc.Card.IssueDate, tc.Card.TermsAndConditions.URL)
	}
	if tc.VerificationResults.Address != "NOT_SUPPORTED" {
		t.Errorf("verificationResults.address = %q", tc.VerificationResults.Address)
	}
	if creds.Card.Number.Reveal() != "411111XXXXXX1111" || creds.Issuer.PaymentAccountReference == "" {
		t.Errorf("card %q issuer %q", creds.Card.Number.Reveal(), creds.Issuer.PaymentAccountReference)
	}
	if !bytes.Contains(creds.RawJSON(), []byte("futureField")) {
		t.Error("RawJSON lost the unknown field")
	}
}

func TestDecryptNegativeFixtures(t *testing.T) {
	d := newTestDecrypter(t, DecrypterOptions{}, MLEKey{Key: fixtureKey(t)})
	cases := []struct {
		file    string
		reason  error
		message string
	}{
		{"wrong-key.jwe", ErrDecryptionFailed, "different key"},
		{"tampered-tag.jwe", ErrDecryptionFailed, "modified"},
		{"rsa1_5-rejected.jwe", ErrUnsupportedAlgorithm, `"RSA1_5"`},
		{"rsa-oaep-a128gcm.jwe", ErrUnsupportedAlgorithm, `"RSA-OAEP" is not accepted`},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			creds, err := d.Decrypt(readFixture(t, tc.file))
			if creds != nil {
				t.Error("returned credentials with an error")
			}
			if !errors.Is(err, tc.reason) {
				t.Fatalf("error = %v, want %v", err, tc.reason)
			}
			var decryptErr *DecryptError
			if !errors.As(err, &decryptErr) {
				t.Fatalf("error %T is not a *DecryptError", err)
			}
			if decryptErr.KeyID != "a0c4f1d2e3b4a5968778695a4b3c2d1e0f9e8d7c" {
				t.Errorf("KeyID = %q", decryptErr.KeyID)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("message %q does not contain %q", err, tc.message)
			}
		})
	}
}

// encryptTo makes a JWE the way CyberSource does, to pub with the given kid.
func encryptTo(t testing.TB, pub *rsa.PublicKey, kid string, alg jose.KeyAlgorithm, enc jose.ContentEncryption, plaintext string) string {
	t.Helper()
	encrypter, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: pub, KeyID: kid},
		(&jose.EncrypterOptions{}).WithContentType("json").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	object, err := encrypter.Encrypt([]byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := object.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return compact
}

func generateKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

const samplePayload = `{"tokenizedCard":{"number":"4895370015293175","cryptogram":"AQAAAAAAAQfcXV8gAAAAAAAAAAA=","eci":"07"}}`

func TestDecryptSelectsKeyByKeyID(t *testing.T) {
	oldKey, newKey := fixtureKey(t), generateKey(t)
	d := newTestDecrypter(t, DecrypterOptions{},
		MLEKey{KeyID: "old", Key: oldKey},
		MLEKey{KeyID: "new", Key: newKey})

	for _, kid := range []string{"old", "new"} {
		pub := &oldKey.PublicKey
		if kid == "new" {
			pub = &newKey.PublicKey
		}
		creds, err := d.Decrypt(encryptTo(t, pub, kid, jose.RSA_OAEP_256, jose.A256GCM, samplePayload))
		if err != nil {
			t.Fatalf("kid %s: %v", kid, err)
		}
		if creds.KeyID != kid || creds.TokenizedCard.ECI != "07" {
			t.Errorf("kid %s: got KeyID %q eci %q", kid, creds.KeyID, creds.TokenizedCard.ECI)
		}
	}

	_, err := d.Decrypt(encryptTo(t, &newKey.PublicKey, "retired-2023", jose.RSA_OAEP_256, jose.A256GCM, samplePayload))
	if !errors.Is(err, ErrUnknownKeyID) {
		t.Fatalf("error = %v, want ErrUnknownKeyID", err)
	}
	if !strings.Contains(err.Error(), `"retired-2023"`) || !strings.Contains(err.Error(), "old, new") {
		t.Errorf("message %q does not name the kid and the configured ones", err)
	}
}

func TestDecryptSingleKeyIgnoresKeyID(t *testing.T) {
	key := generateKey(t)
	d := newTestDecrypter(t, DecrypterOptions{}, MLEKey{KeyID: "what-the-merchant-guessed", Key: key})
	creds, err := d.Decrypt(encryptTo(t, &key.PublicKey, "8f14e45fceea167a5a36dedd4bea2543a0eb65d5", jose.RSA_OAEP_256, jose.A256GCM, samplePayload))
	if err != nil {
		t.Fatal(err)
	}
	if creds.TokenizedCard.Cryptogram.Reveal() != "AQAAAAAAAQfcXV8gAAAAAAAAAAA=" {
		t.Errorf("cryptogram = %q", creds.TokenizedCard.Cryptogram.Reveal())
	}
}

// hsmKey hides an *rsa.PrivateKey behind the crypto.Decrypter interface, as an HSM or KMS
// client would, and counts the calls.
type hsmKey struct {
	key   *rsa.PrivateKey
	calls int
}

func (h *hsmKey) Public() crypto.PublicKey { return &h.key.PublicKey }
func (h *hsmKey) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	h.calls++
	return h.key.Decrypt(r, msg, opts)
}

func TestDecryptWithCryptoDecrypter(t *testing.T) {
	key := generateKey(t)
	hsm := &hsmKey{key: key}
	d := newTestDecrypter(t, DecrypterOptions{AllowLegacyAlgorithms: true}, MLEKey{Key: hsm})
	for _, alg := range []jose.KeyAlgorithm{jose.RSA_OAEP_256, jose.RSA_OAEP} {
		creds, err := d.Decrypt(encryptTo(t, &key.PublicKey, "k", alg, jose.A256GCM, samplePayload))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if creds.TokenizedCard.ECI != "07" {
			t.Errorf("%s: eci %q", alg, creds.TokenizedCard.ECI)
		}
	}
	if hsm.calls != 2 {
		t.Errorf("the crypto.Decrypter was called %d times, want 2", hsm.calls)
	}
}

func TestNewDecrypterRejectsBadKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	key := fixtureKey(t)
	cases := map[string][]MLEKey{
		"no keys":              nil,
		"nil key":              {{KeyID: "a"}},
		"1024-bit key":         {{Key: small}},
		"several without kid":  {{KeyID: "a", Key: key}, {Key: key}},
		"several with one kid": {{KeyID: "a", Key: key}, {KeyID: "a", Key: key}},
	}
	for name, keys := range cases {
		if _, err := NewDecrypter(keys, DecrypterOptions{}); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: error = %v, want ErrInvalidOption", name, err)
		}
	}
}

func TestDecryptMalformedInput(t *testing.T) {
	key := fixtureKey(t)
	d := newTestDecrypter(t, DecrypterOptions{}, MLEKey{Key: key})
	valid := strings.TrimSpace(readFixture(t, "v2-visa-cryptogram.jwe"))
	parts := strings.Split(valid, ".")
	header := func(h string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + strings.Join(parts[1:], ".")
	}

	cases := []struct {
		name   string
		input  string
		reason error
	}{
		{"empty", "", ErrMalformedJWE},
		{"white space", " \n", ErrMalformedJWE},
		{"JSON object", `{"tokenizedCard":{}}`, ErrMalformedJWE},
		{"JSON serialization", `{"protected":"eyJ","encrypted_key":"","iv":"","ciphertext":"","tag":""}`, ErrMalformedJWE},
		{"four parts", strings.Join(parts[:4], "."), ErrMalformedJWE},
		{"six parts", valid + ".AAAA", ErrMalformedJWE},
		{"padded base64", parts[0] + "==." + strings.Join(parts[1:], "."), ErrMalformedJWE},
		{"standard base64", strings.Replace(valid, "_", "/", 1), ErrMalformedJWE},
		{"empty ciphertext", strings.Join([]string{parts[0], parts[1], parts[2], "", parts[4]}, "."), ErrMalformedJWE},
		{"header not JSON", header("not json"), ErrMalformedJWE},
		{"header JSON array", header(`["alg"]`), ErrMalformedJWE},
		{"missing alg", header(`{"enc":"A256GCM"}`), ErrUnsupportedAlgorithm},
		{"missing enc", header(`{"alg":"RSA-OAEP-256"}`), ErrUnsupportedAlgorithm},
		{"alg none", header(`{"alg":"none","enc":"A256GCM"}`), ErrUnsupportedAlgorithm},
		{"alg dir", header(`{"alg":"dir","enc":"A256GCM"}`), ErrUnsupportedAlgorithm},
		{"enc A128CBC-HS256", header(`{"alg":"RSA-OAEP-256","enc":"A128CBC-HS256"}`), ErrUnsupportedAlgorithm},
		{"zip", header(`{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}`), ErrUnsupportedAlgorithm},
		{"crit", header(`{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["exp"],"exp":1}`), ErrUnsupportedAlgorithm},
		{"header changed", header(`{"kid":"x","cty":"json","typ":"JWT","enc":"A256GCM","alg":"RSA-OAEP-256"}`), ErrDecryptionFailed},
		{"too large", valid + strings.Repeat("A", maxJWEBytes), ErrMalformedJWE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := d.Decrypt(tc.input)
			if creds != nil {
				t.Error("returned credentials with an error")
			}
			if !errors.Is(err, tc.reason) {
				t.Errorf("error = %v, want %v", err, tc.reason)
			}
			var decryptErr *DecryptError
			if !errors.As(err, &decryptErr) {
				t.Errorf("error %T is not a *DecryptError", err)
			}
		})
	}
}

func TestDecryptInvalidPayload(t *testing.T) {
	key := generateKey(t)
	d := newTestDecrypter(t, DecrypterOptions{}, MLEKey{Key: key})
	for name, plaintext := range map[string]string{
		"not JSON":       "card number 4111111111111111",
		"JSON array":     `[1,2]`,
		"number as type": `{"tokenizedCard":{"number":4111111111111111}}`,
		"truncated JSON": `{"tokenizedCard":{"number":"41`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := d.Decrypt(encryptTo(t, &key.PublicKey, "k", jose.RSA_OAEP_256, jose.A256GCM, plaintext))
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error = %v, want ErrInvalidPayload", err)
			}
			if strings.Contains(err.Error(), "4111111111111111") || strings.Contains(err.Error(), "card number") {
				t.Errorf("the error repeats the plaintext: %v", err)
			}
		})
	}
}

func FuzzDecrypt(f *testing.F) {
	for _, name := range []string{"v2-visa-cryptogram.jwe", "v3-visa-full.jwe", "tampered-tag.jwe", "rsa1_5-rejected.jwe", "rsa-oaep-a128gcm.jwe"} {
		f.Add(readFixture(f, name))
	}
	f.Add("a.b.c.d.e")
	f.Add("")
	d, err := NewDecrypter([]MLEKey{{Key: fixtureKey(f)}}, DecrypterOptions{AllowLegacyAlgorithms: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, input string) {
		creds, err := d.Decrypt(input)
		if err == nil && creds == nil {
			t.Error("nil credentials without an error")
		}
		if err != nil {
			var decryptErr *DecryptError
			if !errors.As(err, &decryptErr) {
				t.Errorf("error %T is not a *DecryptError", err)
			}
		}
	})
}
