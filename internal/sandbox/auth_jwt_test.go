package sandbox_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/paycreds/tms/gen"
	"github.com/paycreds/tms/internal/jwtauth"
	"github.com/paycreds/tms/internal/sandbox"
)

// nodeRecording is one request of testdata/jwt-example.json, recorded on the wire from
// the official Node SDK (cybersource-rest-client 0.0.83).
type nodeRecording struct {
	SDKConfig struct {
		MerchantID string `json:"merchantID"`
		KeyID      string `json:"merchantKeyId"`
		SecretKey  string `json:"merchantsecretKey"`
	} `json:"sdkConfig"`
	P12 struct {
		CertificatePEM string `json:"certificatePem"`
	} `json:"p12"`
	Request struct {
		Method  string      `json:"method"`
		Path    string      `json:"path"`
		Body    string      `json:"body"`
		Headers [][2]string `json:"headersInWireOrder"`
	} `json:"request"`
	Claims struct {
		IssuedAt int64 `json:"iat"`
	} `json:"jwtClaims"`
}

func loadNodeRecordings(t *testing.T) (rs256, hs256 nodeRecording) {
	t.Helper()
	data, err := os.ReadFile("testdata/jwt-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		RS256 nodeRecording `json:"rs256_p12"`
		HS256 nodeRecording `json:"hs256_shared_secret"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	return file.RS256, file.HS256
}

// replay sends a recorded request as it was on the wire, except the Host header and the
// transport-level headers that net/http sets itself.
func replay(t *testing.T, ss *sandboxServer, rec nodeRecording) result {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), rec.Request.Method, ss.URL+rec.Request.Path, strings.NewReader(rec.Request.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range rec.Request.Headers {
		switch strings.ToLower(h[0]) {
		case "host", "content-length", "connection", "accept-encoding":
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body}
}

func TestNodeSDKRequestsAccepted(t *testing.T) {
	rs256, hs256 := loadNodeRecordings(t)
	block, _ := pem.Decode([]byte(rs256.P12.CertificatePEM))
	if block == nil {
		t.Fatal("the recording has no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}

	base := generatedMerchants(t)[0]
	merchant := base.Merchant
	merchant.ID = hs256.SDKConfig.MerchantID
	merchant.KeyID = hs256.SDKConfig.KeyID
	merchant.SecretKey = hs256.SDKConfig.SecretKey
	merchant.Certificates = []*x509.Certificate{cert}
	token := demoToken(t, sandbox.DemoVisaTokenID)
	token.ID = "7030000000012345678"

	for _, rec := range []nodeRecording{rs256, hs256} {
		issuedAt := time.Unix(rec.Claims.IssuedAt, 0)
		ss := startSandbox(t, sandbox.Config{
			Merchants:    []sandbox.Merchant{merchant},
			Tokens:       []sandbox.Token{token},
			RequestHosts: []string{"apitest.cybersource.com"},
			Now:          func() time.Time { return issuedAt },
		})

		res := replay(t, ss, rec)
		got := decrypt(t, base, res)
		if got.TokenizedCard.Cryptogram == "" {
			t.Error("the Node SDK's request got no cryptogram")
		}
		if record := ss.lastRecord(t); record.MerchantID != "testmerchant" {
			t.Errorf("Record.MerchantID = %q, want testmerchant", record.MerchantID)
		}

		res = replay(t, ss, rec)
		checkUnauthorized(t, ss, res, sandbox.ErrJWTReplayed)
	}
}

func TestNodeSDKRequestRejectedLater(t *testing.T) {
	rs256, _ := loadNodeRecordings(t)
	block, _ := pem.Decode([]byte(rs256.P12.CertificatePEM))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	merchant := generatedMerchants(t)[0].Merchant
	merchant.ID = "testmerchant"
	merchant.Certificates = []*x509.Certificate{cert}
	token := demoToken(t, sandbox.DemoVisaTokenID)
	token.ID = "7030000000012345678"

	tests := []struct {
		name   string
		now    time.Time
		hosts  []string
		reason error
	}{
		{"ten minutes after iat", time.Unix(rs256.Claims.IssuedAt, 0).Add(10 * time.Minute), []string{"apitest.cybersource.com"}, sandbox.ErrJWTExpired},
		{"host not accepted", time.Unix(rs256.Claims.IssuedAt, 0), nil, sandbox.ErrJWTClaimMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := startSandbox(t, sandbox.Config{
				Merchants: []sandbox.Merchant{merchant}, Tokens: []sandbox.Token{token},
				RequestHosts: tt.hosts, Now: func() time.Time { return tt.now },
			})
			checkUnauthorized(t, ss, replay(t, ss, rs256), tt.reason)
		})
	}
}

func TestJWTSuccess(t *testing.T) {
	ss, ms, _ := jwtSandbox(t, nil)
	alpha := ms[0]
	for _, style := range []jwtauth.ClaimStyle{jwtauth.DocumentedClaims, jwtauth.NodeSDKClaims} {
		transports := map[string]*jwtTransport{
			"RS256": rs256For(t, alpha),
			"HS256": hs256For(t, alpha.ID, alpha.KeyID, alpha.SecretKey),
		}
		for name, transport := range transports {
			transport.style = style
			for _, version := range []string{"v2", "v3"} {
				res := call(t, newClient(t, ss, transport), version, sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
				if res.status != http.StatusCreated {
					t.Fatalf("%s %s %s: status %d, reason %v", name, style, version, res.status, ss.lastRecord(t).AuthError)
				}
				decrypt(t, alpha.testMerchant, res)
				if rec := ss.lastRecord(t); rec.MerchantID != alpha.ID {
					t.Errorf("%s: Record.MerchantID = %q", name, rec.MerchantID)
				}
			}
		}
	}
}

func TestJWTFailures(t *testing.T) {
	future := time.Now().Add(4 * 365 * 24 * time.Hour)
	ss, ms, _ := jwtSandbox(t, nil)
	alpha, beta := ms[0], ms[1]
	alphaRS := func() *jwtTransport { return rs256For(t, alpha) }
	alphaHS := func() *jwtTransport { return hs256For(t, alpha.ID, alpha.KeyID, alpha.SecretKey) }
	withClaims := func(base func() *jwtTransport, change func(*jwtauth.Claims)) func() *jwtTransport {
		return func() *jwtTransport {
			j := base()
			j.changeClaims = change
			return j
		}
	}

	tests := []struct {
		name      string
		transport func() *jwtTransport
		reason    error
	}{
		{"signature of another key", func() *jwtTransport {
			j := rs256For(t, beta)
			j.signer, _ = jwtauth.NewRS256Signer(alpha.kid, beta.certKey)
			j.merchantID = alpha.ID
			return j
		}, sandbox.ErrSignatureMismatch},
		{"shared secret of another merchant", func() *jwtTransport {
			return hs256For(t, alpha.ID, alpha.KeyID, beta.SecretKey)
		}, sandbox.ErrSignatureMismatch},
		{"tampered claims", func() *jwtTransport {
			j := alphaHS()
			j.afterSigning = func(r *http.Request) {
				parts := strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), ".")
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				payload = bytes.Replace(payload, []byte(`"POST"`), []byte(`"PUT"`), 1)
				r.Header.Set("Authorization", "Bearer "+parts[0]+"."+base64.RawURLEncoding.EncodeToString(payload)+"."+parts[2])
			}
			return j
		}, sandbox.ErrSignatureMismatch},
		{"unknown certificate kid", func() *jwtTransport {
			j := alphaRS()
			j.signer, _ = jwtauth.NewRS256Signer("9999999999999999999999", alpha.certKey)
			return j
		}, sandbox.ErrUnknownKeyID},
		{"unknown shared secret key id", func() *jwtTransport {
			return hs256For(t, alpha.ID, "00000000-0000-4000-8000-000000000000", alpha.SecretKey)
		}, sandbox.ErrUnknownKeyID},
		{"another merchant's certificate", func() *jwtTransport {
			j := rs256For(t, beta)
			j.merchantID = alpha.ID
			return j
		}, sandbox.ErrMerchantMismatch},
		{"iss of another merchant", withClaims(alphaRS, func(c *jwtauth.Claims) { c.Issuer = beta.ID }), sandbox.ErrMerchantMismatch},
		{"expired", func() *jwtTransport {
			j := alphaRS()
			j.now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
			return j
		}, sandbox.ErrJWTExpired},
		{"issued in the future", func() *jwtTransport {
			j := alphaHS()
			j.now = func() time.Time { return time.Now().Add(10 * time.Minute) }
			return j
		}, sandbox.ErrClockSkew},
		{"lifetime of an hour", withClaims(alphaRS, func(c *jwtauth.Claims) { c.ExpiresAt = c.IssuedAt + 3600 }), sandbox.ErrInvalidJWT},
		{"body changed after signing", func() *jwtTransport {
			j := alphaRS()
			j.afterSigning = bodyWith(`{"paymentCredentialType":"NETWORK_TOKEN"}`)
			return j
		}, sandbox.ErrDigestMismatch},
		{"digest of another body", withClaims(alphaHS, func(c *jwtauth.Claims) { c.Digest = jwtauth.BodyDigest([]byte("{ }")) }), sandbox.ErrDigestMismatch},
		{"method GET", withClaims(alphaRS, func(c *jwtauth.Claims) { c.RequestMethod = "GET" }), sandbox.ErrJWTClaimMismatch},
		{"host of production", withClaims(alphaRS, func(c *jwtauth.Claims) { c.RequestHost = "api.cybersource.com" }), sandbox.ErrJWTClaimMismatch},
		{"path of v2 on v3", withClaims(alphaRS, func(c *jwtauth.Claims) {
			c.RequestResourcePath = strings.Replace(c.RequestResourcePath, "/v3/", "/v2/", 1)
		}), sandbox.ErrJWTClaimMismatch},
		{"version 1", withClaims(alphaRS, func(c *jwtauth.Claims) { c.Version = "1" }), sandbox.ErrInvalidJWT},
		{"no jti", withClaims(alphaRS, func(c *jwtauth.Claims) { c.ID = "" }), sandbox.ErrInvalidJWT},
		{"unknown response MLE kid", func() *jwtTransport {
			j := alphaRS()
			j.responseKID = "not-a-key"
			return j
		}, sandbox.ErrUnknownResponseKeyID},
		{"basic scheme", func() *jwtTransport {
			j := alphaRS()
			j.afterSigning = func(r *http.Request) { r.Header.Set("Authorization", "Bearer not-a-token") }
			return j
		}, sandbox.ErrInvalidJWT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, newClient(t, ss, tt.transport()), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
			checkUnauthorized(t, ss, res, tt.reason)
		})
	}

	t.Run("certificate expired by the sandbox clock", func(t *testing.T) {
		late, _, _ := jwtSandbox(t, func(cfg *sandbox.Config) { cfg.Now = func() time.Time { return future } })
		j := alphaRS()
		j.now = func() time.Time { return future }
		res := call(t, newClient(t, late, j), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		checkUnauthorized(t, late, res, sandbox.ErrCertificateNotValid)
	})
}

func TestJWTReplayRejected(t *testing.T) {
	ss, ms, _ := jwtSandbox(t, nil)
	first := rs256For(t, ms[0])
	res := call(t, newClient(t, ss, first), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	decrypt(t, ms[0].testMerchant, res)

	again := rs256For(t, ms[0])
	again.token = first.lastToken
	res = call(t, newClient(t, ss, again), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	checkUnauthorized(t, ss, res, sandbox.ErrJWTReplayed)
}

func TestJWTRejectedTokenKeepsJTI(t *testing.T) {
	ss, ms, _ := jwtSandbox(t, nil)
	// A token sent to the wrong path fails and must not use up its jti, so the same
	// token still works where it belongs.
	sender := rs256For(t, ms[0])
	sender.changeClaims = func(c *jwtauth.Claims) { c.ID = "3b241101-e2bb-4255-8caf-4136c566a962" }
	res := call(t, newClient(t, ss, sender), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	decrypt(t, ms[0].testMerchant, res)

	res = call(t, newClient(t, ss, sender), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	checkUnauthorized(t, ss, res, sandbox.ErrJWTReplayed)
}

func TestJWTMetaKey(t *testing.T) {
	ms, _ := generatedJWTMerchants(t)
	alpha, beta, gamma := ms[0], ms[1], ms[2]
	portfolioCert, portfolioKey, err := sandbox.GenerateCertificate("portfolio_jwt")
	if err != nil {
		t.Fatal(err)
	}
	portfolio := sandbox.Portfolio{
		ID: "portfolio_jwt", KeyID: "7a1c2e3d-4b5a-4c6d-8e7f-901a2b3c4d5e",
		SecretKey:    base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)),
		MerchantIDs:  []string{alpha.ID, beta.ID},
		Certificates: []*x509.Certificate{portfolioCert},
	}
	ss := startSandbox(t, sandbox.Config{
		Merchants:  []sandbox.Merchant{alpha.Merchant, beta.Merchant, gamma.Merchant},
		Portfolios: []sandbox.Portfolio{portfolio},
		Tokens:     sandbox.DemoTokens(),
	})
	rs256Portfolio := func(merchantID string) *jwtTransport {
		signer, err := jwtauth.NewRS256Signer(portfolioCert.Subject.SerialNumber, portfolioKey)
		if err != nil {
			t.Fatal(err)
		}
		return &jwtTransport{merchantID: merchantID, issuerID: portfolio.ID, signer: signer}
	}

	for _, transport := range []*jwtTransport{rs256Portfolio(beta.ID), {merchantID: beta.ID, issuerID: portfolio.ID, signer: hs256For(t, beta.ID, portfolio.KeyID, portfolio.SecretKey).signer}} {
		res := call(t, newClient(t, ss, transport), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		decrypt(t, beta.testMerchant, res)
		if rec := ss.lastRecord(t); rec.MerchantID != beta.ID {
			t.Errorf("Record.MerchantID = %q, want %q", rec.MerchantID, beta.ID)
		}
	}

	outside := rs256Portfolio(gamma.ID)
	res := call(t, newClient(t, ss, outside), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	checkUnauthorized(t, ss, res, sandbox.ErrMerchantMismatch)

	merchantAsIssuer := rs256Portfolio(alpha.ID)
	merchantAsIssuer.issuerID = alpha.ID
	res = call(t, newClient(t, ss, merchantAsIssuer), "v3", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
	checkUnauthorized(t, ss, res, sandbox.ErrMerchantMismatch)
}

func TestEncryptedRequestAndResponse(t *testing.T) {
	ss, ms, key := jwtSandbox(t, nil)
	alpha := ms[0]
	mleKeyID, err := sandbox.MLEKeyID(alpha.MLEPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	transport := rs256For(t, alpha)
	transport.encryptTo = key.Certificate
	transport.responseKID = mleKeyID

	res := call(t, newClient(t, ss, transport), "v3", sandbox.DemoVisaTokenID,
		gen.PaymentCredentialsRequest{PaymentCredentialType: gen.PaymentCredentialTypeNetworkToken}, callOptions{})
	if res.status != http.StatusCreated {
		t.Fatalf("status %d: %s (auth %v, encryption %v)", res.status, res.body, ss.lastRecord(t).AuthError, ss.lastRecord(t).EncryptionError)
	}
	inner := openEncryptedResponse(t, alpha.testMerchant, res, mleKeyID)
	credentials := decrypt(t, alpha.testMerchant, result{status: http.StatusCreated, header: http.Header{"Content-Type": {"application/jose;charset=utf-8"}}, body: inner})
	if credentials.TokenizedCard.Number == "" || credentials.TokenizedCard.Cryptogram != "" {
		t.Errorf("NETWORK_TOKEN from the encrypted request: number %q cryptogram %q", credentials.TokenizedCard.Number, credentials.TokenizedCard.Cryptogram)
	}
	rec := ss.lastRecord(t)
	if !rec.EncryptedRequest || !rec.EncryptedResponse {
		t.Errorf("Record.EncryptedRequest = %v, EncryptedResponse = %v, want both", rec.EncryptedRequest, rec.EncryptedResponse)
	}

	t.Run("error body encrypted", func(t *testing.T) {
		res := call(t, newClient(t, ss, transport), "v2", sandbox.DemoDeletedTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		if res.status != http.StatusGone {
			t.Fatalf("status = %d, want 410", res.status)
		}
		inner := openEncryptedResponse(t, alpha.testMerchant, res, mleKeyID)
		errorBody(t, result{status: res.status, header: http.Header{"Content-Type": {"application/json"}}, body: inner}, http.StatusGone, "notAvailable")
	})

	t.Run("invalid field inside the encrypted body", func(t *testing.T) {
		plain := rs256For(t, alpha)
		plain.encryptTo = key.Certificate
		res := call(t, newClient(t, ss, plain), "v2", sandbox.DemoVisaTokenID,
			gen.PaymentCredentialsRequest{PaymentCredentialType: "PASSWORD"}, callOptions{})
		body := errorBody(t, res, http.StatusBadRequest, "invalidFields")
		if len(body.Errors[0].Details) == 0 || body.Errors[0].Details[0].Name != "paymentCredentialType" {
			t.Errorf("details = %+v, want paymentCredentialType", body.Errors[0].Details)
		}
	})

	t.Run("response encryption alone", func(t *testing.T) {
		hs := hs256For(t, alpha.ID, alpha.KeyID, alpha.SecretKey)
		hs.responseKID = mleKeyID
		res := call(t, newClient(t, ss, hs), "v2", sandbox.DemoMastercardTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		inner := openEncryptedResponse(t, alpha.testMerchant, res, mleKeyID)
		decrypt(t, alpha.testMerchant, result{status: res.status, header: http.Header{"Content-Type": {"application/jose;charset=utf-8"}}, body: inner})
		if rec := ss.lastRecord(t); rec.EncryptedRequest || !rec.EncryptedResponse {
			t.Errorf("Record.EncryptedRequest = %v, EncryptedResponse = %v", rec.EncryptedRequest, rec.EncryptedResponse)
		}
	})
}

func TestEncryptedRequestRejected(t *testing.T) {
	ss, ms, key := jwtSandbox(t, nil)
	alpha := ms[0]
	otherKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	encrypting := func(change func(*jwtTransport)) http.RoundTripper {
		j := rs256For(t, alpha)
		j.encryptTo = key.Certificate
		if change != nil {
			change(j)
		}
		return j
	}
	signatureWithEncryptedBody := signerFor(alpha.testMerchant)
	wrapped, err := encrypting(nil).(*jwtTransport).encrypt([]byte(`{}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		transport http.RoundTripper
		opts      callOptions
		reason    error
	}{
		{"HTTP Signature", signatureWithEncryptedBody, callOptions{contentType: "application/json", rawBody: string(wrapped)}, sandbox.ErrEncryptionNeedsJWT},
		{"another certificate", encrypting(func(j *jwtTransport) { j.encryptTo = otherKey.Certificate }), callOptions{}, sandbox.ErrInvalidEncryptedRequest},
		{"kid of another certificate", encrypting(func(j *jwtTransport) {
			j.jweHeader = func(o *jose.EncrypterOptions) {}
			j.encryptTo = &x509.Certificate{PublicKey: key.Certificate.PublicKey, Subject: otherKey.Certificate.Subject}
		}), callOptions{}, sandbox.ErrInvalidEncryptedRequest},
		{"iat an hour old", encrypting(func(j *jwtTransport) {
			j.jweHeader = func(o *jose.EncrypterOptions) { o.WithHeader("iat", time.Now().Add(-time.Hour).Unix()) }
		}), callOptions{}, sandbox.ErrInvalidEncryptedRequest},
		{"not a JWE", encrypting(func(j *jwtTransport) { j.encryptTo = nil }), callOptions{contentType: "application/json", rawBody: `{"encryptedRequest":"a.b.c.d.e"}`}, sandbox.ErrInvalidEncryptedRequest},
		{"extra field", encrypting(func(j *jwtTransport) { j.encryptTo = nil }), callOptions{contentType: "application/json", rawBody: `{"encryptedRequest":"a.b.c.d.e","paymentCredentialType":"CRYPTOGRAM"}`}, sandbox.ErrInvalidEncryptedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, newClient(t, ss, tt.transport), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, tt.opts)
			errorBody(t, res, http.StatusBadRequest, "invalidRequest")
			if rec := ss.lastRecord(t); !errors.Is(rec.EncryptionError, tt.reason) {
				t.Errorf("Record.EncryptionError = %v, want %v", rec.EncryptionError, tt.reason)
			}
		})
	}

	t.Run("no request-encryption key", func(t *testing.T) {
		bare, _, _ := jwtSandbox(t, func(cfg *sandbox.Config) { cfg.RequestEncryption = nil })
		res := call(t, newClient(t, bare, encrypting(nil)), "v2", sandbox.DemoVisaTokenID, gen.PaymentCredentialsRequest{}, callOptions{})
		errorBody(t, res, http.StatusBadRequest, "invalidRequest")
		if rec := bare.lastRecord(t); !errors.Is(rec.EncryptionError, sandbox.ErrNoRequestEncryptionKey) {
			t.Errorf("Record.EncryptionError = %v", rec.EncryptionError)
		}
	})
}

