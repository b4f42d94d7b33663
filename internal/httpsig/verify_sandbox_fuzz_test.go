package httpsig_test

// This fuzz target drives the sandbox's HTTP Signature verifier through its public
// ServeHTTP. It lives here, beside the signing code, so that the sandbox package keeps
// only its own tests.

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/httpsig"
	"github.com/paycreds/tms/internal/sandbox"
)

// sdkVector is the part of an entry of testdata/http-signature.json that a request needs.
type sdkVector struct {
	Host                  string `json:"host"`
	Path                  string `json:"path"`
	Date                  string `json:"date"`
	Body                  string `json:"body"`
	MerchantID            string `json:"merchantId"`
	MerchantIDInSignature string `json:"merchantIdInSignature"`
	KeyID                 string `json:"keyId"`
	Secret                string `json:"secret"`
	Expected              struct {
		Digest  string      `json:"digest"`
		Headers [][2]string `json:"headers_in_wire_order"`
	} `json:"expected"`
}

func (v sdkVector) header(name string) string {
	for _, h := range v.Expected.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// signingKey is one key id of the sandbox, as the test's own verification needs it.
type signingKey struct {
	secret    []byte
	signerID  string          // the id on the signing string's v-c-merchant-id line
	merchants map[string]bool // the v-c-merchant-id header values the key may sign for
}

// fuzzSandbox configures the sandbox with the merchants and the portfolio of the Node
// SDK vectors, so that each vector is a valid request, and pins its clock so that every
// vector's date is within the accepted skew.
func fuzzSandbox(f *testing.F) (*sandbox.Server, []sdkVector, map[string]signingKey) {
	f.Helper()
	data, err := os.ReadFile("testdata/http-signature.json")
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Vectors []sdkVector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		f.Fatal(err)
	}

	mleKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	var cfg sandbox.Config
	keys := map[string]signingKey{}
	seen := map[string]bool{}
	for _, v := range file.Vectors {
		secret, err := httpsig.DecodeSecret(v.Secret)
		if err != nil {
			f.Fatal(err)
		}
		if v.MerchantIDInSignature != v.MerchantID {
			cfg.Merchants = append(cfg.Merchants, sandbox.Merchant{
				ID: v.MerchantID, KeyID: "own-key-of-" + v.MerchantID, SecretKey: base64.StdEncoding.EncodeToString([]byte("unused secret of the merchant")),
				MLEPublicKey: &mleKey.PublicKey,
			})
			cfg.Portfolios = append(cfg.Portfolios, sandbox.Portfolio{ID: v.MerchantIDInSignature, KeyID: v.KeyID, SecretKey: v.Secret, MerchantIDs: []string{v.MerchantID}})
			keys[v.KeyID] = signingKey{secret: secret, signerID: v.MerchantIDInSignature, merchants: map[string]bool{v.MerchantID: true}}
			continue
		}
		if seen[v.MerchantID] {
			continue
		}
		seen[v.MerchantID] = true
		cfg.Merchants = append(cfg.Merchants, sandbox.Merchant{ID: v.MerchantID, KeyID: v.KeyID, SecretKey: v.Secret, MLEPublicKey: &mleKey.PublicKey})
		keys[v.KeyID] = signingKey{secret: secret, signerID: v.MerchantID, merchants: map[string]bool{v.MerchantID: true}}
	}
	cfg.Tokens = sandbox.DemoTokens()
	cfg.Now = func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	cfg.ClockSkew = 2 * 365 * 24 * time.Hour

	server, err := sandbox.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	return server, file.Vectors, keys
}

