package pemkey

import (
	"bytes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Passwords of the encrypted files in testdata. testdata/README.md lists the openssl
// commands that made the files.
const (
	// fixturePassword encrypts mle-private-key.encrypted.pem.
	fixturePassword = "fixture-password"
	// testdataPassword encrypts every other encrypted file.
	testdataPassword = "testdata-password"
)

var sentinels = []error{ErrNoPEM, ErrPasswordRequired, ErrWrongPassword, ErrUnsupported}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading test fixture: %v", err)
	}
	return data
}

func mustParsePrivateKey(t *testing.T, name, password string) *rsa.PrivateKey {
	t.Helper()
	key, err := ParsePrivateKey(readTestdata(t, name), []byte(password))
	if err != nil {
		t.Fatalf("ParsePrivateKey(%s) error: %v", name, err)
	}
	return key
}

func mustParsePublicKey(t *testing.T, name string) *rsa.PublicKey {
	t.Helper()
	key, err := ParsePublicKey(readTestdata(t, name))
	if err != nil {
		t.Fatalf("ParsePublicKey(%s) error: %v", name, err)
	}
	return key
}

// checkError fails t unless err wraps want (or wraps no sentinel when want is nil) and
// its message contains every string in wantText.
func checkError(t *testing.T, err, want error, wantText ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("error is nil, expected an error")
	}
	t.Logf("error: %v", err)
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %q", err, want)
	}
	if want == nil {
		for _, sentinel := range sentinels {
			if errors.Is(err, sentinel) {
				t.Errorf("error %q wraps %q, expected a plain error", err, sentinel)
			}
		}
	}
	for _, text := range wantText {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

func TestParsePrivateKeyForms(t *testing.T) {
	reference := mustParsePrivateKey(t, "mle-private-key.pem", "")
	if got := reference.N.BitLen(); got != 2048 {
		t.Errorf("modulus is %d bits, expected 2048", got)
	}

	forms := []struct {
		name     string
		file     string
		password string
	}{
		{"PKCS#1", "mle-private-key.pkcs1.pem", ""},
		{"PKCS#8", "mle-private-key.pem", ""},
		{"PKCS#8 with unused password", "mle-private-key.pem", "ignored"},
		{"encrypted PKCS#8", "mle-private-key.encrypted.pem", fixturePassword},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			key := mustParsePrivateKey(t, form.file, form.password)
			if !key.Equal(reference) {
				t.Errorf("key from %s differs from the key in mle-private-key.pem", form.file)
			}
		})
	}

	public := mustParsePublicKey(t, "mle-public-key.pem")
	if !reference.PublicKey.Equal(public) {
		t.Error("private key does not match mle-public-key.pem")
	}
	other := mustParsePublicKey(t, "other-public-key.pem")
	if reference.PublicKey.Equal(other) {
		t.Error("private key matches other-public-key.pem, expected a different key")
	}
}

func TestParsePrivateKeyPBES2Variants(t *testing.T) {
	reference := mustParsePrivateKey(t, "mle-private-key.pem", "")

	variants := []struct {
		name     string
		file     string
		password string
	}{
		{"hmacWithSHA1 implied with aes128-CBC", "mle-private-key.sha1-aes128.pem", testdataPassword},
		{"hmacWithSHA1 implied with des-ede3-cbc", "mle-private-key.sha1-des3.pem", testdataPassword},
		{"hmacWithSHA224 with aes192-CBC", "mle-private-key.sha224-aes192.pem", testdataPassword},
		{"hmacWithSHA256 with aes256-CBC", "mle-private-key.encrypted.pem", fixturePassword},
		{"hmacWithSHA384 with des-ede3-cbc", "mle-private-key.sha384-des3.pem", testdataPassword},
		{"hmacWithSHA512 with aes256-CBC", "mle-private-key.sha512-aes256.pem", testdataPassword},
	}
	for _, variant := range variants {
		t.Run(variant.name, func(t *testing.T) {
			key := mustParsePrivateKey(t, variant.file, variant.password)
			if !key.Equal(reference) {
				t.Errorf("key from %s differs from the key in mle-private-key.pem", variant.file)
			}
		})
	}
}

