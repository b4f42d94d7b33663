package httpsig

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// vector is one entry of testdata/http-signature.json, recorded from the official
// CyberSource Node SDK (cybersource-rest-client 0.0.83) with its clock pinned.
type vector struct {
	Name                  string `json:"name"`
	Method                string `json:"method"`
	Host                  string `json:"host"`
	Path                  string `json:"path"`
	Date                  string `json:"date"`
	Body                  string `json:"body"`
	MerchantID            string `json:"merchantId"`
	MerchantIDInSignature string `json:"merchantIdInSignature"`
	KeyID                 string `json:"keyId"`
	Secret                string `json:"secret"`
	Expected              struct {
		Digest         string      `json:"digest"`
		Signature      string      `json:"signature"`
		SignatureValue string      `json:"signature_value"`
		SigningString  string      `json:"signing_string"`
		Headers        [][2]string `json:"headers_in_wire_order"`
	} `json:"expected"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/http-signature.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) < 5 {
		t.Fatalf("loaded %d vectors, expected at least 5", len(file.Vectors))
	}
	return file.Vectors
}

func TestNodeSDKVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			secret, err := DecodeSecret(v.Secret)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := NewSigner(v.KeyID, secret)
			if err != nil {
				t.Fatal(err)
			}
			req := Request{
				Method:   v.Method,
				Host:     v.Host,
				Target:   v.Path,
				Date:     v.Date,
				Digest:   Digest([]byte(v.Body)),
				SignerID: v.MerchantIDInSignature,
			}

			if req.Digest != v.Expected.Digest {
				t.Errorf("digest = %q, want %q", req.Digest, v.Expected.Digest)
			}
			if got := SigningString(req); got != v.Expected.SigningString {
				t.Errorf("signing string =\n%s\nwant\n%s", got, v.Expected.SigningString)
			}
			if got := signer.Signature(req); got != v.Expected.SignatureValue {
				t.Errorf("signature = %q, want %q", got, v.Expected.SignatureValue)
			}
			if got := signer.SignatureHeader(req); got != v.Expected.Signature {
				t.Errorf("signature header =\n%s\nwant\n%s", got, v.Expected.Signature)
			}
		})
	}
}

func TestVerifyAcceptsVectorsAndRejectsChanges(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			secret, err := DecodeSecret(v.Secret)
			if err != nil {
				t.Fatal(err)
			}
			params, err := ParseSignatureHeader(v.Expected.Signature)
			if err != nil {
				t.Fatal(err)
			}
			if params.KeyID != v.KeyID || params.Algorithm != Algorithm {
				t.Errorf("parsed keyid %q algorithm %q, want %q %q", params.KeyID, params.Algorithm, v.KeyID, Algorithm)
			}
			values := map[string]string{
				"host":            v.Host,
				"date":            v.Date,
				"request-target":  "post " + v.Path,
				"digest":          v.Expected.Digest,
				"v-c-merchant-id": v.MerchantIDInSignature,
			}
			signingString, err := BuildSigningString(params.Headers, func(name string) (string, bool) {
				value, ok := values[name]
				return value, ok
			})
			if err != nil {
				t.Fatal(err)
			}
			if signingString != v.Expected.SigningString {
				t.Errorf("rebuilt signing string differs:\n%s", signingString)
			}
			if !Verify(secret, signingString, params.Signature) {
				t.Error("Verify rejected the SDK's signature")
			}
			if Verify(secret, signingString+"x", params.Signature) {
				t.Error("Verify accepted a changed signing string")
			}
			wrongSecret := append([]byte(nil), secret...)
			wrongSecret[0] ^= 1
			if Verify(wrongSecret, signingString, params.Signature) {
				t.Error("Verify accepted a different secret")
			}
		})
	}
}

func TestSigningStringWithoutBody(t *testing.T) {
	got := SigningString(Request{Method: "GET", Host: "h", Target: "/x?y=1", Date: "d", Digest: "ignored", SignerID: "m"})
	want := "host: h\ndate: d\nrequest-target: get /x?y=1\nv-c-merchant-id: m"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	signer, err := NewSigner("k", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	header := signer.SignatureHeader(Request{Method: "DELETE", Host: "h", Target: "/x", Date: "d", SignerID: "m"})
	if !strings.Contains(header, `headers="host date request-target v-c-merchant-id"`) {
		t.Errorf("DELETE signature header lists the wrong headers: %s", header)
	}
}

func TestDecodeSecretRejectsBadInput(t *testing.T) {
	for _, secret := range []string{"", "not base64!", "abc"} {
		if _, err := DecodeSecret(secret); err == nil {
			t.Errorf("DecodeSecret(%q) succeeded", secret)
		}
	}
}

func TestParseSignatureHeaderRejectsMalformed(t *testing.T) {
	cases := map[string]string{
		"empty":             ``,
		"no value":          `keyid`,
		"unquoted":          `keyid=abc, algorithm="HmacSHA256", headers="host", signature="x"`,
		"unterminated":      `keyid="abc, algorithm="HmacSHA256"`,
		"missing signature": `keyid="k", algorithm="HmacSHA256", headers="host date"`,
		"repeated":          `keyid="k", keyid="k", algorithm="HmacSHA256", headers="host", signature="x"`,
		"unknown parameter": `keyid="k", algorithm="HmacSHA256", headers="host", signature="x", extra="y"`,
		"empty key id":      `keyid="", algorithm="HmacSHA256", headers="host", signature="x"`,
		"empty headers":     `keyid="k", algorithm="HmacSHA256", headers="", signature="x"`,
		"junk after value":  `keyid="k" junk, algorithm="HmacSHA256", headers="host", signature="x"`,
		"too long":          `keyid="` + strings.Repeat("k", 5000) + `", algorithm="HmacSHA256", headers="host", signature="x"`,
	}
	for name, header := range cases {
		if _, err := ParseSignatureHeader(header); err == nil {
			t.Errorf("%s: ParseSignatureHeader(%.60q) succeeded", name, header)
		}
	}
}

