package spec_test

import (
	"net/http"
	"testing"

	"github.com/paycreds/tms/internal/spec"
)

func TestValidatingCacheMatchesSpec(t *testing.T) {
	s := loadSpec(t)
	cache := spec.NewValidatingCache(s, 2)
	valid := `{"paymentCredentialType":"CRYPTOGRAM"}`
	withProfile := func(id string) *http.Request {
		r := newRequest(v2Path, declaredJSON, valid)
		r.Header.Set("profile-id", id)
		return r
	}
	cases := []struct {
		name string
		req  *http.Request
		body string
	}{
		{"valid", newRequest(v2Path, declaredJSON, valid), valid},
		{"valid again", newRequest(v2Path, declaredJSON, valid), valid},
		{"invalid enum after a pass", newRequest(v2Path, declaredJSON, `{"paymentCredentialType":"PAN"}`), `{"paymentCredentialType":"PAN"}`},
		{"same body, other content type", newRequest(v2Path, "text/plain", valid), valid},
		{"valid profile id", withProfile(profileID), valid},
		{"invalid profile id after a valid one", withProfile("short"), valid},
		{"v3 path", newRequest(v3Path, declaredJSON, valid), valid},
		{"valid once the cache was emptied", newRequest(v2Path, declaredJSON, valid), valid},
		{"unknown path", newRequest("/tms/v2/other", declaredJSON, valid), valid},
	}
	for _, c := range cases {
		got := cache.ValidateRequest(c.req, []byte(c.body))
		want := s.ValidateRequest(c.req, []byte(c.body))
		if (got == nil) != (want == nil) {
			t.Errorf("%s: cached error = %v, want %v", c.name, got, want)
			continue
		}
		if got != nil && got.Error() != want.Error() {
			t.Errorf("%s: cached error = %q, want %q", c.name, got, want)
		}
	}
}

// BenchmarkValidateRequest measures the kin-openapi validation of one v2 request.
func BenchmarkValidateRequest(b *testing.B) {
	s, err := spec.Load()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkValidate(b, s.ValidateRequest)
}

// BenchmarkValidateRequestCached measures the same request through a ValidatingCache
// that has seen it.
func BenchmarkValidateRequestCached(b *testing.B) {
	s, err := spec.Load()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkValidate(b, spec.NewValidatingCache(s, 1024).ValidateRequest)
}

func benchmarkValidate(b *testing.B, validate func(*http.Request, []byte) error) {
	body := []byte(`{"paymentCredentialType":"CRYPTOGRAM","transactionType":"ECOM"}`)
	req := newRequest(v2Path, declaredJSON, string(body))
	req.Header.Set("profile-id", profileID)
	b.ReportAllocs()
	for b.Loop() {
		if err := validate(req, body); err != nil {
			b.Fatal(err)
		}
	}
}
