package tokenapi

// Benchmarks of the steps of one call, so that a regression in BenchmarkCallHTTPSignature
// or BenchmarkCallJWT can be located: input validation, building the request, signing it
// (HTTP Signature or an RS256 JWT), and reading the JWE header of the response.

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/httpsig"
	"github.com/paycreds/tms/internal/jwtauth"
)

const (
	partsTokenID   = "7030000000012345678"
	partsServerURL = "https://apitest.cybersource.com"
)

// partsRequestBody is the body BenchmarkCallHTTPSignature sends.
var partsRequestBody = []byte(`{"paymentCredentialType":"CRYPTOGRAM"}`)

// fullRequest sets most fields, so that validation visits them all.
func fullRequest() *PaymentCredentialsRequest {
	r := &PaymentCredentialsRequest{
		PaymentCredentialType: Cryptogram,
		TransactionType:       Ecommerce,
		ClientCorrelationID:   "order-2025-0001",
	}
	r.OrderInformation.AmountDetails = gen.AmountDetails{TotalAmount: "102.21", Currency: "USD"}
	r.OrderInformation.BillTo = gen.BillTo{
		FirstName: "Ada", LastName: "Lovelace", Address1: "1 Market St", Locality: "San Francisco",
		AdministrativeArea: "CA", PostalCode: "94105", Country: "US", Email: "ada@example.com",
	}
	r.MerchantInformation.MerchantDescriptor = gen.MerchantDescriptor{Name: "Example Store", URL: "https://shop.example.com"}
	r.DeviceInformation = gen.DeviceInformation{
		PlatformType: gen.PlatformTypeWeb, IPAddress: "192.0.2.10", HTTPAcceptContent: "text/html",
		HTTPBrowserLanguage: "en-US", UserAgentBrowserValue: "Mozilla/5.0",
	}
	return r
}

