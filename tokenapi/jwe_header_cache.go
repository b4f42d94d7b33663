package tokenapi

import (
	"strings"
	"sync/atomic"
)

// jweHeaderCache keeps the last protected header it decoded, keyed by its base64url text.
// CyberSource encrypts responses for one MLE key under the same protected header, so a
// series of calls decodes it once. The shape of every JWE is still checked. It is safe
// for concurrent use.
type jweHeaderCache struct {
	last atomic.Pointer[cachedJWEHeader]
}

type cachedJWEHeader struct {
	encoded string
	header  jweHeader
}

// parse does what parseCompactHeader does, decoding the protected header only when it
// differs from the last one decoded.
func (c *jweHeaderCache) parse(jwe string) (jweHeader, error) {
	protected, err := checkCompactJWE(jwe)
	if err != nil {
		return jweHeader{}, err
	}
	if last := c.last.Load(); last != nil && last.encoded == protected {
		return last.header, nil
	}
	header, err := decodeProtectedHeader(protected)
	if err != nil {
		return header, err
	}
	// The clone keeps the cache from holding the whole JWE in memory.
	c.last.Store(&cachedJWEHeader{encoded: strings.Clone(protected), header: header})
	return header, nil
}
