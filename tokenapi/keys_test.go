package tokenapi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The password of testdata/mle-private-key.encrypted.pem.
const fixtureKeyPassword = "fixture-password"

func TestMLEKeyFormatsDecryptFixtures(t *testing.T) {
	jwe := readFixture(t, "v2-visa-cryptogram.jwe")
	for _, tc := range []struct {
		file     string
		password string
	}{
		{"mle-private-key.pem", ""},
		{"mle-private-key.pkcs1.pem", ""},
		{"mle-private-key.encrypted.pem", fixtureKeyPassword},
	} {
		t.Run(tc.file, func(t *testing.T) {
			key, err := LoadMLEKeyFile(filepath.Join("testdata", tc.file), []byte(tc.password))
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewDecrypter([]MLEKey{{Key: key}}, DecrypterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			creds, err := d.Decrypt(jwe)
			if err != nil {
				t.Fatal(err)
			}
			if creds.TokenizedCard.Number.Last4() != "3175" {
				t.Errorf("network token ends %q", creds.TokenizedCard.Number.Last4())
			}
		})
	}
}

func TestMLEKeyErrors(t *testing.T) {
	encrypted, err := os.ReadFile("testdata/mle-private-key.encrypted.pem")
	if err != nil {
		t.Fatal(err)
	}
	public, err := os.ReadFile("testdata/mle-public-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		data     []byte
		password string
		want     error
	}{
		{"no password", encrypted, "", ErrKeyPasswordRequired},
		{"wrong password", encrypted, "guess", ErrWrongKeyPassword},
		{"public key", public, "", ErrNoPEMKey},
		{"not PEM", []byte("hello"), "", ErrNoPEMKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMLEKey(tc.data, []byte(tc.password))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}

	_, err = LoadMLEKeyFile("testdata/no-such-key.pem", nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no-such-key.pem") {
		t.Errorf("missing file error = %v", err)
	}
}