func BenchmarkValidateRequest(b *testing.B) {
	request := fullRequest()
	b.ReportAllocs()
	for b.Loop() {
		if err := validateCall(partsTokenID, request, callSettings{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildRequest measures building a request as a call does: the JSON encoding of
// the body, then the generated builder, which escapes the token id into the path, parses
// URLs three times and sets Content-Type.
func BenchmarkBuildRequest(b *testing.B) {
	client := &Client{server: partsServerURL + "/"}
	request := PaymentCredentialsRequest{PaymentCredentialType: Cryptogram}
	b.ReportAllocs()
	for b.Loop() {
		body, err := json.Marshal(&request)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := client.newRequest(v2, partsTokenID, "", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRequest measures the JSON encoding of the body alone.
func BenchmarkEncodeRequest(b *testing.B) {
	request := PaymentCredentialsRequest{PaymentCredentialType: Cryptogram}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&request); err != nil {
			b.Fatal(err)
		}
	}
}

func newPartsSignature(b *testing.B) *httpSignatureAuth {
	b.Helper()
	secret := make([]byte, 32)
	signer, err := httpsig.NewSigner("e3b0c442-98fc-4c14-9afb-f4c8996fb924", secret)
	if err != nil {
		b.Fatal(err)
	}
	return &httpSignatureAuth{merchantID: "benchmark_merchant", signerID: "benchmark_merchant", signer: signer}
}

// BenchmarkSignHTTPSignature measures the headers HTTP Signature adds to one attempt: the
// date, the digest of the body, the signing string and its HMAC.
func BenchmarkSignHTTPSignature(b *testing.B) {
	auth := newPartsSignature(b)
	req, err := http.NewRequest(http.MethodPost, partsServerURL+"/tms/v2/tokens/"+partsTokenID+"/payment-credentials", nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

	b.ReportAllocs()
	for b.Loop() {
		if err := auth.authenticate(req, partsRequestBody, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorSignHMAC is the floor of BenchmarkSignHTTPSignature: SHA-256 of the body
// and HMAC-SHA256 of a signing string of the same length, both base64 encoded, with the
// HMAC key schedule done before the loop.
func BenchmarkFloorSignHMAC(b *testing.B) {
	mac := hmac.New(sha256.New, make([]byte, 32))
	signingString := []byte(strings.Repeat("x", len(httpsig.SigningString(httpsig.Request{
		Method: http.MethodPost, Host: "apitest.cybersource.com",
		Target:   "/tms/v2/tokens/" + partsTokenID + "/payment-credentials",
		Date:     "Wed, 15 Jan 2025 10:30:00 GMT",
		Digest:   httpsig.Digest(partsRequestBody),
		SignerID: "benchmark_merchant",
	}))))
	var sum [sha256.Size]byte
	encoded := make([]byte, base64.StdEncoding.EncodedLen(sha256.Size))

	b.ReportAllocs()
	for b.Loop() {
		digest := sha256.Sum256(partsRequestBody)
		base64.StdEncoding.Encode(encoded, digest[:])
		mac.Reset()
		mac.Write(signingString)
		base64.StdEncoding.Encode(encoded, mac.Sum(sum[:0]))
	}
}

// newPartsJWT returns the JWT authentication of WithP12JWT with the fixture P12 key
// (RSA-2048), and that key.
func newPartsJWT(b *testing.B) (*jwtAuth, *rsa.PrivateKey) {
	b.Helper()
	data, err := os.ReadFile("testdata/fixturemerchant.p12")
	if err != nil {
		b.Fatal(err)
	}
	file, err := ParseP12(data, "fixturemerchant", "")
	if err != nil {
		b.Fatal(err)
	}
	signer, err := jwtauth.NewRS256Signer(file.KeyID, file.key)
	if err != nil {
		b.Fatal(err)
	}
	return &jwtAuth{merchantID: "fixturemerchant", signer: signer}, file.key
}

// BenchmarkSignJWT measures the Authorization header JWT authentication adds to one
// attempt with an RS256 key: a new jti, the claims with the body digest, their JSON
// encoding and the RSA-2048 signature.
func BenchmarkSignJWT(b *testing.B) {
	auth, _ := newPartsJWT(b)
	req, err := http.NewRequest(http.MethodPost, partsServerURL+"/tms/v2/tokens/"+partsTokenID+"/payment-credentials", nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

	b.ReportAllocs()
	for b.Loop() {
		if err := auth.authenticate(req, partsRequestBody, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorSignRSA is the floor of BenchmarkSignJWT: one RSA-2048 PKCS#1 v1.5
// signature over the SHA-256 digest of a JWS signing input of the same length as the
// one BenchmarkSignJWT signs.
func BenchmarkFloorSignRSA(b *testing.B) {
	auth, key := newPartsJWT(b)
	req, err := http.NewRequest(http.MethodPost, partsServerURL+"/tms/v2/tokens/"+partsTokenID+"/payment-credentials", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := auth.authenticate(req, partsRequestBody, time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	token := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	signingInput := []byte(strings.Repeat("x", strings.LastIndexByte(token, '.')))

	b.ReportAllocs()
	for b.Loop() {
		digest := sha256.Sum256(signingInput)
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseJWEHeader measures the check of a 201 body's shape and the decoding of
// its protected header, which a call does before returning the JWE unopened. The cache
// of a Client decodes the header once, as in a series of calls.
func BenchmarkParseJWEHeader(b *testing.B) {
	jwe := strings.TrimSpace(readFixture(b, "v2-visa-cryptogram.jwe"))
	var cache jweHeaderCache
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cache.parse(jwe); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseJWEHeaderUncached decodes the protected header every time, as for the
// first response of a Client.
func BenchmarkParseJWEHeaderUncached(b *testing.B) {
	jwe := strings.TrimSpace(readFixture(b, "v2-visa-cryptogram.jwe"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseCompactHeader(jwe); err != nil {
			b.Fatal(err)
		}
	}
}
