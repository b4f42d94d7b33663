package tokenapi

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidateCall checks the input validation against its rules, restated here. An
// accepted call has a token id of 1 to 32 letters, digits, '-' or '_', and a profile id
// of 36 printable ASCII characters or none. Each limited field is within its maxLength
// and enumeration. A rejected call gets a *ValidationError whose message is one line.
func FuzzValidateCall(f *testing.F) {
	for _, v := range loadSignatureVectors(f) {
		tokenID := strings.TrimSuffix(strings.TrimPrefix(v.Path, "/tms/v2/tokens/"), "/payment-credentials")
		f.Add(tokenID, v.header("profile-id"), []byte(v.Body))
	}
	f.Add("../x", "", []byte(`{}`))
	// Fields at their maxLength and one beyond, kept short so that mutations stay fast.
	f.Add("7030000000000011111", "93B32398-AD51-4CC2-A682-EA3E93614EB1", []byte(`{"clientCorrelationId":"`+strings.Repeat("c", 36)+
		`","orderInformation":{"billTo":{"country":"US","postalCode":"1234567890"}},"deviceInformation":{"httpBrowserLanguage":"en-US-ab"}}`))
	f.Add("7030000000000011111", "", []byte(`{"clientCorrelationId":"`+strings.Repeat("c", 37)+
		`","orderInformation":{"billTo":{"country":"USA","postalCode":"12345678901"}},"authenticatedIdentities":[{"provider":"PASSKEY"}]}`))

	f.Fuzz(func(t *testing.T, tokenID, profileID string, body []byte) {
		var request PaymentCredentialsRequest
		if json.Unmarshal(body, &request) != nil {
			request = PaymentCredentialsRequest{}
		}
		err := validateCall(tokenID, &request, callSettings{profileID: profileID})
		if err != nil {
			var validation *ValidationError
			if !errors.As(err, &validation) || !errors.Is(err, ErrInvalidRequest) || len(validation.Fields) == 0 {
				t.Fatalf("error %T %v, want a *ValidationError with fields", err, err)
			}
			if message := err.Error(); !utf8.ValidString(message) || strings.ContainsAny(message, "\r\n\x00") {
				t.Errorf("the message is not one clean line of text: %q", message)
			}
			return
		}

		if len(tokenID) < 1 || len(tokenID) > 32 || strings.Trim(tokenID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			t.Errorf("token id %q accepted", tokenID)
		}
		if profileID != "" && (len(profileID) != 36 || strings.IndexFunc(profileID, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0) {
			t.Errorf("profile id %q accepted", profileID)
		}
		visitStringFields(&request, func(path string, _ int, value string) {
			limit := requestLimits[path]
			if !utf8.ValidString(value) {
				t.Errorf("%s: invalid UTF-8 accepted", path)
			}
			if limit.maxLength > 0 && utf8.RuneCountInString(value) > limit.maxLength {
				t.Errorf("%s: %d characters accepted, maximum %d", path, utf8.RuneCountInString(value), limit.maxLength)
			}
			if value != "" && limit.enum != nil && !slices.Contains(limit.enum, value) {
				t.Errorf("%s: %q accepted, not in %v", path, value, limit.enum)
			}
		})
	})
}
