package p12

// Encoding follows RFC 7292 (PKCS #12 v1.1) and RFC 8018 (PBES2), written with the
// standard library. go-pkcs12's encoder cannot be used because it writes no friendlyName
// attribute, by which the official Node SDK (0.0.83) finds the merchant certificate.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SHA-1 only fingerprints the certificate for localKeyId, as OpenSSL does.
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// Parameters of the files Encode writes. 2048 iterations is the OpenSSL 3 default.
const (
	encodeIterations = 2048
	encodeSaltBytes  = 16
)

var (
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidShroudedKeyBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Certificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidPBES2           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA256  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// pfxPDU is PFX of RFC 7292, section 4.
type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData
}

// contentInfo is ContentInfo of RFC 2315. Content is the [0] EXPLICIT field.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

// safeBag is SafeBag of RFC 7292, section 4.2. Value is the [0] EXPLICIT field.
type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue
	Attributes []attribute `asn1:"set"`
}

// attribute is PKCS12Attribute. Values is the SET OF its values.
type attribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue
}

// certBag is CertBag of RFC 7292, section 4.2.3. Value is [0] EXPLICIT OCTET STRING.
type certBag struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue
}

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	PRF            pkix.AlgorithmIdentifier
}

// Encode writes a P12 file laid out as CyberSource issues them: the merchant's key and
// certificate under the friendlyName "serialNumber=<kid>,CN=<common name>", and, when
// cyberSource is not nil, CyberSource's request-encryption certificate under the
// friendlyName CyberSource_SJC_US.
//
// The key is encrypted with PBES2 (PBKDF2 with HMAC-SHA256, AES-256-CBC) and the file is
// authenticated with an HMAC-SHA256 MAC, 2048 iterations each, as OpenSSL 3 writes them.
// The certificates are not encrypted, as with `openssl pkcs12 -export -certpbe NONE`.
func Encode(key *rsa.PrivateKey, cert, cyberSource *x509.Certificate, password string) ([]byte, error) {
	if err := checkEncodeInput(key, cert, password); err != nil {
		return nil, err
	}
	kid, err := SerialNumber(cert)
	if err != nil {
		return nil, err
	}
	merchantName := "serialNumber=" + kid + ",CN=" + cert.Subject.CommonName
	fingerprint := sha1.Sum(cert.Raw) //nolint:gosec // localKeyId, as above.
	merchantAttributes, err := bagAttributes(merchantName, fingerprint[:])
	if err != nil {
		return nil, err
	}

	bags := []certificateEntry{{cert, merchantAttributes}}
	if cyberSource != nil {
		attributes, err := bagAttributes(CyberSourceAlias, nil)
		if err != nil {
			return nil, err
		}
		bags = append(bags, certificateEntry{cyberSource, attributes})
	}
	certificates, err := certificateSafe(bags)
	if err != nil {
		return nil, err
	}
	keys, err := keySafe(key, password, merchantAttributes)
	if err != nil {
		return nil, err
	}

	authSafe, err := asn1.Marshal([]contentInfo{certificates, keys})
	if err != nil {
		return nil, fmt.Errorf("encode P12 authenticated safe: %w", err)
	}
	mac, err := computeMAC(authSafe, password)
	if err != nil {
		return nil, err
	}
	content, err := dataContent(authSafe)
	if err != nil {
		return nil, err
	}
	der, err := asn1.Marshal(pfxPDU{Version: 3, AuthSafe: content, MacData: mac})
	if err != nil {
		return nil, fmt.Errorf("encode P12: %w", err)
	}
	return der, nil
}

func checkEncodeInput(key *rsa.PrivateKey, cert *x509.Certificate, password string) error {
	switch {
	case key == nil:
		return errors.New("encode P12: the private key is nil")
	case cert == nil:
		return errors.New("encode P12: the certificate is nil")
	case !key.PublicKey.Equal(cert.PublicKey):
		return fmt.Errorf("encode P12: the private key does not belong to the certificate %q", cert.Subject.String())
	case password == "":
		return errors.New("encode P12: the password is empty; CyberSource sets it to the merchant id")
	}
	for _, r := range password {
		if r > 0xFFFF {
			return errors.New("encode P12: the password contains characters outside the Basic Multilingual Plane, which P12 passwords cannot hold")
		}
	}
	return nil
}

type certificateEntry struct {
	cert       *x509.Certificate
	attributes []attribute
}

// certificateSafe returns the SafeContents of the certificate bags, unencrypted.
func certificateSafe(entries []certificateEntry) (contentInfo, error) {
	var bags []safeBag
	for _, entry := range entries {
		value, err := asn1.Marshal(entry.cert.Raw)
		if err != nil {
			return contentInfo{}, fmt.Errorf("encode P12 certificate: %w", err)
		}
		inner, err := asn1.Marshal(certBag{ID: oidX509Certificate, Value: explicit(value)})
		if err != nil {
			return contentInfo{}, fmt.Errorf("encode P12 certificate bag: %w", err)
		}
		bags = append(bags, safeBag{ID: oidCertBag, Value: explicit(inner), Attributes: entry.attributes})
	}
	return safeContents(bags)
}

