package p12

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"software.sslmate.com/src/go-pkcs12"
)

// fixtureContents returns the key and certificates of fixturemerchant.p12, which OpenSSL
// wrote, to encode again.
func fixtureContents(t *testing.T) *Contents {
	t.Helper()
	contents, err := Parse(readFile(t, "fixturemerchant.p12"), "fixturemerchant", "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}
	return contents
}

func TestEncodeRoundTrip(t *testing.T) {
	fixture := fixtureContents(t)
	data, err := Encode(fixture.Key, fixture.Certificate, fixture.CyberSourceCertificate, "a password")
	if err != nil {
		t.Fatal(err)
	}

	contents, err := Parse(data, "fixturemerchant", "a password")
	if err != nil {
		t.Fatalf("Parse of the encoded file: %v", err)
	}
	if !contents.Key.Equal(fixture.Key) {
		t.Error("the decoded key is not the encoded one")
	}
	if !contents.Certificate.Equal(fixture.Certificate) || contents.KeyID != "7400000000000000000001" {
		t.Errorf("certificate %q kid %q, want the fixture's", contents.Certificate.Subject, contents.KeyID)
	}
	if contents.CyberSourceCertificate == nil || !contents.CyberSourceCertificate.Equal(fixture.CyberSourceCertificate) {
		t.Errorf("CyberSourceCertificate = %v, want the fixture's", contents.CyberSourceCertificate)
	}

	// go-pkcs12 checks the MAC and decrypts the key independently of Parse's choices.
	key, leaf, others, err := pkcs12.DecodeChain(data, "a password")
	if err != nil {
		t.Fatalf("go-pkcs12: %v", err)
	}
	if key == nil || !leaf.Equal(fixture.Certificate) || len(others) != 1 {
		t.Errorf("go-pkcs12 decoded leaf %q and %d other certificates, want the merchant's and 1", leaf.Subject, len(others))
	}

	if _, err := Parse(data, "fixturemerchant", "wrong password"); !errors.Is(err, ErrPassword) {
		t.Errorf("Parse with a wrong password: error = %v, want ErrPassword", err)
	}
}

func TestEncodeWithoutCyberSourceCertificate(t *testing.T) {
	fixture := fixtureContents(t)
	data, err := Encode(fixture.Key, fixture.Certificate, nil, "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}
	contents, err := Parse(data, "fixturemerchant", "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}
	if contents.CyberSourceCertificate != nil || len(contents.Certificates) != 1 {
		t.Errorf("the file contains %d certificates and CyberSourceCertificate %v, want only the merchant's", len(contents.Certificates), contents.CyberSourceCertificate)
	}
}

// The official Node SDK selects the merchant certificate by a friendlyName that contains
// "cn=<merchant id>", as CyberSource's files have it.
func TestEncodeWritesFriendlyNames(t *testing.T) {
	fixture := fixtureContents(t)
	data, err := Encode(fixture.Key, fixture.Certificate, fixture.CyberSourceCertificate, "fixturemerchant")
	if err != nil {
		t.Fatal(err)
	}

	names := friendlyNames(t, data)
	want := map[string]string{
		"fixturemerchant":    "serialNumber=7400000000000000000001,CN=fixturemerchant",
		"CyberSource_SJC_US": "CyberSource_SJC_US",
		"key":                "serialNumber=7400000000000000000001,CN=fixturemerchant",
	}
	if len(names) != len(want) {
		t.Errorf("friendlyNames = %q, want %q", names, want)
	}
	for bag, name := range want {
		if names[bag] != name {
			t.Errorf("friendlyName of the %s bag = %q, want %q", bag, names[bag], name)
		}
	}
}

// friendlyNames reads the unencrypted bags of a P12 file with encoding/asn1 and returns
// the friendlyName of each certificate bag by the certificate's common name, and of the
// key bag under "key".
func friendlyNames(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var pfx struct {
		Version  int
		AuthSafe struct {
			ContentType asn1.ObjectIdentifier
			Content     []byte `asn1:"tag:0,explicit"`
		}
		MacData asn1.RawValue
	}
	mustUnmarshal(t, data, &pfx)
	var safes []struct {
		ContentType asn1.ObjectIdentifier
		Content     []byte `asn1:"tag:0,explicit"`
	}
	mustUnmarshal(t, pfx.AuthSafe.Content, &safes)

	names := map[string]string{}
	for _, safe := range safes {
		if !safe.ContentType.Equal(oidData) {
			t.Fatalf("a SafeContents has content type %v, want data", safe.ContentType)
		}
		var bags []struct {
			ID         asn1.ObjectIdentifier
			Value      asn1.RawValue `asn1:"tag:0,explicit"`
			Attributes []struct {
				ID     asn1.ObjectIdentifier
				Values []asn1.RawValue `asn1:"set"`
			} `asn1:"set,optional"`
		}
		mustUnmarshal(t, safe.Content, &bags)
		for _, bag := range bags {
			owner := "key"
			if bag.ID.Equal(oidCertBag) {
				var cb struct {
					ID    asn1.ObjectIdentifier
					Value []byte `asn1:"tag:0,explicit"`
				}
				mustUnmarshal(t, bag.Value.Bytes, &cb)
				cert, err := x509.ParseCertificate(cb.Value)
				if err != nil {
					t.Fatal(err)
				}
				owner = cert.Subject.CommonName
			}
			for _, attr := range bag.Attributes {
				if attr.ID.Equal(oidFriendlyName) && len(attr.Values) == 1 && attr.Values[0].Tag == asn1.TagBMPString {
					names[owner] = decodeBMP(attr.Values[0].Bytes)
				}
			}
		}
	}
	return names
}

func mustUnmarshal(t *testing.T, der []byte, v any) {
	t.Helper()
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		t.Fatalf("ASN.1 %T: %v", v, err)
	}
	if len(rest) != 0 {
		t.Fatalf("ASN.1 %T: %d trailing bytes", v, len(rest))
	}
}

func decodeBMP(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(units))
}

func TestEncodeRejectsBadInput(t *testing.T) {
	fixture := fixtureContents(t)
	noSerial := *fixture.Certificate
	noSerial.Subject.SerialNumber = ""

	cases := []struct {
		name     string
		encode   func() ([]byte, error)
		mentions string
	}{
		{"nil key", func() ([]byte, error) { return Encode(nil, fixture.Certificate, nil, "p") }, "private key is nil"},
		{"nil certificate", func() ([]byte, error) { return Encode(fixture.Key, nil, nil, "p") }, "certificate is nil"},
		{"key of another certificate", func() ([]byte, error) {
			return Encode(fixture.Key, fixture.CyberSourceCertificate, nil, "p")
		}, "does not belong to the certificate"},
		{"empty password", func() ([]byte, error) { return Encode(fixture.Key, fixture.Certificate, nil, "") }, "password is empty"},
		{"password outside the BMP", func() ([]byte, error) { return Encode(fixture.Key, fixture.Certificate, nil, "pass\U0001F511") }, "Basic Multilingual Plane"},
		{"no serialNumber", func() ([]byte, error) { return Encode(fixture.Key, &noSerial, nil, "p") }, "serialNumber"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.encode()
			if err == nil {
				t.Fatal("Encode accepted the input")
			}
			if !strings.Contains(err.Error(), tc.mentions) {
				t.Errorf("error %q does not mention %q", err, tc.mentions)
			}
		})
	}
}
