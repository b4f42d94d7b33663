package pemkey

// PBES2 decryption of encrypted PKCS#8 keys (RFC 8018 and RFC 5958) is written here with
// the standard library only, because the public library must stay lean. The module proxy
// this project uses does not serve github.com/youmark/pkcs8, and go.step.sm/crypto/pemutil
// pulls SSH, cosign and x25519 code into every importer.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des" //nolint:gosec // DES-EDE3-CBC is a PBES2 cipher that older keys still use; decrypting it exposes nothing.
	"crypto/pbkdf2"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is the PBKDF2 default PRF of RFC 8018; its use there is not broken.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

// maxPBKDF2Iterations caps the PBKDF2 iteration count, so that a hostile key file cannot
// make ParsePrivateKey compute for minutes. OpenSSL 3.0 writes 2048 iterations by
// default, so real keys stay far below the cap.
const maxPBKDF2Iterations = 10_000_000

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}

	// oidPBES1 lists the PKCS#5 v1.5 schemes (pbeWithMD2AndDES-CBC and the like), and
	// oidPKCS12PBE is the arc of the PKCS#12 schemes (pbeWithSHAAnd3-KeyTripleDES-CBC and
	// the like). Both are recognized only to name them in the error.
	oidPBES1 = []asn1.ObjectIdentifier{
		{1, 2, 840, 113549, 1, 5, 1},
		{1, 2, 840, 113549, 1, 5, 3},
		{1, 2, 840, 113549, 1, 5, 4},
		{1, 2, 840, 113549, 1, 5, 6},
		{1, 2, 840, 113549, 1, 5, 10},
		{1, 2, 840, 113549, 1, 5, 11},
	}
	oidPKCS12PBE = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
)

// pseudorandomFunction is a PBKDF2 PRF of RFC 8018, appendix B.1.
type pseudorandomFunction struct {
	oid     asn1.ObjectIdentifier
	name    string
	newHash func() hash.Hash
}

// hmacWithSHA1 is the PRF that PBKDF2-params imply when they name none.
var hmacWithSHA1 = &pseudorandomFunction{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}, "hmacWithSHA1", sha1.New}

var pseudorandomFunctions = []*pseudorandomFunction{
	hmacWithSHA1,
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}, "hmacWithSHA224", sha256.New224},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, "hmacWithSHA256", sha256.New},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}, "hmacWithSHA384", sha512.New384},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}, "hmacWithSHA512", sha512.New},
}

// encryptionScheme is a CBC block cipher of RFC 8018, appendix B.2. Its parameters are
// the IV, an OCTET STRING of one block.
type encryptionScheme struct {
	oid       asn1.ObjectIdentifier
	name      string
	keySize   int
	blockSize int
	newCipher func(key []byte) (cipher.Block, error)
}

var encryptionSchemes = []*encryptionScheme{
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, "aes128-CBC", 16, aes.BlockSize, aes.NewCipher},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}, "aes192-CBC", 24, aes.BlockSize, aes.NewCipher},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, "aes256-CBC", 32, aes.BlockSize, aes.NewCipher},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}, "des-ede3-cbc", 24, des.BlockSize, des.NewTripleDESCipher},
}

// encryptedPrivateKeyInfo is EncryptedPrivateKeyInfo of RFC 5958, section 3.
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// pbes2Params is PBES2-params of RFC 8018, appendix A.4.
type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

