// Package pemkey parses PEM-encoded RSA private keys, RSA public keys and X.509
// certificates: the MLE (message-level encryption) keys and the certificates that a
// CyberSource merchant configures. It depends on the standard library only, because the
// public library imports it.
package pemkey

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
)

// Sentinel errors. The functions wrap them with %w in a message that names the value that
// failed, so callers match them with errors.Is. Malformed DER inside a PEM block is
// reported with a plain error that wraps none of them.
var (
	// ErrNoPEM reports that data contains no PEM block of a type the function accepts.
	// The message lists the block types that were found, if any.
	ErrNoPEM = errors.New("no usable PEM block")

	// ErrPasswordRequired reports an encrypted private key and an empty password.
	ErrPasswordRequired = errors.New("password required")

	// ErrWrongPassword reports that decryption produced invalid padding or data that is
	// not a private key, which is the usual result of a wrong password.
	ErrWrongPassword = errors.New("wrong password or corrupted key")

	// ErrUnsupported reports a well-formed input that this package does not handle. That
	// is a key that is not RSA, legacy OpenSSL PEM encryption ("Proc-Type: 4,ENCRYPTED"),
	// or a PBES2 key derivation function, PRF or cipher outside the supported list. It is
	// also a PBKDF2 iteration count above the maximum.
	ErrUnsupported = errors.New("unsupported key or encryption")
)

// PEM block types, as OpenSSL writes them.
const (
	typeRSAPrivateKey       = "RSA PRIVATE KEY"
	typePrivateKey          = "PRIVATE KEY"
	typeEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"
	typePublicKey           = "PUBLIC KEY"
	typeRSAPublicKey        = "RSA PUBLIC KEY"
	typeCertificate         = "CERTIFICATE"
)

// convertCommand re-encrypts any private key that OpenSSL reads (legacy PEM encryption,
// PBES1, scrypt, PKCS#1) into PBES2 PKCS#8 with PBKDF2 and AES-256-CBC, which this
// package reads.
const convertCommand = "openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem"

// oidRSAEncryption is rsaEncryption (RFC 8017, appendix C), the algorithm of PKCS#8 and
// PKIX RSA keys.
var oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

// keyAlgorithmNames maps the OIDs of likely non-RSA PKCS#8 and PKIX key algorithms to
// names, which the error for a rejected key contains.
var keyAlgorithmNames = map[string]string{
	"1.2.840.113549.1.1.10": "RSASSA-PSS",
	"1.2.840.10045.2.1":     "EC",
	"1.2.840.10040.4.1":     "DSA",
	"1.3.101.110":           "X25519",
	"1.3.101.111":           "X448",
	"1.3.101.112":           "Ed25519",
	"1.3.101.113":           "Ed448",
}

// ParsePrivateKey parses the first private key in PEM data. It accepts
// "RSA PRIVATE KEY" (PKCS#1), "PRIVATE KEY" (PKCS#8) and "ENCRYPTED PRIVATE KEY"
// (PKCS#8 encrypted with PBES2). password is used only for encrypted keys.
// Only RSA keys are accepted (the MLE keys of CyberSource are RSA); others are an error naming the type found.
//
// The first block whose type ends in "PRIVATE KEY" is the one parsed, so a non-RSA key
// that comes first is an ErrUnsupported error even when an RSA key follows. Encrypted
// keys use PBKDF2 with hmacWithSHA1, hmacWithSHA224, hmacWithSHA256, hmacWithSHA384 or
// hmacWithSHA512, at most 10,000,000 iterations, and aes128-CBC, aes192-CBC, aes256-CBC
// or des-ede3-cbc.
func ParsePrivateKey(data, password []byte) (*rsa.PrivateKey, error) {
	block, err := firstBlock(data, isPrivateKeyType,
		quoteTypes(typeRSAPrivateKey, typePrivateKey, typeEncryptedPrivateKey))
	if err != nil {
		return nil, err
	}

	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w: PEM block %q uses legacy OpenSSL encryption (Proc-Type: 4,ENCRYPTED); convert it to encrypted PKCS#8 with: %s",
			ErrUnsupported, block.Type, convertCommand)
	}

	switch block.Type {
	case typeRSAPrivateKey:
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("invalid PKCS#1 RSA private key in PEM block %q: %w", block.Type, err)
		}
		return key, nil

	case typePrivateKey:
		return parsePKCS8(block.Bytes)

	case typeEncryptedPrivateKey:
		return parseEncryptedPKCS8(block.Bytes, password)

	case "OPENSSH PRIVATE KEY":
		return nil, fmt.Errorf("%w: PEM block %q is in OpenSSH format; convert an RSA key to PKCS#8 with: ssh-keygen -p -m PKCS8 -f KEYFILE",
			ErrUnsupported, block.Type)

	default:
		return nil, fmt.Errorf("%w: PEM block %q is not an RSA private key; only RSA keys are accepted",
			ErrUnsupported, block.Type)
	}
}

