package tokenapi_test

// Benchmarks of a whole call, with HTTP Signature and with JWT, and of decryption, each
// beside its floor: the same work done with the standard library alone. Run each pair in one command so that both halves see
// the same machine, and compare them with benchstat (BENCHMARKS.md has the commands):
//
//	go test -run '^$' -bench 'Call|Floor|Decrypt' -benchmem -count 10 ./tokenapi/

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/paycreds/tms/internal/p12"
	"github.com/paycreds/tms/tokenapi"
)

// benchTokenID is a Visa token id of the length CyberSource issues.
const benchTokenID = "7030000000012345678"

// benchRequest is the body the call benchmarks send.
var benchRequest = tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram}

// readBenchJWE returns the v2 fixture JWE, 1152 bytes, encrypted with RSA-OAEP-256 and
// A256GCM to testdata/mle-private-key.pem.
func readBenchJWE(b *testing.B) []byte {
	b.Helper()
	jwe, err := os.ReadFile("testdata/v2-visa-cryptogram.jwe")
	if err != nil {
		b.Fatal(err)
	}
	return bytes.TrimSpace(jwe)
}

// fixedJWEServer is a loopback server that reads each request body and responds 201 with
// one pre-made JWE and the headers CyberSource sends, so that a call benchmark measures
// the client and not a server. It keeps the first request it receives.
type fixedJWEServer struct {
	url string

	mu     sync.Mutex
	header http.Header
	body   []byte
}

func startFixedJWEServer(b *testing.B, jwe []byte) *fixedJWEServer {
	b.Helper()
	s := &fixedJWEServer{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the body failed", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		if s.header == nil {
			s.header = r.Header.Clone()
			s.body = body
		}
		s.mu.Unlock()

		h := w.Header()
		h.Set("Content-Type", "application/jose;charset=utf-8")
		h.Set("v-c-correlation-id", "0f6b3a52-8d3e-4c1b-9a57-2f1e4d9c7b60")
		h.Set("uniqueTransactionID", "9c1d6e2a-5b4f-4e8a-b3c7-1a2d3e4f5a6b")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(jwe)
	}))
	b.Cleanup(server.Close)
	s.url = server.URL
	return s
}

// firstRequest returns the headers and body of the first request the server received.
func (s *fixedJWEServer) firstRequest() (http.Header, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header, s.body
}

func newBenchClient(b *testing.B, url string, opts ...tokenapi.Option) *tokenapi.Client {
	b.Helper()
	client, err := tokenapi.New(append([]tokenapi.Option{tokenapi.WithBaseURL(url)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return client
}

// benchmarkCall measures GeneratePaymentCredentialsJWE: input checks, the generated
// request builder, authentication, one loopback round trip, the bounded read and the
// parse of the JWE header. The JWE is returned unopened.
func benchmarkCall(b *testing.B, auth tokenapi.Option, more ...tokenapi.Option) {
	server := startFixedJWEServer(b, readBenchJWE(b))
	client := newBenchClient(b, server.url, append([]tokenapi.Option{auth}, more...)...)
	ctx := context.Background()

	b.ReportAllocs()
	stop := startCPUClock(b)
	for b.Loop() {
		if _, err := client.GeneratePaymentCredentialsJWE(ctx, benchTokenID, &benchRequest); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}

// captureRequest makes one call with auth and returns the headers and body the server
// received, without the headers the transport adds itself (Accept-Encoding and
// Content-Length), which it adds again for a bare POST.
func captureRequest(b *testing.B, server *fixedJWEServer, auth tokenapi.Option) (http.Header, []byte) {
	b.Helper()
	client := newBenchClient(b, server.url, auth)
	if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), benchTokenID, &benchRequest); err != nil {
		b.Fatal(err)
	}
	header, body := server.firstRequest()
	for _, name := range []string{"Accept-Encoding", "Content-Length"} {
		header.Del(name)
	}
	return header, body
}

// benchmarkBarePOST is the floor of benchmarkCall: the request bytes of one call of the
// client (method, path, headers and body, from captureRequest) posted with net/http
// alone to the same kind of server, reading the whole response. It builds nothing and
// parses nothing. perCall, when not nil, runs once in each iteration, for the work a
// call cannot avoid besides the round trip, such as an RSA signature.
func benchmarkBarePOST(b *testing.B, server *fixedJWEServer, header http.Header, body []byte, perCall func()) {
	// The same transport settings as a Client without WithHTTPClient.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16
	bare := &http.Client{Transport: transport}
	url := server.url + "/tms/v2/tokens/" + benchTokenID + "/payment-credentials"

	b.ReportAllocs()
	stop := startCPUClock(b)
	for b.Loop() {
		if perCall != nil {
			perCall()
		}
		postBare(b, bare, url, header, body)
	}
	stop()
}

// postBare is one iteration of a floor: a POST of body with header to url through
// client, reading the whole response, which must be 201.
func postBare(b *testing.B, client *http.Client, url string, header http.Header, body []byte) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("status %d, want 201", resp.StatusCode)
	}
}

