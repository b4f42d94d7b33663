package tokenapi

import (
	"errors"
	"strings"
	"testing"
)

func TestJWEHeaderCacheMatchesUncachedParse(t *testing.T) {
	visa := strings.TrimSpace(readFixture(t, "v2-visa-cryptogram.jwe"))
	full := strings.TrimSpace(readFixture(t, "v3-visa-full.jwe"))
	legacy := strings.TrimSpace(readFixture(t, "rsa-oaep-a128gcm.jwe"))
	protected, _, _ := strings.Cut(visa, ".")
	inputs := []string{
		visa, visa, full, legacy, visa,
		"  " + visa + "\n",
		protected + ".a.b.c",          // four parts after a cached header
		protected + "..b.c.d",         // empty encrypted key, as the compact form allows
		protected + ".a.b.c.d=",       // padding
		protected + ".a..c.d",         // empty initialization vector
		"eyJhbGciOiJub25lIn0.a.b.c.d", // no enc
		"bm90IGpzb24.a.b.c.d",         // not JSON
		"",
	}
	var cache jweHeaderCache
	for i, jwe := range inputs {
		got, gotErr := cache.parse(jwe)
		want, wantErr := parseCompactHeader(jwe)
		if got.Algorithm != want.Algorithm || got.Encryption != want.Encryption || got.KeyID != want.KeyID {
			t.Errorf("input %d: cached header = %+v, want %+v", i, got, want)
		}
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("input %d: cached error = %v, want %v", i, gotErr, wantErr)
			continue
		}
		if gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("input %d: cached error = %q, want %q", i, gotErr, wantErr)
		}
	}
}

func TestJWEHeaderCacheSkipsFailedHeaders(t *testing.T) {
	var cache jweHeaderCache
	if _, err := cache.parse("eyJhbGciOiJub25lIn0.a.b.c.d"); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Fatalf("header without enc: error = %v, want ErrUnsupportedAlgorithm", err)
	}
	if last := cache.last.Load(); last != nil {
		t.Errorf("the cache kept the rejected header %q", last.encoded)
	}
}
