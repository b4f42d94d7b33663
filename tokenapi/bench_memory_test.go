package tokenapi_test

// A call benchmark without a network: the same call as BenchmarkCallHTTPSignature, but
// through an http.RoundTripper that responds from memory, beside the same floor. Without
// the system calls and the server's goroutines, which make up most of a loopback round
// trip, the difference between the two is the client's own work. Compare their
// cpu-ns/op, which does not count time spent waiting for a core and so moves less with
// the load of a shared machine.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/paycreds/tms/tokenapi"
)

// memoryTransport responds to every request with 201, the pre-made JWE and the headers of
// fixedJWEServer, after reading and closing the request body as a transport must. It
// keeps the first request it receives.
type memoryTransport struct {
	jwe []byte

	mu     sync.Mutex
	header http.Header
	body   []byte
}

func (t *memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	if t.header == nil {
		t.header = req.Header.Clone()
		t.body = body
	}
	t.mu.Unlock()

	header := http.Header{
		"Content-Type":        {"application/jose;charset=utf-8"},
		"Content-Length":      {strconv.Itoa(len(t.jwe))},
		"V-C-Correlation-Id":  {"0f6b3a52-8d3e-4c1b-9a57-2f1e4d9c7b60"},
		"Uniquetransactionid": {"9c1d6e2a-5b4f-4e8a-b3c7-1a2d3e4f5a6b"},
	}
	return &http.Response{
		Status:        "201 Created",
		StatusCode:    http.StatusCreated,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(t.jwe)),
		ContentLength: int64(len(t.jwe)),
		Request:       req,
	}, nil
}

// memoryBaseURL is never dialed, because memoryTransport responds instead.
const memoryBaseURL = "http://127.0.0.1:9"

// BenchmarkCallInMemory is BenchmarkCallHTTPSignature through memoryTransport.
func BenchmarkCallInMemory(b *testing.B) {
	transport := &memoryTransport{jwe: readBenchJWE(b)}
	client, err := tokenapi.New(tokenapi.WithBaseURL(memoryBaseURL), httpSignatureOption,
		tokenapi.WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		b.Fatal(err)
	}
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

// BenchmarkFloorInMemory is the floor of BenchmarkCallInMemory: the request bytes of one
// call of the client posted with http.Client alone through memoryTransport, reading the
// whole response.
func BenchmarkFloorInMemory(b *testing.B) {
	transport := &memoryTransport{jwe: readBenchJWE(b)}
	client, err := tokenapi.New(tokenapi.WithBaseURL(memoryBaseURL), httpSignatureOption,
		tokenapi.WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.GeneratePaymentCredentialsJWE(context.Background(), benchTokenID, &benchRequest); err != nil {
		b.Fatal(err)
	}
	transport.mu.Lock()
	header, body := transport.header, transport.body
	transport.mu.Unlock()

	bare := &http.Client{Transport: transport}
	url := memoryBaseURL + "/tms/v2/tokens/" + benchTokenID + "/payment-credentials"

	b.ReportAllocs()
	stop := startCPUClock(b)
	for b.Loop() {
		postBare(b, bare, url, header, body)
	}
	stop()
}