// ParsePublicKey parses "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS#1) or "CERTIFICATE" (taking its RSA public key).
//
// The first block of one of these types is the one parsed.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	block, err := firstBlock(data, isPublicKeyType,
		quoteTypes(typePublicKey, typeRSAPublicKey, typeCertificate))
	if err != nil {
		return nil, err
	}

	switch block.Type {
	case typePublicKey:
		return parsePKIX(block.Bytes)

	case typeRSAPublicKey:
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("invalid PKCS#1 RSA public key in PEM block %q: %w", block.Type, err)
		}
		return key, nil

	default:
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("invalid certificate in PEM block %q: %w", block.Type, err)
		}
		key, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: certificate %q has a public key of type %v; only RSA keys are accepted",
				ErrUnsupported, cert.Subject.String(), cert.PublicKeyAlgorithm)
		}
		return key, nil
	}
}

// ParseCertificates parses every "CERTIFICATE" block in data.
//
// Blocks of other types are skipped. The certificates are returned in the order of
// their blocks, and one invalid certificate fails the whole call.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	var otherTypes []string
	for block := range pemBlocks(data) {
		if block.Type != typeCertificate {
			otherTypes = append(otherTypes, block.Type)
			continue
		}

		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("invalid certificate in PEM block %q number %d: %w",
				block.Type, len(certs)+1, err)
		}
		certs = append(certs, cert)
	}

	if len(certs) == 0 {
		return nil, noPEMError(data, otherTypes, quoteTypes(typeCertificate))
	}
	return certs, nil
}

// parsePKCS8 parses an unencrypted PKCS#8 PrivateKeyInfo. It reads the key algorithm
// first, so a non-RSA key is rejected by name without being parsed.
func parsePKCS8(der []byte) (*rsa.PrivateKey, error) {
	var head struct {
		Version   int
		Algorithm pkix.AlgorithmIdentifier
	}
	if _, err := asn1.Unmarshal(der, &head); err != nil {
		return nil, fmt.Errorf("invalid PKCS#8 private key: %w", err)
	}
	if !head.Algorithm.Algorithm.Equal(oidRSAEncryption) {
		return nil, fmt.Errorf("%w: the PKCS#8 private key is %s; only RSA keys are accepted",
			ErrUnsupported, describeKeyAlgorithm(head.Algorithm.Algorithm))
	}

	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("invalid PKCS#8 RSA private key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: the PKCS#8 private key is a %T; only RSA keys are accepted", ErrUnsupported, key)
	}
	return rsaKey, nil
}

// parseEncryptedPKCS8 decrypts a PKCS#8 EncryptedPrivateKeyInfo and parses the key inside.
func parseEncryptedPKCS8(der, password []byte) (*rsa.PrivateKey, error) {
	plaintext, err := decryptPKCS8(der, password)
	if err != nil {
		return nil, err
	}
	defer clear(plaintext)

	key, err := parsePKCS8(plaintext)
	if errors.Is(err, ErrUnsupported) {
		return nil, err
	}
	if err != nil {
		// The parse error is left out: after a wrong password it describes random bytes.
		return nil, fmt.Errorf("%w: the decrypted data is not a valid PKCS#8 RSA private key; check the password", ErrWrongPassword)
	}
	return key, nil
}

