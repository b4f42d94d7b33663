package tokenapi

import (
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

// authSender signs each attempt of a request and sends it with client. It signs the
// request in place, just before client.Do, over the path and body that client sends.
// The client follows no redirects, so net/http sends a signed request once, or again
// unchanged when a reused connection failed before any byte of it was written.
type authSender struct {
	client *http.Client
	auth   authenticator
	now    func() time.Time
}

// send authenticates req over body, the exact bytes of req.Body, with one clock reading,
// and sends it. req must be built for this attempt alone, because authentication sets
// its headers and may replace its body.
func (s *authSender) send(req *http.Request, body []byte) (*http.Response, error) {
	if err := s.auth.authenticate(req, body, s.now()); err != nil {
		return nil, err
	}
	return s.client.Do(req)
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
