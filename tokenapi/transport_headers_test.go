package tokenapi

import (
	"net/http"
	"testing"
	"time"
)

func TestDateCacheFormatsEachSecond(t *testing.T) {
	var cache dateCache
	start := time.Date(2025, 1, 15, 10, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, offset := range []time.Duration{0, 400 * time.Millisecond, 999 * time.Millisecond, time.Second, 90 * time.Second, -time.Hour} {
		now := start.Add(offset)
		if got, want := cache.format(now), now.UTC().Format(http.TimeFormat); got != want {
			t.Errorf("format(%v) = %q, want %q", now, got, want)
		}
	}
}

func TestSignatureHeadersMatchHeaderSet(t *testing.T) {
	got := http.Header{}
	setSignatureHeaders(got, "merchant", "Wed, 15 Jan 2025 10:30:00 GMT", "SHA-256=abc", `keyid="k"`)
	want := http.Header{}
	want.Set("v-c-merchant-id", "merchant")
	want.Set("date", "Wed, 15 Jan 2025 10:30:00 GMT")
	want.Set("digest", "SHA-256=abc")
	want.Set("signature", `keyid="k"`)
	for name, values := range want {
		if len(got[name]) != 1 || got[name][0] != values[0] {
			t.Errorf("header %s = %q, want %q", name, got[name], values)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d headers, want %d: %v", len(got), len(want), got)
	}

	got.Add("Date", "second")
	if merchant := got.Get("v-c-merchant-id"); merchant != "merchant" {
		t.Errorf("appending a date changed v-c-merchant-id to %q", merchant)
	}
}

func TestSignatureHeadersWithoutDigest(t *testing.T) {
	h := http.Header{}
	setSignatureHeaders(h, "merchant", "date", "", "signature")
	if _, ok := h["Digest"]; ok {
		t.Errorf("digest header set for an empty digest: %q", h["Digest"])
	}
}
