package spec

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// ValidatingCache validates requests with a Spec and remembers which requests passed, so
// that a load test that repeats one request validates it once. It is safe for
// concurrent use.
//
// A request is remembered by the SHA-256 of every input the validation reads: the
// method, the escaped path, the query, the Content-Type, the values of the header
// parameters the operation declares, and the body. Only passes are remembered, so every
// invalid request is validated in full and gets its full list of problems.
type ValidatingCache struct {
	spec       *Spec
	maxEntries int

	mu     sync.RWMutex
	passed map[[sha256.Size]byte]struct{}
}

// NewValidatingCache returns a cache of at most maxEntries passed requests. When it is
// full it starts again empty.
func NewValidatingCache(s *Spec, maxEntries int) *ValidatingCache {
	return &ValidatingCache{spec: s, maxEntries: max(maxEntries, 1), passed: map[[sha256.Size]byte]struct{}{}}
}

// ValidateRequest returns what Spec.ValidateRequest returns for r and body.
func (c *ValidatingCache) ValidateRequest(r *http.Request, body []byte) error {
	key, ok := c.key(r, body)
	if ok {
		c.mu.RLock()
		_, passed := c.passed[key]
		c.mu.RUnlock()
		if passed {
			return nil
		}
	}

	if err := c.spec.ValidateRequest(r, body); err != nil {
		return err
	}
	if ok {
		c.mu.Lock()
		if len(c.passed) >= c.maxEntries {
			clear(c.passed)
		}
		c.passed[key] = struct{}{}
		c.mu.Unlock()
	}
	return nil
}

// key returns the cache key of r and body, and false when the request cannot be cached:
// it matches no operation, or the operation declares cookie parameters.
func (c *ValidatingCache) key(r *http.Request, body []byte) ([sha256.Size]byte, bool) {
	_, route, err := c.spec.findRoute(r)
	if err != nil {
		return [sha256.Size]byte{}, false
	}

	h := sha256.New()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	write(r.Method)
	write(r.URL.EscapedPath())
	write(r.URL.RawQuery)
	write(strings.Join(r.Header.Values("Content-Type"), "\x00"))

	for _, parameters := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, ref := range parameters {
			p := ref.Value
			switch p.In {
			case openapi3.ParameterInCookie:
				return [sha256.Size]byte{}, false
			case openapi3.ParameterInHeader:
				write(p.Name)
				write(strings.Join(r.Header.Values(p.Name), "\x00"))
			}
		}
	}
	h.Write(body)

	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key, true
}