func TestParsePrivateKeyPasswords(t *testing.T) {
	files := []string{
		"mle-private-key.encrypted.pem",
		"mle-private-key.sha1-aes128.pem",
		"mle-private-key.sha1-des3.pem",
		"mle-private-key.sha224-aes192.pem",
		"mle-private-key.sha384-des3.pem",
		"mle-private-key.sha512-aes256.pem",
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			data := readTestdata(t, file)

			wrongPassword := "not-the-password"
			_, err := ParsePrivateKey(data, []byte(wrongPassword))
			checkError(t, err, ErrWrongPassword, "check the password")
			if strings.Contains(err.Error(), wrongPassword) {
				t.Errorf("error %q contains the password", err)
			}

			_, err = ParsePrivateKey(data, []byte{})
			checkError(t, err, ErrPasswordRequired)

			_, err = ParsePrivateKey(data, nil)
			checkError(t, err, ErrPasswordRequired)
		})
	}
}

func TestParsePrivateKeyRejectedInput(t *testing.T) {
	encrypted := readTestdata(t, "mle-private-key.encrypted.pem")
	der, _ := pem.Decode(readTestdata(t, "mle-private-key.pem"))

	cases := []struct {
		name     string
		data     []byte
		password string
		want     error
		wantText []string
	}{
		{"empty", nil, "", ErrNoPEM, []string{"no PEM block"}},
		{"garbage", []byte("this is not a key\x00\xff\x01"), "", ErrNoPEM, []string{"no PEM block"}},
		{"truncated file", encrypted[:len(encrypted)/2], fixturePassword, ErrNoPEM, []string{"truncated"}},
		{"DER", der.Bytes, "", ErrNoPEM, []string{"DER"}},
		{"certificate only", readTestdata(t, "fixturemerchant.crt"), "", ErrNoPEM, []string{`found "CERTIFICATE"`}},
		{"public key only", readTestdata(t, "mle-public-key.pem"), "", ErrNoPEM, []string{`found "PUBLIC KEY"`}},
		{"EC PKCS#8", readTestdata(t, "ec-private-key.pem"), "", ErrUnsupported, []string{"EC (OID 1.2.840.10045.2.1)"}},
		{"EC SEC1", readTestdata(t, "ec-private-key.sec1.pem"), "", ErrUnsupported, []string{`"EC PRIVATE KEY"`}},
		{"EC encrypted PKCS#8", readTestdata(t, "ec-private-key.encrypted.pem"), testdataPassword, ErrUnsupported, []string{"EC (OID"}},
		{"Ed25519 PKCS#8", readTestdata(t, "ed25519-private-key.pem"), "", ErrUnsupported, []string{"Ed25519"}},
		{"legacy PEM encryption", readTestdata(t, "mle-private-key.legacy-aes128.pem"), testdataPassword, ErrUnsupported,
			[]string{"Proc-Type: 4,ENCRYPTED", "openssl pkcs8 -topk8 -v2 aes-256-cbc"}},
		{"legacy PEM encryption without password", readTestdata(t, "mle-private-key.legacy-aes128.pem"), "", ErrUnsupported,
			[]string{"openssl pkcs8 -topk8 -v2 aes-256-cbc"}},
		{"PKCS#12 PBE", readTestdata(t, "mle-private-key.pbes1.pem"), testdataPassword, ErrUnsupported,
			[]string{"PKCS#12", "1.2.840.113549.1.12.1.3", "openssl pkcs8 -topk8 -v2 aes-256-cbc"}},
		{"scrypt", readTestdata(t, "mle-private-key.scrypt.pem"), testdataPassword, ErrUnsupported,
			[]string{"scrypt", "openssl pkcs8 -topk8 -v2 aes-256-cbc"}},
		{"scrypt without password", readTestdata(t, "mle-private-key.scrypt.pem"), "", ErrUnsupported, []string{"scrypt"}},
		{"OpenSSH format", pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte("openssh-key-v1")}), "",
			ErrUnsupported, []string{"ssh-keygen -p -m PKCS8"}},
		{"DSA block", pem.EncodeToMemory(&pem.Block{Type: "DSA PRIVATE KEY", Bytes: []byte{0x30, 0x00}}), "",
			ErrUnsupported, []string{`"DSA PRIVATE KEY"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := ParsePrivateKey(tc.data, []byte(tc.password))
			if key != nil {
				t.Error("key is not nil")
			}
			checkError(t, err, tc.want, tc.wantText...)
		})
	}
}

func TestParsePrivateKeyMalformedDER(t *testing.T) {
	pkcs8, _ := pem.Decode(readTestdata(t, "mle-private-key.pem"))
	pkcs1, _ := pem.Decode(readTestdata(t, "mle-private-key.pkcs1.pem"))
	encrypted, _ := pem.Decode(readTestdata(t, "mle-private-key.encrypted.pem"))

	cases := []struct {
		name      string
		blockType string
		der       []byte
	}{
		{"PKCS#1 truncated", typeRSAPrivateKey, pkcs1.Bytes[:len(pkcs1.Bytes)/2]},
		{"PKCS#1 garbage", typeRSAPrivateKey, []byte("garbage")},
		{"PKCS#8 truncated", typePrivateKey, pkcs8.Bytes[:len(pkcs8.Bytes)/2]},
		{"PKCS#8 garbage", typePrivateKey, []byte("garbage")},
		{"encrypted truncated", typeEncryptedPrivateKey, encrypted.Bytes[:len(encrypted.Bytes)/2]},
		{"encrypted garbage", typeEncryptedPrivateKey, []byte("garbage")},
		{"encrypted trailing data", typeEncryptedPrivateKey, append(bytes.Clone(encrypted.Bytes), 0x00)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := pem.EncodeToMemory(&pem.Block{Type: tc.blockType, Bytes: tc.der})
			_, err := ParsePrivateKey(data, []byte(fixturePassword))
			checkError(t, err, nil, "invalid")
		})
	}
}

func TestParsePrivateKeyFirstBlock(t *testing.T) {
	reference := mustParsePrivateKey(t, "mle-private-key.pem", "")

	certThenKey := append(readTestdata(t, "fixturemerchant.crt"), readTestdata(t, "mle-private-key.pem")...)
	key, err := ParsePrivateKey(certThenKey, nil)
	if err != nil {
		t.Fatalf("certificate then key: %v", err)
	}
	if !key.Equal(reference) {
		t.Error("certificate then key: parsed key differs from mle-private-key.pem")
	}

	ecThenRSA := append(readTestdata(t, "ec-private-key.pem"), readTestdata(t, "mle-private-key.pem")...)
	_, err = ParsePrivateKey(ecThenRSA, nil)
	checkError(t, err, ErrUnsupported, "EC")
}

// pbes2Input describes an encrypted PKCS#8 key for the crafted-input tests. Each test
// changes one field of a valid input, and encode encrypts plaintext with the fields as
// they are unless ciphertext is set.
type pbes2Input struct {
	plaintext     []byte
	password      string
	salt          asn1.RawValue
	iterations    *big.Int
	keyLength     *big.Int
	prf           asn1.ObjectIdentifier // nil leaves the PRF out, which implies hmacWithSHA1
	cipher        asn1.ObjectIdentifier
	iv            []byte
	ciphertext    []byte
	dropLastBlock bool
}

const craftedPassword = "crafted-password"

func newPBES2Input(t *testing.T) *pbes2Input {
	block, _ := pem.Decode(readTestdata(t, "mle-private-key.pem"))
	return &pbes2Input{
		plaintext:  block.Bytes,
		password:   craftedPassword,
		salt:       asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagOctetString, Bytes: []byte("saltsalt")},
		iterations: big.NewInt(10),
		prf:        findPRF(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}).oid,
		cipher:     asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42},
		iv:         bytes.Repeat([]byte{0x42}, 16),
	}
}

func mustMarshal(t *testing.T, value any) []byte {
	t.Helper()
	der, err := asn1.Marshal(value)
	if err != nil {
		t.Fatalf("asn1.Marshal(%T): %v", value, err)
	}
	return der
}

// encrypt returns the input's plaintext padded with PKCS#7 and encrypted with CBC, or
// garbage of one block when the cipher or PRF is one the package does not support.
func (in *pbes2Input) encrypt(t *testing.T) []byte {
	scheme := findEncryptionScheme(in.cipher)
	prf := hmacWithSHA1
	if in.prf != nil {
		prf = findPRF(in.prf)
	}
	if scheme == nil || prf == nil {
		return bytes.Repeat([]byte{0x17}, 16)
	}

	key, err := pbkdf2.Key(prf.newHash, in.password, in.salt.Bytes, int(in.iterations.Int64()), scheme.keySize)
	if err != nil {
		t.Fatalf("pbkdf2.Key: %v", err)
	}
	block, err := scheme.newCipher(key)
	if err != nil {
		t.Fatalf("creating %s cipher: %v", scheme.name, err)
	}

	padLength := scheme.blockSize - len(in.plaintext)%scheme.blockSize
	padded := append(bytes.Clone(in.plaintext), bytes.Repeat([]byte{byte(padLength)}, padLength)...)
	ciphertext := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, in.iv).CryptBlocks(ciphertext, padded)
	return ciphertext
}

// encode returns the input as an "ENCRYPTED PRIVATE KEY" PEM block.
func (in *pbes2Input) encode(t *testing.T) []byte {
	t.Helper()
	params := pbkdf2Params{Salt: in.salt, IterationCount: in.iterations, KeyLength: in.keyLength}
	if in.prf != nil {
		params.PRF = pkix.AlgorithmIdentifier{Algorithm: in.prf, Parameters: asn1.NullRawValue}
	}
	kdfParams := mustMarshal(t, params)

	ciphertext := in.ciphertext
	if ciphertext == nil {
		ciphertext = in.encrypt(t)
	}
	if in.dropLastBlock {
		ciphertext = ciphertext[:len(ciphertext)-len(in.iv)]
	}

	info := encryptedPrivateKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{
			Algorithm: oidPBES2,
			Parameters: asn1.RawValue{FullBytes: mustMarshal(t, pbes2Params{
				KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
				EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: in.cipher, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, in.iv)}},
			})},
		},
		EncryptedData: ciphertext,
	}
	return pem.EncodeToMemory(&pem.Block{Type: typeEncryptedPrivateKey, Bytes: mustMarshal(t, info)})
}

func TestParsePrivateKeyCraftedPBES2(t *testing.T) {
	reference := mustParsePrivateKey(t, "mle-private-key.pem", "")

	valid := []struct {
		name   string
		modify func(*pbes2Input)
	}{
		{"baseline", func(*pbes2Input) {}},
		{"keyLength present", func(in *pbes2Input) { in.keyLength = big.NewInt(32) }},
		{"PRF left out", func(in *pbes2Input) { in.prf = nil }},
		{"empty salt", func(in *pbes2Input) { in.salt.Bytes = nil }},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			in := newPBES2Input(t)
			tc.modify(in)
			key, err := ParsePrivateKey(in.encode(t), []byte(craftedPassword))
			if err != nil {
				t.Fatalf("ParsePrivateKey error: %v", err)
			}
			if !key.Equal(reference) {
				t.Error("decrypted key differs from mle-private-key.pem")
			}
		})
	}

	invalid := []struct {
		name     string
		modify   func(*pbes2Input)
		password string
		want     error
		wantText []string
	}{
		// An empty password stops the parse after the parameters were accepted, so this
		// case checks that the maximum itself is allowed without deriving a key.
		{"iteration count at maximum", func(in *pbes2Input) {
			in.iterations = big.NewInt(maxPBKDF2Iterations)
			in.ciphertext = make([]byte, 16)
		},
			"", ErrPasswordRequired, nil},
		{"iteration count above maximum", func(in *pbes2Input) {
			in.iterations = big.NewInt(maxPBKDF2Iterations + 1)
			in.ciphertext = make([]byte, 16)
		},
			craftedPassword, ErrUnsupported, []string{"iteration count 10000001", "maximum of 10000000", "-iter"}},
		{"iteration count 2^40", func(in *pbes2Input) {
			in.iterations = new(big.Int).Lsh(big.NewInt(1), 40)
			in.ciphertext = make([]byte, 16)
		},
			craftedPassword, ErrUnsupported, []string{"iteration count 1099511627776"}},
		{"iteration count 2^100", func(in *pbes2Input) {
			in.iterations = new(big.Int).Lsh(big.NewInt(1), 100)
			in.ciphertext = make([]byte, 16)
		},
			craftedPassword, ErrUnsupported, []string{"iteration count of 101 bits"}},
		{"iteration count absurd without password", func(in *pbes2Input) {
			in.iterations = new(big.Int).Lsh(big.NewInt(1), 40)
			in.ciphertext = make([]byte, 16)
		},
			"", ErrUnsupported, []string{"iteration count"}},
		{"iteration count zero", func(in *pbes2Input) { in.iterations = big.NewInt(0) },
			craftedPassword, nil, []string{"iteration count 0 is not positive"}},
		{"iteration count negative", func(in *pbes2Input) { in.iterations = big.NewInt(-5); in.ciphertext = make([]byte, 16) },
			craftedPassword, nil, []string{"iteration count -5 is not positive"}},
		{"keyLength mismatch", func(in *pbes2Input) { in.keyLength = big.NewInt(16) },
			craftedPassword, nil, []string{"keyLength 16", "aes256-CBC"}},
		{"PRF hmacWithMD5", func(in *pbes2Input) { in.prf = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5} },
			craftedPassword, ErrUnsupported, []string{"PRF is OID 1.2.840.113549.2.5", "hmacWithSHA256"}},
		{"cipher aes128-GCM", func(in *pbes2Input) { in.cipher = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6} },
			craftedPassword, ErrUnsupported, []string{"cipher is OID 2.16.840.1.101.3.4.1.6", "aes256-CBC"}},
		{"cipher desCBC without password", func(in *pbes2Input) { in.cipher = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7} },
			"", ErrUnsupported, []string{"cipher is OID 1.3.14.3.2.7"}},
		{"salt from otherSource", func(in *pbes2Input) {
			in.salt = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: []byte{0x06, 0x01, 0x2a}}
		}, craftedPassword, ErrUnsupported, []string{"otherSource"}},
		{"salt INTEGER", func(in *pbes2Input) {
			in.salt = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagInteger, Bytes: []byte{1}}
		},
			craftedPassword, nil, []string{"salt", "OCTET STRING"}},
		{"IV too short", func(in *pbes2Input) { in.iv = in.iv[:8]; in.ciphertext = make([]byte, 16) },
			craftedPassword, nil, []string{"IV is 8 bytes, expected 16"}},
		{"IV too long", func(in *pbes2Input) { in.iv = make([]byte, 17); in.ciphertext = make([]byte, 16) },
			craftedPassword, nil, []string{"IV is 17 bytes"}},
		{"ciphertext empty", func(in *pbes2Input) { in.ciphertext = []byte{} },
			craftedPassword, nil, []string{"ciphertext length 0"}},
		{"ciphertext not block multiple", func(in *pbes2Input) { in.ciphertext = make([]byte, 17) },
			craftedPassword, nil, []string{"ciphertext length 17"}},
		{"ciphertext without last block", func(in *pbes2Input) { in.dropLastBlock = true },
			craftedPassword, ErrWrongPassword, []string{"PKCS#7 padding"}},
		{"plaintext not a key", func(in *pbes2Input) { in.plaintext = []byte("valid padding, but no key inside") },
			craftedPassword, ErrWrongPassword, []string{"not a valid PKCS#8"}},
		{"empty password", func(*pbes2Input) {}, "", ErrPasswordRequired, []string{"PBES2 (PBKDF2-hmacWithSHA256, aes256-CBC)"}},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			in := newPBES2Input(t)
			tc.modify(in)
			key, err := ParsePrivateKey(in.encode(t), []byte(tc.password))
			if key != nil {
				t.Error("key is not nil")
			}
			checkError(t, err, tc.want, tc.wantText...)
		})
	}
}

func TestRemovePKCS7Padding(t *testing.T) {
	block := func(tail ...byte) []byte {
		return append(bytes.Repeat([]byte{0xaa}, 16-len(tail)), tail...)
	}

	cases := []struct {
		name    string
		data    []byte
		wantLen int // -1 for an error
	}{
		{"pad 1", block(0x01), 15},
		{"pad 4", block(0x04, 0x04, 0x04, 0x04), 12},
		{"full block of padding", append(block(), bytes.Repeat([]byte{16}, 16)...), 16},
		{"pad 0", block(0x00), -1},
		{"pad above block size", block(0x11), -1},
		{"inconsistent pad bytes", block(0x03, 0x02, 0x03), -1},
		{"pad longer than data", bytes.Repeat([]byte{0x10}, 8), -1},
		{"empty", nil, -1},
		{"not block multiple", make([]byte, 15), -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := removePKCS7Padding(tc.data, 16)
			if tc.wantLen < 0 {
				if err == nil {
					t.Errorf("error is nil, returned %d bytes", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if len(got) != tc.wantLen {
				t.Errorf("returned %d bytes, expected %d", len(got), tc.wantLen)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	privateKey := mustParsePrivateKey(t, "mle-private-key.pem", "")

	for _, file := range []string{"mle-public-key.pem", "mle-public-key.pkcs1.pem"} {
		t.Run(file, func(t *testing.T) {
			key := mustParsePublicKey(t, file)
			if !key.Equal(&privateKey.PublicKey) {
				t.Errorf("public key from %s does not match mle-private-key.pem", file)
			}
		})
	}

	for _, file := range []string{"fixturemerchant.crt", "cybersource-sjc-us.crt"} {
		t.Run(file, func(t *testing.T) {
			key := mustParsePublicKey(t, file)
			certs, err := ParseCertificates(readTestdata(t, file))
			if err != nil {
				t.Fatalf("ParseCertificates error: %v", err)
			}
			if !key.Equal(certs[0].PublicKey) {
				t.Error("key differs from the certificate's public key")
			}
		})
	}
}

func TestParsePublicKeyRejectedInput(t *testing.T) {
	cases := []struct {
		name     string
		data     []byte
		want     error
		wantText []string
	}{
		{"empty", nil, ErrNoPEM, nil},
		{"private key only", readTestdata(t, "mle-private-key.pem"), ErrNoPEM,
			[]string{`expected "PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE"`, `found "PRIVATE KEY"`}},
		{"EC PKIX", readTestdata(t, "ec-public-key.pem"), ErrUnsupported, []string{"EC (OID 1.2.840.10045.2.1)"}},
		{"EC certificate", readTestdata(t, "ec-certificate.pem"), ErrUnsupported, []string{"pemkey-ec-test", "of type ECDSA"}},
		{"PKIX garbage", pem.EncodeToMemory(&pem.Block{Type: typePublicKey, Bytes: []byte("garbage")}), nil, []string{"invalid PKIX"}},
		{"PKCS#1 garbage", pem.EncodeToMemory(&pem.Block{Type: typeRSAPublicKey, Bytes: []byte("garbage")}), nil, []string{"invalid PKCS#1"}},
		{"certificate garbage", pem.EncodeToMemory(&pem.Block{Type: typeCertificate, Bytes: []byte("garbage")}), nil, []string{"invalid certificate"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := ParsePublicKey(tc.data)
			if key != nil {
				t.Error("key is not nil")
			}
			checkError(t, err, tc.want, tc.wantText...)
		})
	}
}

func TestParseCertificates(t *testing.T) {
	merchant := readTestdata(t, "fixturemerchant.crt")
	cybersource := readTestdata(t, "cybersource-sjc-us.crt")

	var bundle []byte
	bundle = append(bundle, merchant...)
	bundle = append(bundle, readTestdata(t, "mle-private-key.pem")...)
	bundle = append(bundle, cybersource...)

	cases := []struct {
		name      string
		data      []byte
		wantNames []string
	}{
		{"merchant", merchant, []string{"fixturemerchant"}},
		{"CyberSource", cybersource, []string{"CyberSource_SJC_US"}},
		{"bundle with key between", bundle, []string{"fixturemerchant", "CyberSource_SJC_US"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCertificates(tc.data)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if len(certs) != len(tc.wantNames) {
				t.Fatalf("returned %d certificates, expected %d", len(certs), len(tc.wantNames))
			}
			for i, want := range tc.wantNames {
				if got := certs[i].Subject.CommonName; got != want {
					t.Errorf("certificate %d has common name %q, expected %q", i, got, want)
				}
				if _, ok := certs[i].PublicKey.(*rsa.PublicKey); !ok {
					t.Errorf("certificate %d has a %T public key, expected RSA", i, certs[i].PublicKey)
				}
			}
		})
	}
}

func TestParseCertificatesRejectedInput(t *testing.T) {
	merchant := readTestdata(t, "fixturemerchant.crt")
	corrupt := pem.EncodeToMemory(&pem.Block{Type: typeCertificate, Bytes: []byte("garbage")})

	_, err := ParseCertificates(readTestdata(t, "mle-private-key.pem"))
	checkError(t, err, ErrNoPEM, `expected "CERTIFICATE", found "PRIVATE KEY"`)

	_, err = ParseCertificates(merchant[:len(merchant)-40])
	checkError(t, err, ErrNoPEM, "truncated")

	_, err = ParseCertificates(append(bytes.Clone(merchant), corrupt...))
	checkError(t, err, nil, "number 2")
}

func TestNoPEMErrorListsTypes(t *testing.T) {
	longType := strings.Repeat("L", 500)
	data := pem.EncodeToMemory(&pem.Block{Type: longType})
	for i := range 12 {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "TYPE " + string(rune('A'+i))})...)
	}
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "TYPE A"})...)

	_, err := ParsePrivateKey(data, nil)
	checkError(t, err, ErrNoPEM, `found "`+longType[:maxTypeLength]+`...", "TYPE A", "TYPE B"`, `"TYPE G" and 5 more`)
	if strings.Contains(err.Error(), "TYPE H") {
		t.Errorf("error %q lists more than %d types", err, maxListedTypes)
	}
	if len(err.Error()) > 500 {
		t.Errorf("error is %d bytes long, expected the type list to be capped", len(err.Error()))
	}
}

// FuzzParsePrivateKey checks that no input makes ParsePrivateKey panic and that it returns
// exactly one of a key and an error.
func FuzzParsePrivateKey(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatalf("reading testdata: %v", err)
	}
	for _, entry := range entries {
		if !strings.HasSuffix(entry.Name(), ".pem") {
			continue
		}
		data := readTestdata(f, entry.Name())
		for _, password := range []string{"", fixturePassword, testdataPassword} {
			f.Add(data, []byte(password))
		}
	}

	f.Fuzz(func(t *testing.T, data, password []byte) {
		key, err := ParsePrivateKey(data, password)
		if (key == nil) == (err == nil) {
			t.Fatalf("key is nil: %v, error: %v; expected exactly one of a key and an error", key == nil, err)
		}
	})
}

// FuzzParsePublicKey checks that no input makes ParsePublicKey or ParseCertificates panic
// and that each returns exactly one of a result and an error.
func FuzzParsePublicKey(f *testing.F) {
	for _, file := range []string{"mle-public-key.pem", "mle-public-key.pkcs1.pem", "ec-public-key.pem",
		"fixturemerchant.crt", "cybersource-sjc-us.crt", "ec-certificate.pem"} {
		f.Add(readTestdata(f, file))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePublicKey(data)
		if (key == nil) == (err == nil) {
			t.Fatalf("ParsePublicKey key is nil: %v, error: %v; expected exactly one of a key and an error", key == nil, err)
		}

		certs, err := ParseCertificates(data)
		if (len(certs) == 0) == (err == nil) {
			t.Fatalf("ParseCertificates returned %d certificates and error %v; expected certificates or an error, not both or neither", len(certs), err)
		}
	})
}
