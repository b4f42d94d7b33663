package tokenapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

func TestReadLimitedAnySize(t *testing.T) {
	for _, length := range []int{0, 1, 511, 512, 513, 1152, 4096, 70000} {
		data := bytes.Repeat([]byte{'j'}, length)
		for _, size := range []int64{-1, 0, 1, int64(length), int64(length) + 1, 100000} {
			for _, buf := range [][]byte{nil, make([]byte, 3, 8), make([]byte, 0, 4096)} {
				got, truncated, err := readLimited(iotest.HalfReader(bytes.NewReader(data)), buf, 1<<20, size)
				if err != nil {
					t.Fatalf("length %d, size %d, buffer of %d: %v", length, size, cap(buf), err)
				}
				if truncated || !bytes.Equal(got, data) {
					t.Errorf("length %d, size %d, buffer of %d: read %d bytes (truncated %v), want %d", length, size, cap(buf), len(got), truncated, length)
				}
			}
		}
	}
}

func TestReadLimitedTruncates(t *testing.T) {
	data := bytes.Repeat([]byte{'j'}, 2000)
	for _, length := range []int{1023, 1024} {
		got, truncated, err := readLimited(iotest.OneByteReader(bytes.NewReader(data[:length])), nil, 1024, -1)
		if err != nil || truncated || len(got) != length {
			t.Errorf("%d bytes with a limit of 1024: read %d, truncated %v, error %v; want all, not truncated", length, len(got), truncated, err)
		}
	}
	got, truncated, err := readLimited(bytes.NewReader(data), nil, 1024, int64(len(data)))
	if err != nil || !truncated || len(got) != 1024 {
		t.Errorf("2000 bytes with a limit of 1024: read %d, truncated %v, error %v; want 1024, truncated", len(got), truncated, err)
	}
}

func TestReadLimitedExactSizeDoesNotGrow(t *testing.T) {
	data := bytes.Repeat([]byte{'j'}, 1152)
	got, _, err := readLimited(bytes.NewReader(data), nil, DefaultMaxResponseBytes, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if cap(got) != len(data)+1 {
		t.Errorf("capacity %d, want %d", cap(got), len(data)+1)
	}
}

func TestReadLimitedReusesBuffer(t *testing.T) {
	buf := make([]byte, 10, 4096)
	got, _, err := readLimited(bytes.NewReader([]byte("payload")), buf, DefaultMaxResponseBytes, 7)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "payload" || &got[0] != &buf[0] {
		t.Errorf("read %q into a new array, want %q read into the buffer passed in", got, "payload")
	}
}

func TestReadLimitedReturnsReadError(t *testing.T) {
	failure := errors.New("connection reset")
	got, _, err := readLimited(io.MultiReader(bytes.NewReader([]byte("partial")), iotest.ErrReader(failure)), nil, DefaultMaxResponseBytes, 0)
	if !errors.Is(err, failure) {
		t.Errorf("error = %v, want %v", err, failure)
	}
	if string(got) != "partial" {
		t.Errorf("read %q before the error, want %q", got, "partial")
	}
}

// TestResultsOutliveReadBuffer checks that what a call returns is copied out of the
// pooled buffer the body was read into: the JWE of a 201 and the body and message of an
// *APIError stay as they were while later calls reuse the buffers.
func TestResultsOutliveReadBuffer(t *testing.T) {
	jwe := strings.TrimSpace(readFixture(t, "v2-visa-cryptogram.jwe"))
	const errorBody = `{"errors":[{"type":"notFound","message":"Token not found"}]}`
	var calls atomic.Int64
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch calls.Add(1) % 3 {
		case 1:
			w.Header().Set("Content-Type", responseMediaType)
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, jwe)
		case 2:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, errorBody)
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write(bytes.Repeat([]byte{'x'}, len(jwe)))
		}
	}))
	defer server.Close()
	client, err := New(WithBaseURL(server.URL), WithHTTPSignature("m", "k", retryTestSecret))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	encrypted, err := client.GeneratePaymentCredentialsJWE(ctx, retryTestTokenID, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GeneratePaymentCredentialsJWE(ctx, retryTestTokenID, nil)
	apiErr, isAPIError := errors.AsType[*APIError](err)
	if !isAPIError {
		t.Fatalf("second call: error = %v, want an *APIError", err)
	}
	for range 5 {
		_, _ = client.GeneratePaymentCredentialsJWE(ctx, retryTestTokenID, nil)
	}

	if encrypted.JWE != jwe {
		t.Error("the JWE of the first call changed after later calls")
	}
	if string(apiErr.Body) != errorBody {
		t.Errorf("APIError.Body changed after later calls: %q", apiErr.Body)
	}
	if apiErr.Type != "notFound" || apiErr.Message != "Token not found" {
		t.Errorf("APIError type and message changed after later calls: %q, %q", apiErr.Type, apiErr.Message)
	}
}
