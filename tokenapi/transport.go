package tokenapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/paycreds/tms/internal/httpsig"
)

// authenticator adds authentication headers to one attempt of a request. body is the
// request's bytes and now is read once per attempt. An authenticator that encrypts the
// body replaces req.Body and signs the bytes that replace it.
type authenticator interface {
	authenticate(req *http.Request, body []byte, now time.Time) error
}

// authTransport signs every attempt of every request: it clones the request, reads the
// body once, and hands the exact bytes and one clock reading to the authenticator. A
// retry or a redirect passes through RoundTrip again and is signed afresh.
type authTransport struct {
	base http.RoundTripper
	auth authenticator
	now  func() time.Time
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}

	signed := req.Clone(req.Context())
	signed.Body = io.NopCloser(bytes.NewReader(body))
	signed.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	signed.ContentLength = int64(len(body))
	if err := t.auth.authenticate(signed, body, t.now()); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(signed)
}

// CloseIdleConnections closes the idle connections of the wrapped transport, when it
// has a CloseIdleConnections method, so that http.Client.CloseIdleConnections reaches it.
func (t *authTransport) CloseIdleConnections() {
	if closer, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		closer.CloseIdleConnections()
	}
}

// readRequestBody returns the body bytes of req and closes req.Body, as a RoundTripper
// must.
func readRequestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	body, err := readAll(req.Body, max(req.ContentLength, 0)+1)
	if err != nil {
		return nil, fmt.Errorf("tokenapi: reading the request body to sign it: %w", err)
	}
	return body, nil
}

// httpSignatureAuth adds CyberSource HTTP Signature headers: v-c-merchant-id, date, host,
// digest and signature.
type httpSignatureAuth struct {
	merchantID string // sent in the v-c-merchant-id header
	signerID   string // on the signing string's v-c-merchant-id line: merchant or portfolio id
	signer     *httpsig.Signer
	dates      dateCache
}

func (a *httpSignatureAuth) authenticate(req *http.Request, body []byte, now time.Time) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	signed := httpsig.Request{
		Method:   req.Method,
		Host:     host,
		Target:   req.URL.RequestURI(),
		Date:     a.dates.format(now),
		SignerID: a.signerID,
	}
	if httpsig.HasBody(req.Method) {
		signed.Digest = httpsig.Digest(body)
	}

	req.Host = host
	setSignatureHeaders(req.Header, a.merchantID, signed.Date, signed.Digest, a.signer.SignatureHeader(signed))
	return nil
}

// noRedirects stops the http.Client at the first redirect. These operations are POSTs
// that mint credentials, so a redirect is reported, not followed.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
