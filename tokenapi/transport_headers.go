package tokenapi

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Canonical forms of the HTTP Signature header names, so that setting them skips
// http.CanonicalHeaderKey, which allocates for names written in lower case.
const (
	canonicalMerchantID = "V-C-Merchant-Id"
	canonicalDate       = "Date"
	canonicalDigest     = "Digest"
	canonicalSignature  = "Signature"
)

// Canonical forms of the other header names a call sets or reads. Get and Set accept any
// case, but canonicalize it first, which allocates unless it is canonical already.
const (
	canonicalAccept              = "Accept"
	canonicalUserAgent           = "User-Agent"
	canonicalCorrelationID       = "V-C-Correlation-Id"
	canonicalUniqueTransactionID = "Uniquetransactionid"
)

// setCallHeaders sets Accept, User-Agent and, when correlationID is not empty,
// v-c-correlation-id on h. Like setSignatureHeaders, it uses one backing array.
func setCallHeaders(h http.Header, correlationID string) {
	values := []string{responseMediaType, userAgent, correlationID}
	h[canonicalAccept] = values[0:1:1]
	h[canonicalUserAgent] = values[1:2:2]
	if correlationID != "" {
		h[canonicalCorrelationID] = values[2:3:3]
	}
}

// setSignatureHeaders sets the headers of HTTP Signature on h, leaving out the digest when
// it is empty. The values share one backing array, and each slice is capped at length
// one, so an append to one header's values copies them instead of writing over the next.
func setSignatureHeaders(h http.Header, merchantID, date, digest, signature string) {
	values := []string{merchantID, date, signature, digest}
	h[canonicalMerchantID] = values[0:1:1]
	h[canonicalDate] = values[1:2:2]
	h[canonicalSignature] = values[2:3:3]
	if digest != "" {
		h[canonicalDigest] = values[3:4:4]
	}
}

// dateCache formats times as IMF-fixdate (http.TimeFormat) and keeps the last result, so
// that the calls within one second format the date once. It is safe for concurrent use.
type dateCache struct {
	last atomic.Pointer[formattedDate]
}

type formattedDate struct {
	unixSecond int64
	text       string
}

func (c *dateCache) format(t time.Time) string {
	second := t.Unix()
	if last := c.last.Load(); last != nil && last.unixSecond == second {
		return last.text
	}
	text := t.UTC().Format(http.TimeFormat)
	c.last.Store(&formattedDate{unixSecond: second, text: text})
	return text
}
