package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// demoJWT is the setup of the demo's JWT call: a P12 file for the merchant, made the way
// CyberSource issues one, and CyberSource's request-encryption key in the sandbox.
type demoJWT struct {
	p12        []byte
	requestKey *sandbox.RequestEncryptionKey
}

// newDemoJWT generates the merchant's certificate and P12 file and registers the
// certificate with merchant.
func newDemoJWT(merchant *sandbox.Merchant) (*demoJWT, error) {
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		return nil, err
	}
	cert, key, err := sandbox.GenerateCertificate(merchant.ID)
	if err != nil {
		return nil, err
	}
	// CyberSource sets the P12 password to the merchant id.
	p12, err := sandbox.EncodeP12(key, cert, requestKey.Certificate, merchant.ID)
	if err != nil {
		return nil, err
	}
	merchant.Certificates = []*x509.Certificate{cert}
	return &demoJWT{p12: p12, requestKey: requestKey}, nil
}

// runDemoJWT makes one v3 call with a JWT signed by the P12 key, the request encrypted to
// CyberSource's certificate from the P12 file and the response encrypted to the MLE key.
// It reports whether the call succeeded.
func runDemoJWT(ctx context.Context, w io.Writer, baseURL, merchantID string, mleKey *rsa.PrivateKey, setup *demoJWT, opts printOptions) bool {
	p12, err := tokenapi.ParseP12(setup.p12, merchantID, "")
	if err != nil {
		printError(w, "  ", "the sandbox", err)
		return false
	}
	mleKeyID, err := sandbox.MLEKeyID(&mleKey.PublicKey)
	if err != nil {
		printError(w, "  ", "the sandbox", err)
		return false
	}
	fmt.Fprintf(w, "  P12 key kid %s, request encrypted to %s, response encrypted to MLE kid %s\n",
		p12.KeyID, p12.CyberSourceCertificate.Subject.CommonName, mleKeyID)

	client, err := tokenapi.New(
		tokenapi.WithBaseURL(baseURL),
		tokenapi.WithP12JWT(merchantID, p12),
		tokenapi.WithMLEKeys(tokenapi.MLEKey{KeyID: mleKeyID, Key: mleKey}),
		tokenapi.WithRequestEncryption(p12.CyberSourceCertificate),
		tokenapi.WithResponseEncryption(mleKeyID),
	)
	if err != nil {
		printError(w, "  ", "the sandbox", err)
		return false
	}
	call := demoCall{title: "JWT", tokenID: sandbox.DemoVisaTokenID, v3: true,
		request: tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}}
	return runDemoCall(ctx, w, client, call, opts)
}