// pbkdf2Params is PBKDF2-params of RFC 8018, appendix A.2. Salt is a CHOICE, so it is
// read raw and its form checked by hand. The integers are big.Int so that an
// out-of-range value is reported as such and not as an ASN.1 error.
type pbkdf2Params struct {
	Salt           asn1.RawValue
	IterationCount *big.Int
	KeyLength      *big.Int                 `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// pbes2Decrypter is a validated PBES2 parameter set, ready to derive a key and decrypt.
type pbes2Decrypter struct {
	salt       []byte
	iterations int
	prf        *pseudorandomFunction
	scheme     *encryptionScheme
	iv         []byte
}

// String describes the parameters for error messages, for example
// "PBES2 (PBKDF2-hmacWithSHA256, aes256-CBC)". It contains no salt, IV or key material.
func (d *pbes2Decrypter) String() string {
	return fmt.Sprintf("PBES2 (PBKDF2-%s, %s)", d.prf.name, d.scheme.name)
}

// decryptPKCS8 decrypts the DER of a PKCS#8 EncryptedPrivateKeyInfo and returns the DER of
// the PrivateKeyInfo inside it. The structure and its parameters are checked before the
// password, so an unsupported file is reported as such even without a password.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if err := unmarshalDER(der, &info); err != nil {
		return nil, fmt.Errorf("invalid encrypted PKCS#8 private key: %w", err)
	}

	decrypter, err := parsePBES2(info.Algorithm)
	if err != nil {
		return nil, err
	}

	ciphertext := info.EncryptedData
	blockSize := decrypter.scheme.blockSize
	if len(ciphertext) == 0 || len(ciphertext)%blockSize != 0 {
		return nil, fmt.Errorf("invalid encrypted PKCS#8 private key: ciphertext length %d is not a positive multiple of the %s block size %d (the key may be truncated)",
			len(ciphertext), decrypter.scheme.name, blockSize)
	}

	if len(password) == 0 {
		return nil, fmt.Errorf("%w: the private key is encrypted with %s; supply the password it was encrypted with",
			ErrPasswordRequired, decrypter)
	}

	key, err := pbkdf2.Key(decrypter.prf.newHash, string(password), decrypter.salt, decrypter.iterations, decrypter.scheme.keySize)
	if err != nil {
		return nil, fmt.Errorf("PBKDF2 key derivation for %s failed: %w", decrypter, err)
	}
	defer clear(key)

	block, err := decrypter.scheme.newCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating the %s cipher failed: %w", decrypter.scheme.name, err)
	}
	plaintext := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, decrypter.iv).CryptBlocks(plaintext, ciphertext)

	unpadded, err := removePKCS7Padding(plaintext, blockSize)
	if err != nil {
		clear(plaintext)
		return nil, fmt.Errorf("%w: decrypting with %s gave %w; check the password", ErrWrongPassword, decrypter, err)
	}
	return unpadded, nil
}

// parsePBES2 checks that alg is PBES2 with parameters this package supports and returns
// them.
func parsePBES2(alg pkix.AlgorithmIdentifier) (*pbes2Decrypter, error) {
	if !alg.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("%w: the private key is encrypted with %s, but only PBES2 is supported; re-encrypt it with: %s",
			ErrUnsupported, describeEncryptionAlgorithm(alg.Algorithm), convertCommand)
	}

	var params pbes2Params
	if err := unmarshalDER(alg.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("invalid PBES2 parameters: %w", err)
	}

	decrypter := &pbes2Decrypter{}
	keyLength, err := decrypter.setKeyDerivation(params.KeyDerivationFunc)
	if err != nil {
		return nil, err
	}
	if err := decrypter.setEncryptionScheme(params.EncryptionScheme); err != nil {
		return nil, err
	}

	if keyLength != nil && (!keyLength.IsInt64() || keyLength.Int64() != int64(decrypter.scheme.keySize)) {
		return nil, fmt.Errorf("invalid PBKDF2 parameters: keyLength %s does not match the %d-byte key of %s",
			describeInteger(keyLength), decrypter.scheme.keySize, decrypter.scheme.name)
	}
	return decrypter, nil
}

// setKeyDerivation reads PBKDF2 parameters into d. It returns the optional keyLength
// field, which the caller checks against the cipher.
func (d *pbes2Decrypter) setKeyDerivation(kdf pkix.AlgorithmIdentifier) (*big.Int, error) {
	if !kdf.Algorithm.Equal(oidPBKDF2) {
		name := "OID " + kdf.Algorithm.String()
		if kdf.Algorithm.Equal(oidScrypt) {
			name = "scrypt"
		}
		return nil, fmt.Errorf("%w: the PBES2 key derivation function is %s, but only PBKDF2 is supported; re-encrypt the key with: %s",
			ErrUnsupported, name, convertCommand)
	}

	var params pbkdf2Params
	if err := unmarshalDER(kdf.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("invalid PBKDF2 parameters: %w", err)
	}

	salt := params.Salt
	if salt.Class == asn1.ClassUniversal && salt.Tag == asn1.TagSequence {
		return nil, fmt.Errorf("%w: the PBKDF2 salt is an AlgorithmIdentifier (otherSource), but only an OCTET STRING salt is supported; re-encrypt the key with: %s",
			ErrUnsupported, convertCommand)
	}
	if salt.Class != asn1.ClassUniversal || salt.Tag != asn1.TagOctetString || salt.IsCompound {
		return nil, fmt.Errorf("invalid PBKDF2 parameters: the salt has ASN.1 class %d tag %d, expected an OCTET STRING", salt.Class, salt.Tag)
	}
	d.salt = salt.Bytes

	count := params.IterationCount
	if count.Sign() <= 0 {
		return nil, fmt.Errorf("invalid PBKDF2 parameters: iteration count %s is not positive", describeInteger(count))
	}
	if !count.IsInt64() || count.Int64() > maxPBKDF2Iterations {
		return nil, fmt.Errorf("%w: PBKDF2 iteration count %s is above the maximum of %d; re-encrypt the key with fewer iterations: %s -iter 600000",
			ErrUnsupported, describeInteger(count), maxPBKDF2Iterations, convertCommand)
	}
	d.iterations = int(count.Int64())

	d.prf = hmacWithSHA1
	if len(params.PRF.Algorithm) > 0 {
		d.prf = findPRF(params.PRF.Algorithm)
		if d.prf == nil {
			return nil, fmt.Errorf("%w: the PBKDF2 PRF is OID %s, but only %s are supported; re-encrypt the key with: %s",
				ErrUnsupported, params.PRF.Algorithm, supportedPRFNames(), convertCommand)
		}
	}
	return params.KeyLength, nil
}

// setEncryptionScheme reads the cipher and its IV into d.
func (d *pbes2Decrypter) setEncryptionScheme(alg pkix.AlgorithmIdentifier) error {
	d.scheme = findEncryptionScheme(alg.Algorithm)
	if d.scheme == nil {
		return fmt.Errorf("%w: the PBES2 cipher is OID %s, but only %s are supported; re-encrypt the key with: %s",
			ErrUnsupported, alg.Algorithm, supportedSchemeNames(), convertCommand)
	}

	var iv []byte
	if err := unmarshalDER(alg.Parameters.FullBytes, &iv); err != nil {
		return fmt.Errorf("invalid %s parameters, expected the IV as an OCTET STRING: %w", d.scheme.name, err)
	}
	if len(iv) != d.scheme.blockSize {
		return fmt.Errorf("invalid %s parameters: the IV is %d bytes, expected %d", d.scheme.name, len(iv), d.scheme.blockSize)
	}
	d.iv = iv
	return nil
}

var errInvalidPadding = errors.New("invalid PKCS#7 padding")

// removePKCS7Padding checks the PKCS#7 padding of data (RFC 5652, section 6.3) strictly,
// so the pad length is 1 to blockSize and every pad byte equals it, and returns data
// without it. The check is not constant time: a padding oracle needs an attacker who can
// submit chosen ciphertexts and observe each result, which parsing a local key file does
// not offer.
func removePKCS7Padding(data []byte, blockSize int) ([]byte, error) {
	if len(data) == 0 || len(data)%blockSize != 0 {
		return nil, fmt.Errorf("data length %d is not a positive multiple of the block size %d", len(data), blockSize)
	}

	padLength := int(data[len(data)-1])
	if padLength == 0 || padLength > blockSize {
		return nil, errInvalidPadding
	}
	for _, b := range data[len(data)-padLength:] {
		if int(b) != padLength {
			return nil, errInvalidPadding
		}
	}
	return data[:len(data)-padLength], nil
}

// unmarshalDER parses der into out and rejects bytes after the structure.
func unmarshalDER(der []byte, out any) error {
	rest, err := asn1.Unmarshal(der, out)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%d bytes of trailing data after the ASN.1 structure", len(rest))
	}
	return nil
}

func findPRF(oid asn1.ObjectIdentifier) *pseudorandomFunction {
	for _, prf := range pseudorandomFunctions {
		if prf.oid.Equal(oid) {
			return prf
		}
	}
	return nil
}

func findEncryptionScheme(oid asn1.ObjectIdentifier) *encryptionScheme {
	for _, scheme := range encryptionSchemes {
		if scheme.oid.Equal(oid) {
			return scheme
		}
	}
	return nil
}

func supportedPRFNames() string {
	names := make([]string, len(pseudorandomFunctions))
	for i, prf := range pseudorandomFunctions {
		names[i] = prf.name
	}
	return strings.Join(names, ", ")
}

func supportedSchemeNames() string {
	names := make([]string, len(encryptionSchemes))
	for i, scheme := range encryptionSchemes {
		names[i] = scheme.name
	}
	return strings.Join(names, ", ")
}

// describeEncryptionAlgorithm names the scheme of an EncryptedPrivateKeyInfo that is not
// PBES2.
func describeEncryptionAlgorithm(oid asn1.ObjectIdentifier) string {
	for _, pbes1 := range oidPBES1 {
		if oid.Equal(pbes1) {
			return fmt.Sprintf("PBES1 (OID %s)", oid)
		}
	}
	if len(oid) == len(oidPKCS12PBE)+1 && oid[:len(oidPKCS12PBE)].Equal(oidPKCS12PBE) {
		return fmt.Sprintf("a PKCS#12 password-based scheme (OID %s)", oid)
	}
	return fmt.Sprintf("an unknown scheme (OID %s)", oid)
}

// describeInteger formats n for an error message, replacing an integer too long to read
// with its size.
func describeInteger(n *big.Int) string {
	if n.IsInt64() {
		return n.String()
	}
	return fmt.Sprintf("of %d bits", n.BitLen())
}