// parsePKIX parses a PKIX SubjectPublicKeyInfo. Like parsePKCS8, it rejects a non-RSA key
// by its algorithm before parsing it.
func parsePKIX(der []byte) (*rsa.PublicKey, error) {
	var head struct {
		Algorithm pkix.AlgorithmIdentifier
	}
	if _, err := asn1.Unmarshal(der, &head); err != nil {
		return nil, fmt.Errorf("invalid PKIX public key: %w", err)
	}
	if !head.Algorithm.Algorithm.Equal(oidRSAEncryption) {
		return nil, fmt.Errorf("%w: the PKIX public key is %s; only RSA keys are accepted",
			ErrUnsupported, describeKeyAlgorithm(head.Algorithm.Algorithm))
	}

	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("invalid PKIX RSA public key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the PKIX public key is a %T; only RSA keys are accepted", ErrUnsupported, key)
	}
	return rsaKey, nil
}

func describeKeyAlgorithm(oid asn1.ObjectIdentifier) string {
	if name, ok := keyAlgorithmNames[oid.String()]; ok {
		return fmt.Sprintf("%s (OID %s)", name, oid)
	}
	return fmt.Sprintf("of an unknown algorithm (OID %s)", oid)
}

func isPrivateKeyType(blockType string) bool {
	return strings.HasSuffix(blockType, "PRIVATE KEY")
}

func isPublicKeyType(blockType string) bool {
	return blockType == typePublicKey || blockType == typeRSAPublicKey || blockType == typeCertificate
}

// pemBlocks yields the PEM blocks of data in order. Like pem.Decode, it skips text
// between blocks and blocks whose body is not valid base64.
func pemBlocks(data []byte) iter.Seq[*pem.Block] {
	return func(yield func(*pem.Block) bool) {
		rest := data
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil || !yield(block) {
				return
			}
		}
	}
}

// firstBlock returns the first PEM block in data whose type matches, or an ErrNoPEM error
// that lists the expected types and the types found.
func firstBlock(data []byte, matches func(blockType string) bool, expected string) (*pem.Block, error) {
	var otherTypes []string
	for block := range pemBlocks(data) {
		if matches(block.Type) {
			return block, nil
		}
		otherTypes = append(otherTypes, block.Type)
	}
	return nil, noPEMError(data, otherTypes, expected)
}

// maxListedTypes and maxTypeLength cap the block types listed in an ErrNoPEM message,
// so that a hostile file with many or long type lines cannot produce a huge message.
const (
	maxListedTypes = 8
	maxTypeLength  = 64
)

// noPEMError builds the ErrNoPEM error for data that contained only blocks of otherTypes.
func noPEMError(data []byte, otherTypes []string, expected string) error {
	if len(otherTypes) > 0 {
		return fmt.Errorf("%w: expected %s, found %s", ErrNoPEM, expected, listFoundTypes(otherTypes))
	}

	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return fmt.Errorf("%w: expected %s, but the data has a BEGIN line with no complete block after it (the file may be truncated or its base64 damaged)",
			ErrNoPEM, expected)
	}
	if len(data) > 0 && data[0] == 0x30 {
		// 0x30 is the tag of a DER SEQUENCE, the first byte of every DER key and certificate.
		return fmt.Errorf("%w: expected %s, but the data looks like DER; convert it to PEM with openssl pkey -inform DER (keys) or openssl x509 -inform DER (certificates)",
			ErrNoPEM, expected)
	}
	return fmt.Errorf("%w: expected %s, but the data contains no PEM block", ErrNoPEM, expected)
}

// listFoundTypes lists the distinct block types in order of first appearance, quoted and
// shortened to the caps above.
func listFoundTypes(types []string) string {
	var unique []string
	for _, blockType := range types {
		if len(blockType) > maxTypeLength {
			blockType = blockType[:maxTypeLength] + "..."
		}
		if !slices.Contains(unique, blockType) {
			unique = append(unique, blockType)
		}
	}

	more := ""
	if len(unique) > maxListedTypes {
		more = fmt.Sprintf(" and %d more", len(unique)-maxListedTypes)
		unique = unique[:maxListedTypes]
	}

	quoted := make([]string, len(unique))
	for i, blockType := range unique {
		quoted[i] = strconv.Quote(blockType)
	}
	return strings.Join(quoted, ", ") + more
}

// quoteTypes joins block types as `"A"`, `"A" or "B"` or `"A", "B" or "C"`.
func quoteTypes(types ...string) string {
	quoted := make([]string, len(types))
	for i, blockType := range types {
		quoted[i] = strconv.Quote(blockType)
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}