// rawRequest writes a POST as it would arrive on the wire.
func rawRequest(host, target, date, digest, merchantID, signature string, body []byte) string {
	var b strings.Builder
	b.WriteString("POST " + target + " HTTP/1.1\r\n")
	b.WriteString("Host: " + host + "\r\n")
	b.WriteString("Content-Type: application/json;charset=utf-8\r\n")
	b.WriteString("Accept: application/jose;charset=utf-8\r\n")
	b.WriteString("Date: " + date + "\r\n")
	b.WriteString("Digest: " + digest + "\r\n")
	b.WriteString("V-C-Merchant-Id: " + merchantID + "\r\n")
	b.WriteString("Signature: " + signature + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.Write(body)
	return b.String()
}

// authentic reports whether r carries a valid HTTP Signature for one of keys, computed
// here from the received request without the sandbox's verifier.
func authentic(r *http.Request, body []byte, keys map[string]signingKey) (bool, string) {
	sum := sha256.Sum256(body)
	if r.Header.Get("Digest") != "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]) {
		return false, "the digest does not match the body"
	}

	params, err := httpsig.ParseSignatureHeader(r.Header.Get("Signature"))
	if err != nil {
		return false, "the signature header does not parse: " + err.Error()
	}
	key, ok := keys[params.KeyID]
	if !ok {
		return false, "the key id is unknown"
	}
	if !key.merchants[r.Header.Get("V-C-Merchant-Id")] {
		return false, "the key does not sign for this merchant"
	}
	if params.Algorithm != "HmacSHA256" {
		return false, "the algorithm is not HmacSHA256"
	}

	covered := map[string]bool{}
	lines := make([]string, 0, len(params.Headers))
	for _, name := range params.Headers {
		covered[name] = true
		var value string
		switch name {
		case "host":
			value = r.Host
		case "request-target":
			value = "post " + r.RequestURI
		case "v-c-merchant-id":
			value = key.signerID
		default:
			values := r.Header.Values(name)
			if len(values) == 0 {
				return false, "a signed header is missing"
			}
			value = strings.Join(values, ", ")
		}
		lines = append(lines, name+": "+value)
	}
	for _, name := range []string{"host", "date", "request-target", "digest", "v-c-merchant-id"} {
		if !covered[name] {
			return false, "the signature does not cover " + name
		}
	}

	mac := hmac.New(sha256.New, key.secret)
	mac.Write([]byte(strings.Join(lines, "\n")))
	got, err := base64.StdEncoding.DecodeString(params.Signature)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return false, "the signature value is wrong"
	}
	return true, ""
}

// maxSandboxBody is the request body size above which the sandbox returns 400 before it
// authenticates.
const maxSandboxBody = 64 << 10

// FuzzSandboxVerifier sends requests built from fuzzed header values and bodies to the
// sandbox. The sandbox must never panic or return 5xx. It must return 401 for every
// request whose signature this test does not verify itself, unless it rejected the
// request before authentication for its path, method or body size.
func FuzzSandboxVerifier(f *testing.F) {
	server, vectors, keys := fuzzSandbox(f)
	type seed struct {
		host, target, date, digest, merchantID, signature string
		body                                              []byte
	}
	var seeds []seed
	for _, v := range vectors {
		seeds = append(seeds, seed{v.Host, v.Path, v.Date, v.Expected.Digest, v.MerchantID, v.header("signature"), []byte(v.Body)})
	}
	// A request for a demo token, which passes authentication and reaches the JWE
	// encryption.
	basic := vectors[0]
	signer, err := httpsig.NewSigner(basic.KeyID, keys[basic.KeyID].secret)
	if err != nil {
		f.Fatal(err)
	}
	body := []byte(`{"paymentCredentialType":"CRYPTOGRAM"}`)
	target := "/tms/v3/tokens/" + sandbox.DemoVisaTokenID + "/payment-credentials"
	signature := signer.SignatureHeader(httpsig.Request{Method: "POST", Host: basic.Host, Target: target, Date: basic.Date, Digest: httpsig.Digest(body), SignerID: basic.MerchantID})
	seeds = append(seeds, seed{basic.Host, target, basic.Date, httpsig.Digest(body), basic.MerchantID, signature, body})

	// Every seed must pass authentication, so that the fuzzer starts from requests the
	// verifier accepts and mutates them into ones it must reject.
	for i, s := range seeds {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rawRequest(s.host, s.target, s.date, s.digest, s.merchantID, s.signature, s.body))))
		if err != nil {
			f.Fatalf("seed %d: %v", i, err)
		}
		recorder := httptest.NewRecorder()
		server.ServeHTTP(recorder, req)
		if recorder.Code == http.StatusUnauthorized || recorder.Code >= 500 {
			f.Fatalf("seed %d: status %d, want the request authenticated", i, recorder.Code)
		}
		f.Add(s.host, s.target, s.date, s.digest, s.merchantID, s.signature, s.body)
	}

	f.Fuzz(func(t *testing.T, host, target, date, digest, merchantID, signature string, body []byte) {
		raw := rawRequest(host, target, date, digest, merchantID, signature, body)
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // net/http would reject it before any handler
		}
		recorder := httptest.NewRecorder()
		server.ServeHTTP(recorder, req)

		if recorder.Code >= 500 {
			t.Fatalf("status %d for\n%q\nbody %s", recorder.Code, raw, recorder.Body)
		}
		rejectedBeforeAuthentication := recorder.Code == http.StatusNotFound || recorder.Code == http.StatusMethodNotAllowed ||
			recorder.Code == http.StatusBadRequest && len(body) > maxSandboxBody
		if ok, reason := authentic(req, body, keys); !ok && recorder.Code != http.StatusUnauthorized && !rejectedBeforeAuthentication {
			t.Fatalf("status %d, but %s:\n%q", recorder.Code, reason, raw)
		}
	})
}
