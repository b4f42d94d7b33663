package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paycreds/tms/internal/pemkey"
	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// requestEncryptionEntry is the requestEncryption section of a sandboxFile: CyberSource's
// request-encryption key pair, which clients encrypt request bodies to. Without it a
// key pair is generated.
type requestEncryptionEntry struct {
	CertificateFile string `json:"certificateFile" yaml:"certificateFile"` // PEM or DER; the subject needs a serialNumber, the kid
	PrivateKeyFile  string `json:"privateKeyFile" yaml:"privateKeyFile"`   // unencrypted PEM, PKCS#1 or PKCS#8
}

// requestCertFileName is the file in the state directory that contains CyberSource's
// request-encryption certificate in PEM, for clients to encrypt requests to.
const requestCertFileName = "request-encryption-cert.pem"

// buildRequestEncryptionKey returns the key pair the entry names, or a generated one,
// and writes its certificate to stateDir. Relative paths are resolved against configDir.
func buildRequestEncryptionKey(entry *requestEncryptionEntry, configDir, stateDir string) (*sandbox.RequestEncryptionKey, string, error) {
	var key *sandbox.RequestEncryptionKey
	if entry == nil {
		generated, err := sandbox.GenerateRequestEncryptionKey()
		if err != nil {
			return nil, "", err
		}
		key = generated
	} else {
		configured, err := entry.load(configDir)
		if err != nil {
			return nil, "", usagef("config: requestEncryption: %v", err)
		}
		key = configured
	}

	certFile := filepath.Join(stateDir, requestCertFileName)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: key.Certificate.Raw})
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil { //nolint:gosec // A certificate is public.
		return nil, "", fmt.Errorf("write the request-encryption certificate: %w", err)
	}
	return key, certFile, nil
}

func (e *requestEncryptionEntry) load(configDir string) (*sandbox.RequestEncryptionKey, error) {
	if e.CertificateFile == "" || e.PrivateKeyFile == "" {
		return nil, errors.New("certificateFile and privateKeyFile are both needed; remove the section to have a key pair generated")
	}
	certs, err := readCertificates(resolvePath(configDir, e.CertificateFile))
	if err != nil {
		return nil, fmt.Errorf("certificateFile: %w", err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("certificateFile %s contains %d certificates; give only CyberSource's request-encryption certificate", e.CertificateFile, len(certs))
	}
	cert := certs[0]
	if cert.Subject.SerialNumber == "" {
		return nil, fmt.Errorf("certificateFile %s: the subject %q has no serialNumber attribute, which is the kid clients put in the JWE header", e.CertificateFile, cert.Subject.String())
	}

	path := resolvePath(configDir, e.PrivateKeyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("privateKeyFile: %w", err)
	}
	privateKey, err := pemkey.ParsePrivateKey(data, nil)
	if errors.Is(err, pemkey.ErrPasswordRequired) {
		return nil, fmt.Errorf("privateKeyFile %s is encrypted; the sandbox reads unencrypted keys, so write one with: openssl pkey -in %s -out plain.pem", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("privateKeyFile %s: %w", path, err)
	}
	if !privateKey.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("privateKeyFile %s is not the key of certificateFile %s", e.PrivateKeyFile, e.CertificateFile)
	}
	return &sandbox.RequestEncryptionKey{Certificate: cert, PrivateKey: privateKey}, nil
}

// addMerchantCertificates registers the merchant's certificates for RS256 JWTs. Without
// certificateFiles in the entry, it generates a key and certificate and writes them to
// stateDir as a P12 file, together with CyberSource's request-encryption certificate,
// as CyberSource issues them. number counts merchants from 1 and names the file.
func addMerchantCertificates(merchant *sandbox.Merchant, report *merchantReport, entry merchantEntry, number int, requestCert *x509.Certificate, configDir, stateDir string) error {
	if len(entry.CertificateFiles) > 0 {
		if entry.P12Password != "" {
			return errors.New("p12Password is set together with certificateFiles; the sandbox writes a P12 file only for a generated key, so remove p12Password")
		}
		for i, file := range entry.CertificateFiles {
			certs, err := readCertificates(resolvePath(configDir, file))
			if err != nil {
				return fmt.Errorf("certificateFiles[%d]: %w", i, err)
			}
			merchant.Certificates = append(merchant.Certificates, certs...)
		}
		return nil
	}

	cert, key, err := sandbox.GenerateCertificate(merchant.ID)
	if err != nil {
		return err
	}
	password := entry.P12Password
	if password == "" {
		password = merchant.ID // as CyberSource sets it
	}
	data, err := sandbox.EncodeP12(key, cert, requestCert, password)
	if err != nil {
		return fmt.Errorf("p12Password: %w", err)
	}
	report.P12File = filepath.Join(stateDir, "merchant-"+strconv.Itoa(number)+".p12")
	if err := os.WriteFile(report.P12File, data, 0o600); err != nil {
		return fmt.Errorf("write the P12 file: %w", err)
	}
	report.P12Password = password
	merchant.Certificates = []*x509.Certificate{cert}
	return nil
}

// readCertificates reads the PEM certificates of a file, or one DER certificate.
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := pemkey.ParseCertificates(data)
	if errors.Is(err, pemkey.ErrNoPEM) {
		cert, derErr := x509.ParseCertificate(data)
		if derErr != nil {
			return nil, fmt.Errorf("%s is neither PEM with CERTIFICATE blocks nor a DER certificate: %w", path, err)
		}
		return []*x509.Certificate{cert}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

func resolvePath(configDir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(configDir, path)
}

// requestHostList is the --request-host flag: repeatable, and the first value given
// replaces the default list.
type requestHostList struct {
	hosts   []string
	changed bool
}

// defaultRequestHosts are the hosts of the CyberSource environments, which SDKs put in
// the request-host claim while they connect to the sandbox's loopback address, and
// localhost, the runEnvironment that lets the Node SDK check the certificate of
// `paycreds sandbox --tls`.
func defaultRequestHosts() []string {
	var hosts []string
	for _, env := range tokenapi.Environments() {
		hosts = append(hosts, env.Host())
	}
	return append(hosts, "localhost")
}

func (l *requestHostList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.hosts, ",")
}

func (l *requestHostList) Set(value string) error {
	if value == "" || strings.ContainsAny(value, "/ \t@?#") {
		return fmt.Errorf("%q is not a host name; give the host a client signs, such as apitest.cybersource.com or localhost:8443, without a scheme or path", value)
	}
	if !l.changed {
		l.hosts, l.changed = nil, true
	}
	l.hosts = append(l.hosts, value)
	return nil
}