// keySafe returns the SafeContents of the shrouded key bag.
func keySafe(key *rsa.PrivateKey, password string, attributes []attribute) (contentInfo, error) {
	plaintext, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return contentInfo{}, fmt.Errorf("encode P12 private key: %w", err)
	}
	algorithm, ciphertext, err := encryptPBES2(plaintext, password)
	if err != nil {
		return contentInfo{}, err
	}
	shrouded, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: algorithm, EncryptedData: ciphertext})
	if err != nil {
		return contentInfo{}, fmt.Errorf("encode P12 key bag: %w", err)
	}
	return safeContents([]safeBag{{ID: oidShroudedKeyBag, Value: explicit(shrouded), Attributes: attributes}})
}

func safeContents(bags []safeBag) (contentInfo, error) {
	der, err := asn1.Marshal(bags)
	if err != nil {
		return contentInfo{}, fmt.Errorf("encode P12 safe contents: %w", err)
	}
	return dataContent(der)
}

// dataContent wraps der as a ContentInfo of type data: an OCTET STRING that contains der.
func dataContent(der []byte) (contentInfo, error) {
	octets, err := asn1.Marshal(der)
	if err != nil {
		return contentInfo{}, fmt.Errorf("encode P12 content: %w", err)
	}
	return contentInfo{ContentType: oidData, Content: explicit(octets)}, nil
}

// explicit wraps der in a [0] EXPLICIT tag.
func explicit(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

// bagAttributes returns the friendlyName attribute, and localKeyId when localKeyID is
// not nil.
func bagAttributes(friendlyName string, localKeyID []byte) ([]attribute, error) {
	nameDER, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagBMPString, Bytes: bmpString(friendlyName)})
	if err != nil {
		return nil, fmt.Errorf("encode P12 friendlyName: %w", err)
	}
	attributes := []attribute{{ID: oidFriendlyName, Values: setOf(nameDER)}}
	if localKeyID != nil {
		idDER, err := asn1.Marshal(localKeyID)
		if err != nil {
			return nil, fmt.Errorf("encode P12 localKeyId: %w", err)
		}
		attributes = append(attributes, attribute{ID: oidLocalKeyID, Values: setOf(idDER)})
	}
	return attributes, nil
}

func setOf(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: der}
}

// encryptPBES2 encrypts plaintext with AES-256-CBC under a key derived by PBKDF2 with
// HMAC-SHA256 from the password's UTF-8 bytes, as OpenSSL 3 does for PBES2 in P12 files.
func encryptPBES2(plaintext []byte, password string) (pkix.AlgorithmIdentifier, []byte, error) {
	salt := make([]byte, encodeSaltBytes)
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(salt); err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, encodeIterations, 32)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, fmt.Errorf("encode P12: PBKDF2: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	padding := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(bytes.Clone(plaintext), bytes.Repeat([]byte{byte(padding)}, padding)...)
	ciphertext := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, padded)

	kdfParams, err := asn1.Marshal(pbkdf2Params{
		Salt:           salt,
		IterationCount: encodeIterations,
		PRF:            pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue},
	})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}, ciphertext, nil
}

// computeMAC returns the MacData over authSafe: HMAC-SHA256 with a key derived by the
// PKCS#12 key derivation of RFC 7292, appendix B.2, from the password as a
// zero-terminated big-endian BMPString.
func computeMAC(authSafe []byte, password string) (macData, error) {
	salt := make([]byte, encodeSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return macData{}, err
	}
	key := pkcs12MACKey(append(bmpString(password), 0, 0), salt, encodeIterations)
	mac := hmac.New(sha256.New, key)
	mac.Write(authSafe)
	return macData{
		Mac: digestInfo{
			Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue},
			Digest:    mac.Sum(nil),
		},
		MacSalt:    salt,
		Iterations: encodeIterations,
	}, nil
}

// bmpString encodes s as the content of a BMPString: big-endian UTF-16. A character
// outside the Basic Multilingual Plane becomes a surrogate pair, which is why Encode
// rejects such characters in passwords.
func bmpString(s string) []byte {
	var out []byte
	for _, unit := range utf16.Encode([]rune(s)) {
		out = binary.BigEndian.AppendUint16(out, unit)
	}
	return out
}

// pkcs12MACKey derives the 32-byte MAC key (ID 3) of RFC 7292, appendix B.2, with
// SHA-256. The key is one hash output long, so only the first block A_1 is computed and
// the step that adjusts I for further blocks is not needed.
func pkcs12MACKey(password, salt []byte, iterations int) []byte {
	const blockSize = 64 // v, the SHA-256 input block in bytes
	diversifier := bytes.Repeat([]byte{3}, blockSize)
	h := sha256.New()
	h.Write(diversifier)
	h.Write(repeatToBlocks(salt, blockSize))
	h.Write(repeatToBlocks(password, blockSize))
	a := h.Sum(nil)
	for i := 1; i < iterations; i++ {
		sum := sha256.Sum256(a)
		a = sum[:]
	}
	return a
}

// repeatToBlocks concatenates copies of b to the shortest multiple of blockSize that is
// at least len(b), the last copy cut short.
func repeatToBlocks(b []byte, blockSize int) []byte {
	if len(b) == 0 {
		return nil
	}
	out := make([]byte, blockSize*((len(b)+blockSize-1)/blockSize))
	for i := range out {
		out[i] = b[i%len(b)]
	}
	return out
}
