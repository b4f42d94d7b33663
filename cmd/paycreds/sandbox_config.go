package main

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/paycreds/tms/internal/pemkey"
	"github.com/paycreds/tms/internal/sandbox"
)

// sandboxFile is the --config file of `paycreds sandbox`, in JSON or YAML. Every field is
// optional: what it leaves out is generated.
type sandboxFile struct {
	Merchants         []merchantEntry         `json:"merchants" yaml:"merchants"`
	Tokens            []tokenEntry            `json:"tokens" yaml:"tokens"`
	RequestEncryption *requestEncryptionEntry `json:"requestEncryption" yaml:"requestEncryption"`
}

// merchantEntry is one merchant of a sandboxFile.
type merchantEntry struct {
	ID        string `json:"id" yaml:"id"`
	KeyID     string `json:"keyId" yaml:"keyId"`         // empty: a random UUID
	SecretKey string `json:"secretKey" yaml:"secretKey"` // standard base64; empty: 32 random bytes

	// MLEPublicKeyFile is a PEM file with the merchant's MLE public key (PKIX, PKCS#1 or
	// a certificate), relative to the config file. Empty means a generated key pair,
	// whose private half is written to the state directory.
	MLEPublicKeyFile string   `json:"mlePublicKeyFile" yaml:"mlePublicKeyFile"`
	ProfileIDs       []string `json:"profileIds" yaml:"profileIds"`

	// CertificateFiles are the merchant's certificates for RS256 JWTs (PEM or DER, the
	// subject's serialNumber is the kid), relative to the config file. Empty means a
	// generated key and certificate, written to the state directory as a P12 file.
	CertificateFiles []string `json:"certificateFiles" yaml:"certificateFiles"`
	// P12Password protects the generated P12 file. Empty means the merchant id, as
	// CyberSource sets it.
	P12Password string `json:"p12Password" yaml:"p12Password"`
}

// tokenEntry is one token of a sandboxFile. Card data left out is filled in by
// sandbox.CompleteToken.
type tokenEntry struct {
	ID                  string `json:"id" yaml:"id"`
	Network             string `json:"network" yaml:"network"`
	State               string `json:"state" yaml:"state"`
	Fault               string `json:"fault" yaml:"fault"`
	NoNetworkToken      bool   `json:"noNetworkToken" yaml:"noNetworkToken"`
	NetworkTokenNumber  string `json:"networkTokenNumber" yaml:"networkTokenNumber"`
	ExpirationMonth     string `json:"expirationMonth" yaml:"expirationMonth"`
	ExpirationYear      string `json:"expirationYear" yaml:"expirationYear"`
	PAN                 string `json:"pan" yaml:"pan"`
	CardExpirationMonth string `json:"cardExpirationMonth" yaml:"cardExpirationMonth"`
	CardExpirationYear  string `json:"cardExpirationYear" yaml:"cardExpirationYear"`
}

// maxConfigBytes bounds the config file read.
const maxConfigBytes = 4 << 20