func TestBuildSigningStringMissingHeader(t *testing.T) {
	_, err := BuildSigningString([]string{"host", "digest"}, func(name string) (string, bool) {
		return "h", name == "host"
	})
	if err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("error = %v, want one naming digest", err)
	}
}

func FuzzParseSignatureHeader(f *testing.F) {
	f.Add(`keyid="e3b0c442-98fc-4c14-9afb-f4c8996fb924", algorithm="HmacSHA256", headers="host date request-target digest v-c-merchant-id", signature="8pzKxF+L6JpeNOr2haF0lSk1gncCV+F9ZvKed1/2/GE="`)
	f.Add(`keyid="k",algorithm="x",headers="a",signature=""`)
	f.Add(`keyid="`)
	f.Fuzz(func(t *testing.T, header string) {
		params, err := ParseSignatureHeader(header)
		if err != nil {
			return
		}
		if params.KeyID == "" || len(params.Headers) == 0 {
			t.Errorf("accepted a header with an empty key id or header list: %q", header)
		}
		// A parsed header formats back to a header that parses to the same values.
		again, err := ParseSignatureHeader(FormatSignatureHeader(params.KeyID, params.Headers, params.Signature))
		if err != nil {
			return
		}
		if again.KeyID != params.KeyID || again.Signature != params.Signature || strings.Join(again.Headers, " ") != strings.Join(params.Headers, " ") {
			t.Errorf("round trip changed %+v to %+v", params, again)
		}
	})
}

func BenchmarkSignatureHeader(b *testing.B) {
	signer, err := NewSigner("e3b0c442-98fc-4c14-9afb-f4c8996fb924", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"paymentCredentialType":"CRYPTOGRAM","transactionType":"ECOM"}`)
	b.ReportAllocs()
	for b.Loop() {
		req := Request{
			Method: "POST", Host: "apitest.cybersource.com",
			Target:   "/tms/v2/tokens/7030000000012345678/payment-credentials",
			Date:     "Wed, 15 Jan 2025 10:30:00 GMT",
			Digest:   Digest(body),
			SignerID: "testmerchant",
		}
		_ = signer.SignatureHeader(req)
	}
}
