package tokenapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paycreds/tms/internal/httpsig"
)

// signatureVector is one entry of testdata/http-signature.json, recorded from the
// official CyberSource Node SDK (cybersource-rest-client 0.0.83) with its clock pinned.
type signatureVector struct {
	Name                  string `json:"name"`
	Host                  string `json:"host"`
	Path                  string `json:"path"`
	Date                  string `json:"date"`
	Body                  string `json:"body"`
	MerchantID            string `json:"merchantId"`
	MerchantIDInSignature string `json:"merchantIdInSignature"`
	KeyID                 string `json:"keyId"`
	Secret                string `json:"secret"`
	Expected              struct {
		Digest    string      `json:"digest"`
		Signature string      `json:"signature"`
		Headers   [][2]string `json:"headers_in_wire_order"`
	} `json:"expected"`
}

func (v signatureVector) header(name string) string {
	for _, h := range v.Expected.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func loadSignatureVectors(t testing.TB) []signatureVector {
	t.Helper()
	data, err := os.ReadFile("testdata/http-signature.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []signatureVector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	return file.Vectors
}

// withClock replaces the clock the sender reads once per attempt.
func withClock(now func() time.Time) Option {
	return func(s *settings) error {
		s.now = now
		return nil
	}
}

// receivedRequest is what the loopback server saw.
type receivedRequest struct {
	host, requestURI string
	header           http.Header
	body             []byte
}

// impersonatingServer is a TLS server on 127.0.0.1 with a certificate for the real API
// host names. Its client dials the loopback listener whatever address it is asked for, so
// requests carry the real host name on the wire but never leave the machine.
type impersonatingServer struct {
	server *httptest.Server
	client *http.Client

	mu       sync.Mutex
	received []receivedRequest
	respond  func(w http.ResponseWriter, r *http.Request)
}

func newImpersonatingServer(t *testing.T, hosts ...string) *impersonatingServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certificate, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}

	jwe := readFixture(t, "v2-visa-cryptogram.jwe")
	s := &impersonatingServer{}
	s.server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.received = append(s.received, receivedRequest{host: r.Host, requestURI: r.RequestURI, header: r.Header.Clone(), body: body})
		respond := s.respond
		s.mu.Unlock()
		if respond != nil {
			respond(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jose;charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, jwe)
	}))
	s.server.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.server.StartTLS()
	t.Cleanup(s.server.Close)

	roots := x509.NewCertPool()
	roots.AddCert(certificate)
	loopback := s.server.Listener.Addr().String()
	s.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, loopback)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}
	return s
}

func (s *impersonatingServer) requests() []receivedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedRequest(nil), s.received...)
}

func pinnedClock(t *testing.T, date string) func() time.Time {
	t.Helper()
	at, err := http.ParseTime(date)
	if err != nil {
		t.Fatal(err)
	}
	return func() time.Time { return at }
}

// assertVectorHeaders compares what the server received with the SDK's headers, byte for
// byte.
func assertVectorHeaders(t *testing.T, v signatureVector, got receivedRequest) {
	t.Helper()
	if got.host != v.Host {
		t.Errorf("host = %q, want %q", got.host, v.Host)
	}
	if got.requestURI != v.Path {
		t.Errorf("request URI = %q, want %q", got.requestURI, v.Path)
	}
	if string(got.body) != v.Body {
		t.Errorf("body = %s, want %s", got.body, v.Body)
	}
	for _, name := range []string{"digest", "signature", "date", "v-c-merchant-id"} {
		if g, w := got.header.Get(name), v.header(name); g != w {
			t.Errorf("%s header =\n%q\nwant\n%q", name, g, w)
		}
	}
	if got.header.Get("signature") != v.Expected.Signature || got.header.Get("digest") != v.Expected.Digest {
		t.Error("signature or digest differs from the vector's expected values")
	}
}