// loadSandboxFile reads a config file: JSON for a .json name, YAML for .yaml or .yml.
// Unknown fields are rejected, so a misspelt key is reported instead of ignored.
func loadSandboxFile(path string) (*sandboxFile, error) {
	format := strings.ToLower(filepath.Ext(path))
	if format != ".json" && format != ".yaml" && format != ".yml" {
		return nil, usagef("config file %s: the name must end in .json, .yaml or .yml to tell its format", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("config file: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, usagef("config file %s: %v", path, err)
	}
	if len(data) > maxConfigBytes {
		return nil, usagef("config file %s is over %d MiB; a sandbox config is a few KB", path, maxConfigBytes>>20)
	}

	var file sandboxFile
	if format == ".json" {
		decoder := json.NewDecoder(bytes.NewReader(data))
		decoder.DisallowUnknownFields()
		err = decoder.Decode(&file)
	} else {
		decoder := yaml.NewDecoder(bytes.NewReader(data))
		decoder.KnownFields(true)
		err = decoder.Decode(&file)
		if errors.Is(err, io.EOF) {
			err = nil // an empty YAML file is an empty config
		}
	}
	if err != nil {
		return nil, usagef("config file %s: %v", path, err)
	}
	return &file, nil
}

// sandboxSetup is the sandbox configuration that `paycreds sandbox` serves, with the
// merchants and tokens it reports.
type sandboxSetup struct {
	config          sandbox.Config
	merchants       []merchantReport
	tokens          map[string]string // token id to state
	requestCertFile string            // CyberSource's request-encryption certificate in PEM
}

// merchantReport describes one merchant in the first output line.
type merchantReport struct {
	MerchantID string   `json:"merchantID"`
	KeyID      string   `json:"keyID"`
	SecretKey  string   `json:"secretKey"`
	MLEKeyFile string   `json:"mleKeyFile"` // empty when the config named the public key
	MLEKeyID   string   `json:"mleKeyID"`
	ProfileIDs []string `json:"profileIds,omitempty"`

	// P12File and P12Password are the generated P12 file for RS256 JWTs, both empty when
	// the config named the merchant's certificates.
	P12File     string `json:"p12File"`
	P12Password string `json:"p12Password"`
}

// defaultSandboxMerchantID is the merchant id used when the config names no merchant.
const defaultSandboxMerchantID = "paycreds_sandbox"

// buildSandboxSetup turns a config file (nil for none) into the sandbox configuration.
// It generates missing merchants, secrets, MLE key pairs, P12 files and the
// request-encryption key pair. It writes each generated MLE private key and P12 file,
// and the request-encryption certificate, to stateDir, and uses the demo tokens when the
// file lists none. Relative paths in the file are resolved against configDir.
func buildSandboxSetup(file *sandboxFile, configDir, stateDir string) (*sandboxSetup, error) {
	if file == nil {
		file = &sandboxFile{}
	}
	entries := file.Merchants
	if len(entries) == 0 {
		entries = []merchantEntry{{ID: defaultSandboxMerchantID}}
	}

	requestKey, requestCertFile, err := buildRequestEncryptionKey(file.RequestEncryption, configDir, stateDir)
	if err != nil {
		return nil, err
	}
	setup := &sandboxSetup{tokens: map[string]string{}, requestCertFile: requestCertFile}
	setup.config.RequestEncryption = requestKey
	for i, entry := range entries {
		merchant, report, err := buildMerchant(entry, i+1, configDir, stateDir)
		if err == nil {
			err = addMerchantCertificates(&merchant, &report, entry, i+1, requestKey.Certificate, configDir, stateDir)
		}
		if err != nil {
			return nil, usagef("config: merchants[%d]: %v", i, err)
		}
		setup.config.Merchants = append(setup.config.Merchants, merchant)
		setup.merchants = append(setup.merchants, report)
	}

	if len(file.Tokens) == 0 {
		setup.config.Tokens = sandbox.DemoTokens()
	}
	for i, entry := range file.Tokens {
		token, err := entry.sandboxToken()
		if err != nil {
			return nil, usagef("config: tokens[%d] (id %q): %v", i, entry.ID, err)
		}
		setup.config.Tokens = append(setup.config.Tokens, token)
	}
	for _, token := range setup.config.Tokens {
		state := token.State
		if state == "" {
			state = sandbox.TokenActive
		}
		setup.tokens[token.ID] = string(state)
	}
	return setup, nil
}

// buildMerchant returns the merchant an entry describes. number counts merchants from 1
// and names the key file of a generated MLE key pair.
func buildMerchant(entry merchantEntry, number int, configDir, stateDir string) (sandbox.Merchant, merchantReport, error) {
	if entry.ID == "" {
		return sandbox.Merchant{}, merchantReport{}, errors.New("id is missing; give the merchant id that clients send in v-c-merchant-id")
	}
	merchant, privateKey, err := sandbox.GenerateMerchant(entry.ID)
	if err != nil {
		return sandbox.Merchant{}, merchantReport{}, err
	}
	if entry.KeyID != "" {
		merchant.KeyID = entry.KeyID
	}
	if entry.SecretKey != "" {
		merchant.SecretKey = entry.SecretKey
	}
	merchant.ProfileIDs = entry.ProfileIDs

	report := merchantReport{MerchantID: merchant.ID, KeyID: merchant.KeyID, SecretKey: merchant.SecretKey, ProfileIDs: entry.ProfileIDs}
	if entry.MLEPublicKeyFile != "" {
		path := entry.MLEPublicKeyFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(configDir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return sandbox.Merchant{}, merchantReport{}, fmt.Errorf("mlePublicKeyFile: %w", err)
		}
		merchant.MLEPublicKey, err = pemkey.ParsePublicKey(data)
		if err != nil {
			return sandbox.Merchant{}, merchantReport{}, fmt.Errorf("mlePublicKeyFile %s: %w", path, err)
		}
	} else {
		report.MLEKeyFile = filepath.Join(stateDir, "mle-private-key-"+strconv.Itoa(number)+".pem")
		if err := writePrivateKey(report.MLEKeyFile, privateKey); err != nil {
			return sandbox.Merchant{}, merchantReport{}, err
		}
	}

	report.MLEKeyID, err = sandbox.MLEKeyID(merchant.MLEPublicKey)
	if err != nil {
		return sandbox.Merchant{}, merchantReport{}, err
	}
	return merchant, report, nil
}

// writePrivateKey writes key as an unencrypted PKCS#8 PEM file that only the owner can
// read.
func writePrivateKey(path string, key *rsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode MLE private key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write MLE private key: %w", err)
	}
	return nil
}

// sandboxToken converts the entry, filling in the card data it leaves out. The sandbox
// checks the rest when it starts.
func (e tokenEntry) sandboxToken() (sandbox.Token, error) {
	fault, err := sandbox.ParseFault(e.Fault)
	if err != nil {
		return sandbox.Token{}, err
	}
	if e.NoNetworkToken && e.NetworkTokenNumber != "" {
		return sandbox.Token{}, errors.New("noNetworkToken is true but networkTokenNumber is set; remove one of them")
	}
	token := sandbox.Token{
		ID:                  e.ID,
		Network:             sandbox.Network(e.Network),
		State:               sandbox.TokenState(e.State),
		Fault:               fault,
		NetworkTokenNumber:  e.NetworkTokenNumber,
		ExpirationMonth:     e.ExpirationMonth,
		ExpirationYear:      e.ExpirationYear,
		PAN:                 e.PAN,
		CardExpirationMonth: e.CardExpirationMonth,
		CardExpirationYear:  e.CardExpirationYear,
	}
	return sandbox.CompleteToken(token, !e.NoNetworkToken), nil
}
