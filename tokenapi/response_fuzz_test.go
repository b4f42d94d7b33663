package tokenapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadResponse feeds a status, a Content-Type and a body to the code that turns a
// response into a JWE or an error, as a server or a proxy in front of CyberSource could
// send them. The error must be typed, its message a single line of valid UTF-8 without
// the whole token id, and the kept error body within its cap.
func FuzzReadResponse(f *testing.F) {
	f.Add(201, "application/jose;charset=utf-8", []byte(readFixture(f, "v2-visa-cryptogram.jwe")))
	f.Add(201, "application/jose", []byte(readFixture(f, "v3-visa-full.jwe")))
	f.Add(201, "application/json", []byte(`{"tokenizedCard":{}}`))
	f.Add(400, "application/json", []byte(`{"errors":[{"type":"invalidFields","message":"Invalid field","details":[{"name":"tokenId","location":"path"}]}]}`))
	f.Add(400, "application/json", []byte(`{"errors":[{"type":"invalidFields","message":"m","details":[{"name":"a\nb","location":"c\rd"}]}]}`))
	f.Add(401, "application/json", []byte(`{"response":{"rmsg":"Authentication Failed"}}`))
	f.Add(404, "application/json;charset=utf-8", []byte(`{"errors":[{"type":"notFound","message":"Token not found"}]}`))
	f.Add(409, "application/json", []byte(`{"reason":"conflict","message":"token linked"}`))
	f.Add(502, "text/html", []byte("<html><body>Bad gateway</body></html>"))
	f.Add(500, "application/json", []byte(`{"errors":[{"type":"internalEr`))
	f.Add(503, "", []byte{})
	f.Add(200, "application/jose", []byte("a.b.c.d.e"))

	const tokenID = "7030000000000011111"
	client := &Client{maxResponseBytes: 4096}
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return // net/http accepts only three-digit statuses
		}
		resp := &http.Response{
			StatusCode: status,
			Header:     http.Header{"Content-Type": {contentType}, "V-C-Correlation-Id": {contentType}},
			Body:       io.NopCloser(bytes.NewReader(body)),
		}
		encrypted, err := client.readResponse(context.Background(), "postTokenPaymentCredentials", tokenID, resp)
		if err == nil {
			if status != http.StatusCreated || encrypted == nil || strings.Count(encrypted.JWE, ".") != 4 {
				t.Fatalf("status %d accepted as %+v", status, encrypted)
			}
			return
		}
		if encrypted != nil {
			t.Error("a result returned with an error")
		}

		var apiErr *APIError
		var decryptErr *DecryptError
		switch {
		case errors.As(err, &apiErr):
			if apiErr.StatusCode != status || status == http.StatusCreated {
				t.Errorf("APIError status %d for a %d response", apiErr.StatusCode, status)
			}
			if len(apiErr.Body) > MaxErrorBodyBytes {
				t.Errorf("APIError keeps %d bytes of body, over MaxErrorBodyBytes", len(apiErr.Body))
			}
		case errors.As(err, &decryptErr), errors.Is(err, ErrResponseTooLarge):
			if status != http.StatusCreated {
				t.Errorf("status %d gave %v", status, err)
			}
		default:
			t.Fatalf("untyped error %T: %v", err, err)
		}

		message := err.Error()
		if !utf8.ValidString(message) || strings.ContainsAny(message, "\r\n\x00\x1b") {
			t.Errorf("the message is not one clean line of text: %q", message)
		}
		if strings.Contains(message, tokenID) {
			t.Errorf("the message repeats the whole token id: %q", message)
		}
	})
}