func TestNewRejectsInvalidJWTConfig(t *testing.T) {
	ms, key := generatedJWTMerchants(t)
	alpha := ms[0]
	noSerial := *alpha.certificate
	noSerial.Subject.SerialNumber = ""
	mismatched := &sandbox.RequestEncryptionKey{Certificate: key.Certificate, PrivateKey: alpha.certKey}

	tests := []struct {
		name    string
		cfg     func() sandbox.Config
		mention string
	}{
		{"certificate without serialNumber", func() sandbox.Config {
			m := alpha.Merchant
			m.Certificates = []*x509.Certificate{&noSerial}
			return sandbox.Config{Merchants: []sandbox.Merchant{m}}
		}, "serialNumber"},
		{"certificate kid twice", func() sandbox.Config {
			m := alpha.Merchant
			m.Certificates = []*x509.Certificate{alpha.certificate, alpha.certificate}
			return sandbox.Config{Merchants: []sandbox.Merchant{m}}
		}, "already in use"},
		{"request key of another certificate", func() sandbox.Config {
			return sandbox.Config{Merchants: []sandbox.Merchant{alpha.Merchant}, RequestEncryption: mismatched}
		}, "does not belong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sandbox.New(tt.cfg())
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error = %v, want one mentioning %q", err, tt.mention)
			}
		})
	}
}
