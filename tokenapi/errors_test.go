package tokenapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestAPIErrorMessageIsOneLine checks that text from an error body cannot add lines to
// a log through the message, such as a forged record in a field name.
func TestAPIErrorMessageIsOneLine(t *testing.T) {
	body := `{"errors":[{"type":"invalid\nFields","message":"bad\r\nvalue\u001b[31m","details":[` +
		`{"name":"tokenId\n2026-01-01 INFO forged record","location":"pa\nth"}]}]}`
	resp := &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"V-C-Correlation-Id": {"abc\ndef"}}}
	apiErr := newAPIError("postTokenPaymentCredentials", "7030…(19)", resp, []byte(body), false)

	message := apiErr.Error()
	if strings.ContainsAny(message, "\r\n\x1b") {
		t.Errorf("the message contains control characters: %q", message)
	}
	if !strings.Contains(message, "tokenId2026-01-01 INFO forged record") {
		t.Errorf("the message lost the field name: %q", message)
	}
	if apiErr.Details[0].Location != "path" || apiErr.CorrelationID != "abcdef" {
		t.Errorf("details %+v, correlation id %q: want control characters removed", apiErr.Details, apiErr.CorrelationID)
	}
	if !strings.Contains(apiErr.Errors[0].Details[0].Name, "\n") {
		t.Error("Errors no longer keeps the body's values as sent")
	}
}