// TestTransportReproducesSDKVectors sends each vector's exact body through the sender
// that signs each attempt, over TLS on loopback to a server holding a certificate for the vector's
// host, with the clock pinned to the vector's date.
func TestTransportReproducesSDKVectors(t *testing.T) {
	for _, v := range loadSignatureVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			server := newImpersonatingServer(t, v.Host)
			secret, err := httpsig.DecodeSecret(v.Secret)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := httpsig.NewSigner(v.KeyID, secret)
			if err != nil {
				t.Fatal(err)
			}
			sender := authSender{
				client: newHTTPClient(server.client),
				auth:   &httpSignatureAuth{merchantID: v.MerchantID, signerID: v.MerchantIDInSignature, signer: signer},
				now:    pinnedClock(t, v.Date),
			}

			req, err := http.NewRequest(http.MethodPost, "https://"+v.Host+v.Path, strings.NewReader(v.Body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := sender.send(req, []byte(v.Body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()

			received := server.requests()
			if len(received) != 1 {
				t.Fatalf("server received %d requests, want 1", len(received))
			}
			assertVectorHeaders(t, v, received[0])
		})
	}
}

// TestClientReproducesSDKVectors goes through the whole Client for the vectors whose body
// is what the generated client encodes for the same request.
func TestClientReproducesSDKVectors(t *testing.T) {
	reproduced := 0
	for _, v := range loadSignatureVectors(t) {
		var request PaymentCredentialsRequest
		if err := json.Unmarshal([]byte(v.Body), &request); err != nil {
			t.Fatal(err)
		}
		encoded, _ := json.Marshal(request)
		if !bytes.Equal(encoded, []byte(v.Body)) {
			continue // a body with fields or an order the typed request does not produce
		}
		reproduced++
		t.Run(v.Name, func(t *testing.T) {
			server := newImpersonatingServer(t, v.Host)
			env := Sandbox
			if v.Host == Production.Host() {
				env = Production
			}
			opts := []Option{
				WithEnvironment(env),
				WithHTTPSignature(v.MerchantID, v.KeyID, v.Secret),
				WithHTTPClient(server.client),
				withClock(pinnedClock(t, v.Date)),
			}
			if v.MerchantIDInSignature != v.MerchantID {
				opts = append(opts, WithMetaKey(v.MerchantIDInSignature))
			}
			client, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			tokenID := strings.TrimSuffix(strings.TrimPrefix(v.Path, "/tms/v2/tokens/"), "/payment-credentials")
			_, err = client.GeneratePaymentCredentialsJWE(context.Background(), tokenID, &request, WithProfileID(v.header("profile-id")))
			if err != nil {
				t.Fatal(err)
			}

			received := server.requests()
			if len(received) != 1 {
				t.Fatalf("server received %d requests, want 1", len(received))
			}
			assertVectorHeaders(t, v, received[0])
			for name, want := range map[string]string{
				"Content-Type": "application/json;charset=utf-8",
				"Accept":       "application/jose;charset=utf-8",
				"profile-id":   v.header("profile-id"),
			} {
				if got := received[0].header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
	if reproduced < 3 {
		t.Errorf("only %d vectors went through the Client; expected the basic, empty-body and meta-key ones at least", reproduced)
	}
}

// TestEachCallSignedAfresh makes two calls for one token and one for another, a second
// apart, and checks that each carries its own date and signature and verifies.
func TestEachCallSignedAfresh(t *testing.T) {
	server := newImpersonatingServer(t, Sandbox.Host())
	const secret = "s5YCAlXANW1p+Z0fIK+ZYd0KDkHsbWT1nhIOlMD51kI="
	clock := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	client, err := New(WithEnvironment(Sandbox), WithHTTPSignature("testmerchant", "key-1", secret),
		WithHTTPClient(server.client), withClock(tick))
	if err != nil {
		t.Fatal(err)
	}
	for _, tokenID := range []string{"7030000000012345678", "7030000000012345678", "F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6"} {
		if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), tokenID, nil); err != nil {
			t.Fatal(err)
		}
	}

	received := server.requests()
	if len(received) != 3 {
		t.Fatalf("server received %d requests, want 3", len(received))
	}
	key, _ := httpsig.DecodeSecret(secret)
	seen := map[string]bool{}
	for i, r := range received {
		params, err := httpsig.ParseSignatureHeader(r.header.Get("signature"))
		if err != nil {
			t.Fatal(err)
		}
		signingString := httpsig.SigningString(httpsig.Request{
			Method: "POST", Host: r.host, Target: r.requestURI, Date: r.header.Get("date"),
			Digest: httpsig.Digest(r.body), SignerID: "testmerchant",
		})
		if !httpsig.Verify(key, signingString, params.Signature) {
			t.Errorf("request %d: signature does not verify over what was received", i)
		}
		if r.header.Get("digest") != httpsig.Digest(r.body) {
			t.Errorf("request %d: digest does not match the body", i)
		}
		if seen[params.Signature] || seen[r.header.Get("date")] {
			t.Errorf("request %d reuses a signature or date of an earlier request", i)
		}
		seen[params.Signature] = true
		seen[r.header.Get("date")] = true
	}
	if received[2].requestURI != "/tms/v2/tokens/F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6/payment-credentials" {
		t.Errorf("third request went to %s", received[2].requestURI)
	}
}

// TestTransportSignsEscapedPath sends a token id with reserved characters through the
// generated builder, bypassing the Client's input check, and verifies that the escaped
// path as sent is what was signed.
func TestTransportSignsEscapedPath(t *testing.T) {
	server := newImpersonatingServer(t, Sandbox.Host())
	const secret = "s5YCAlXANW1p+Z0fIK+ZYd0KDkHsbWT1nhIOlMD51kI="
	client, err := New(WithEnvironment(Sandbox), WithHTTPSignature("testmerchant", "key-1", secret), WithHTTPClient(server.client))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.send(context.Background(), v2, "a b/c", &PaymentCredentialsRequest{}, callSettings{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	received := server.requests()[0]
	if received.requestURI != "/tms/v2/tokens/a%20b%2Fc/payment-credentials" {
		t.Fatalf("request URI = %q", received.requestURI)
	}
	key, _ := httpsig.DecodeSecret(secret)
	params, _ := httpsig.ParseSignatureHeader(received.header.Get("signature"))
	signingString := httpsig.SigningString(httpsig.Request{
		Method: "POST", Host: received.host, Target: received.requestURI, Date: received.header.Get("date"),
		Digest: httpsig.Digest(received.body), SignerID: "testmerchant",
	})
	if !httpsig.Verify(key, signingString, params.Signature) {
		t.Error("the signature does not cover the escaped path as sent")
	}
}