// httpSignatureOption authenticates with a made-up merchant and a 32-byte shared secret,
// the size CyberSource issues.
var httpSignatureOption = tokenapi.WithHTTPSignature("benchmark_merchant",
	"e3b0c442-98fc-4c14-9afb-f4c8996fb924", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32)))

func BenchmarkCallHTTPSignature(b *testing.B) { benchmarkCall(b, httpSignatureOption) }

// BenchmarkCallHTTPSignatureNoTimeout is BenchmarkCallHTTPSignature with WithTimeout(0).
// The floor has no timeout, so the difference between the two is the share of the
// per-attempt timeout in the gap between the call and its floor.
func BenchmarkCallHTTPSignatureNoTimeout(b *testing.B) {
	benchmarkCall(b, httpSignatureOption, tokenapi.WithTimeout(0))
}

func BenchmarkFloorBarePOST(b *testing.B) {
	server := startFixedJWEServer(b, readBenchJWE(b))
	header, body := captureRequest(b, server, httpSignatureOption)
	benchmarkBarePOST(b, server, header, body, nil)
}

// benchP12Merchant is the alias of testdata/fixturemerchant.p12, whose password is the
// alias too. Its key is RSA-2048, the size of the keys CyberSource issues.
const benchP12Merchant = "fixturemerchant"

// loadBenchP12 returns the fixture P12 file as the client loads it, and its private key
// as internal/p12 decodes it, for the floor.
func loadBenchP12(b *testing.B) (*tokenapi.P12, *rsa.PrivateKey) {
	b.Helper()
	data, err := os.ReadFile("testdata/fixturemerchant.p12")
	if err != nil {
		b.Fatal(err)
	}
	file, err := tokenapi.ParseP12(data, benchP12Merchant, "")
	if err != nil {
		b.Fatal(err)
	}
	contents, err := p12.Parse(data, benchP12Merchant, benchP12Merchant)
	if err != nil {
		b.Fatal(err)
	}
	return file, contents.Key
}

// BenchmarkCallJWT is BenchmarkCallHTTPSignature with JWT authentication, RS256 with the
// fixture P12 key: each call signs a new token with RSA-2048 PKCS#1 v1.5.
func BenchmarkCallJWT(b *testing.B) {
	file, _ := loadBenchP12(b)
	benchmarkCall(b, tokenapi.WithP12JWT(benchP12Merchant, file))
}

// BenchmarkFloorBarePOSTRS256 is the floor of BenchmarkCallJWT: the bare POST of the
// request bytes of one JWT call, plus one RSA-2048 PKCS#1 v1.5 signature over the SHA-256
// digest of that call's JWS signing input in each iteration.
func BenchmarkFloorBarePOSTRS256(b *testing.B) {
	server := startFixedJWEServer(b, readBenchJWE(b))
	file, key := loadBenchP12(b)
	header, body := captureRequest(b, server, tokenapi.WithP12JWT(benchP12Merchant, file))
	token, ok := strings.CutPrefix(header.Get("Authorization"), "Bearer ")
	lastDot := strings.LastIndexByte(token, '.')
	if !ok || lastDot < 0 {
		b.Fatalf("the JWT call sent no bearer JWS: Authorization is %d bytes", len(header.Get("Authorization")))
	}
	signingInput := []byte(token[:lastDot])

	benchmarkBarePOST(b, server, header, body, func() {
		digest := sha256.Sum256(signingInput)
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDecrypt opens the fixture JWE with a Decrypter and decodes the credentials.
func BenchmarkDecrypt(b *testing.B) {
	jwe := string(readBenchJWE(b))
	decrypter, err := tokenapi.NewDecrypter([]tokenapi.MLEKey{{Key: fixtureKey(b)}}, tokenapi.DecrypterOptions{})
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	for b.Loop() {
		if _, err := decrypter.Decrypt(jwe); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloorDecryptRaw is the floor of BenchmarkDecrypt: the RSA-OAEP-256 decryption
// of the same encrypted key and the AES-256-GCM open of the same ciphertext, with the
// parts decoded before the loop.
func BenchmarkFloorDecryptRaw(b *testing.B) {
	key := fixtureKey(b)
	parts := strings.Split(string(readBenchJWE(b)), ".")
	if len(parts) != 5 {
		b.Fatalf("the fixture has %d parts, want 5", len(parts))
	}
	decoded := make([][]byte, 5)
	for i, part := range parts {
		var err error
		if decoded[i], err = base64.RawURLEncoding.DecodeString(part); err != nil {
			b.Fatal(err)
		}
	}
	encryptedKey, iv, ciphertext, tag := decoded[1], decoded[2], decoded[3], decoded[4]
	sealed := append(append([]byte(nil), ciphertext...), tag...)
	additionalData := []byte(parts[0])
	plaintext := make([]byte, 0, len(ciphertext))

	b.ReportAllocs()
	for b.Loop() {
		cek, err := rsa.DecryptOAEP(sha256.New(), nil, key, encryptedKey, nil)
		if err != nil {
			b.Fatal(err)
		}
		block, err := aes.NewCipher(cek)
		if err != nil {
			b.Fatal(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := gcm.Open(plaintext[:0], iv, sealed, additionalData); err != nil {
			b.Fatal(err)
		}
	}
}
