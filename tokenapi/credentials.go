package tokenapi

import (
	"fmt"
	"log/slog"
	"strings"
)

// PaymentCredentials is the decrypted payload of a 201 response: the network token with
// the cryptogram or dynamic security code minted for this call, or, from v3 for a token
// without a network token, the card details.
//
// Every field is optional. Unknown fields in the payload are ignored here and kept in
// RawJSON. Printing a PaymentCredentials (fmt, String, slog) masks card and network token
// numbers to their last four digits and hides cryptograms and security codes; JSON
// encoding keeps the real values.
type PaymentCredentials struct {
	Links         Links          `json:"_links,omitzero"`
	Card          Card           `json:"card,omitzero"`
	TokenizedCard TokenizedCard  `json:"tokenizedCard,omitzero"`
	Issuer        Issuer         `json:"issuer,omitzero"`
	BillTo        BillingDetails `json:"billTo,omitzero"`

	// KeyID is the kid of the JWE header: which MLE key CyberSource encrypted to.
	KeyID string `json:"-"`
	// CorrelationID is the v-c-correlation-id header of the response that carried the JWE.
	CorrelationID string `json:"-"`
	// UniqueTransactionID is the uniqueTransactionID header of that response.
	UniqueTransactionID string `json:"-"`

	raw []byte
}

// RawJSON returns a copy of the decrypted JSON as received, unknown fields included. It
// contains card data in the clear: never log it.
func (p *PaymentCredentials) RawJSON() []byte { return append([]byte(nil), p.raw...) }

// Links are links to the TMS resources behind the token.
type Links struct {
	Self                 Link `json:"self,omitzero"`
	Customer             Link `json:"customer,omitzero"`
	PaymentInstruments   Link `json:"paymentInstruments,omitzero"`
	InstrumentIdentifier Link `json:"instrumentIdentifier,omitzero"`
	TokenizedCard        Link `json:"tokenizedCard,omitzero"`
}

// Link is a path on the API host.
type Link struct {
	Href string `json:"href,omitzero"`
}

// Card is the card behind the token, sent by v3 when the token has no network token. The
// number may arrive masked by CyberSource, such as 462294XXXXXX6726.
type Card struct {
	Number          CardNumber `json:"number,omitzero"`
	ExpirationMonth string     `json:"expirationMonth,omitzero"`
	ExpirationYear  string     `json:"expirationYear,omitzero"`
	// Type is CyberSource's three-digit card type code, such as "001" for Visa.
	Type string `json:"type,omitzero"`
}

// TokenizedCard is the network token and the credentials minted for this call.
type TokenizedCard struct {
	ID     string `json:"id,omitzero"`
	Object string `json:"object,omitzero"`
	// Source is the provisioning channel: ONFILE, TOKEN or ISSUER.
	Source string `json:"source,omitzero"`
	// State is ACTIVE, SUSPENDED, DELETED or UNPROVISIONED.
	State            string `json:"state,omitzero"`
	EnrollmentID     string `json:"enrollmentId,omitzero"`
	TokenReferenceID string `json:"tokenReferenceId,omitzero"`
	// Number is the network token number.
	Number          CardNumber `json:"number,omitzero"`
	ExpirationMonth string     `json:"expirationMonth,omitzero"`
	ExpirationYear  string     `json:"expirationYear,omitzero"`
	// Type is the card network in lower case, such as visa, mastercard or americanexpress.
	Type   string `json:"type,omitzero"`
	Reason string `json:"reason,omitzero"`
	// Cryptogram is the TAVV or DTVV cryptogram for this transaction.
	Cryptogram Secret `json:"cryptogram,omitzero"`
	// SecurityCode is the dynamic card security code, for American Express.
	SecurityCode Secret `json:"securityCode,omitzero"`
	// ECI is the e-commerce indicator to send with the authorization, such as "07".
	ECI                           string              `json:"eci,omitzero"`
	RequestorID                   string              `json:"requestorId,omitzero"`
	PaymentAccountReference       string              `json:"paymentAccountReference,omitzero"`
	ApplicationTransactionCounter string              `json:"applicationTransactionCounter,omitzero"`
	Card                          TokenizedCardCard   `json:"card,omitzero"`
	VerificationResults           VerificationResults `json:"verificationResults,omitzero"`
}

// TokenizedCardCard is the card a network token stands for, as the network describes it.
type TokenizedCardCard struct {
	Number          CardNumber `json:"number,omitzero"`
	ExpirationMonth string     `json:"expirationMonth,omitzero"`
	ExpirationYear  string     `json:"expirationYear,omitzero"`
	Type            string     `json:"type,omitzero"`
	// Suffix is the last four digits of the card number.
	Suffix string `json:"suffix,omitzero"`
	// IssueDate and ActivationDate are dates as sent, YYYY-MM-DD. They stay strings so
	// that an unexpected format cannot fail the whole decryption.
	IssueDate           string             `json:"issueDate,omitzero"`
	ActivationDate      string             `json:"activationDate,omitzero"`
	ExpirationPrinted   *bool              `json:"expirationPrinted,omitempty"`
	SecurityCodePrinted *bool              `json:"securityCodePrinted,omitempty"`
	TermsAndConditions  TermsAndConditions `json:"termsAndConditions,omitzero"`
}

// TermsAndConditions links to the issuer's terms for the card.
type TermsAndConditions struct {
	URL string `json:"url,omitzero"`
}

// VerificationResults are the checks the network reported at enrollment.
type VerificationResults struct {
	SecurityCode string `json:"securityCode,omitzero"`
	Address      string `json:"address,omitzero"`
}

// Issuer carries the issuer's Payment Account Reference.
type Issuer struct {
	PaymentAccountReference string `json:"paymentAccountReference,omitzero"`
}

// BillingDetails are the billing details stored with a payment instrument, sent by v3
// when the token has no network token. They are personal data, so the printed forms of
// PaymentCredentials leave them out.
type BillingDetails struct {
	FirstName          string `json:"firstName,omitzero"`
	LastName           string `json:"lastName,omitzero"`
	Company            string `json:"company,omitzero"`
	Address1           string `json:"address1,omitzero"`
	Locality           string `json:"locality,omitzero"`
	AdministrativeArea string `json:"administrativeArea,omitzero"`
	PostalCode         string `json:"postalCode,omitzero"`
	Country            string `json:"country,omitzero"`
	Email              string `json:"email,omitzero"`
	PhoneNumber        string `json:"phoneNumber,omitzero"`
}

// String returns a one-line summary with numbers masked and secrets hidden.
func (p PaymentCredentials) String() string {
	var d describer
	d.group("tokenizedCard", p.TokenizedCard.String())
	d.group("card", p.Card.String())
	d.add("kid", p.KeyID)
	d.add("correlationId", p.CorrelationID)
	return "PaymentCredentials{" + d.String() + "}"
}

// Format writes the String form for every verb.
func (p PaymentCredentials) Format(f fmt.State, verb rune) {
	formatMasked(f, verb, p.String(), "tokenapi."+p.String())
}

// LogValue returns the masked summary as a slog group.
func (p PaymentCredentials) LogValue() slog.Value {
	var attrs []slog.Attr
	if p.TokenizedCard != (TokenizedCard{}) {
		attrs = append(attrs, slog.Any("tokenizedCard", p.TokenizedCard))
	}
	if p.Card != (Card{}) {
		attrs = append(attrs, slog.Any("card", p.Card))
	}
	attrs = appendNonEmpty(attrs, "kid", p.KeyID)
	attrs = appendNonEmpty(attrs, "correlationId", p.CorrelationID)
	return slog.GroupValue(attrs...)
}

// String returns a one-line summary with the number masked and secrets hidden.
func (t TokenizedCard) String() string {
	var d describer
	d.add("type", t.Type)
	d.add("state", t.State)
	d.add("number", t.Number.String())
	d.add("expiration", expiration(t.ExpirationMonth, t.ExpirationYear))
	d.add("cryptogram", t.Cryptogram.String())
	d.add("securityCode", t.SecurityCode.String())
	d.add("eci", t.ECI)
	d.add("requestorId", t.RequestorID)
	d.add("cardSuffix", t.Card.Suffix)
	return d.String()
}

// Format writes the String form for every verb.
func (t TokenizedCard) Format(f fmt.State, verb rune) {
	formatMasked(f, verb, t.String(), "tokenapi.TokenizedCard{"+t.String()+"}")
}

// LogValue returns the masked summary as a slog group.
func (t TokenizedCard) LogValue() slog.Value {
	var attrs []slog.Attr
	attrs = appendNonEmpty(attrs, "type", t.Type)
	attrs = appendNonEmpty(attrs, "state", t.State)
	attrs = appendNonEmpty(attrs, "number", t.Number.String())
	attrs = appendNonEmpty(attrs, "expiration", expiration(t.ExpirationMonth, t.ExpirationYear))
	attrs = appendNonEmpty(attrs, "cryptogram", t.Cryptogram.String())
	attrs = appendNonEmpty(attrs, "securityCode", t.SecurityCode.String())
	attrs = appendNonEmpty(attrs, "eci", t.ECI)
	return slog.GroupValue(attrs...)
}

// String returns a one-line summary with the number masked.
func (c Card) String() string {
	var d describer
	d.add("number", c.Number.String())
	d.add("expiration", expiration(c.ExpirationMonth, c.ExpirationYear))
	d.add("type", c.Type)
	return d.String()
}

// Format writes the String form for every verb.
func (c Card) Format(f fmt.State, verb rune) {
	formatMasked(f, verb, c.String(), "tokenapi.Card{"+c.String()+"}")
}

// LogValue returns the masked summary as a slog group.
func (c Card) LogValue() slog.Value {
	var attrs []slog.Attr
	attrs = appendNonEmpty(attrs, "number", c.Number.String())
	attrs = appendNonEmpty(attrs, "expiration", expiration(c.ExpirationMonth, c.ExpirationYear))
	attrs = appendNonEmpty(attrs, "type", c.Type)
	return slog.GroupValue(attrs...)
}

// String returns a one-line summary with the number masked.
func (c TokenizedCardCard) String() string {
	var d describer
	d.add("number", c.Number.String())
	d.add("suffix", c.Suffix)
	d.add("expiration", expiration(c.ExpirationMonth, c.ExpirationYear))
	return d.String()
}

// Format writes the String form for every verb.
func (c TokenizedCardCard) Format(f fmt.State, verb rune) {
	formatMasked(f, verb, c.String(), "tokenapi.TokenizedCardCard{"+c.String()+"}")
}

// LogValue returns the masked summary as a slog group.
func (c TokenizedCardCard) LogValue() slog.Value {
	var attrs []slog.Attr
	attrs = appendNonEmpty(attrs, "number", c.Number.String())
	attrs = appendNonEmpty(attrs, "suffix", c.Suffix)
	attrs = appendNonEmpty(attrs, "expiration", expiration(c.ExpirationMonth, c.ExpirationYear))
	return slog.GroupValue(attrs...)
}

// expiration formats a month and year as MM/YYYY, or "" when both are empty.
func expiration(month, year string) string {
	if month == "" && year == "" {
		return ""
	}
	return month + "/" + year
}

func appendNonEmpty(attrs []slog.Attr, key, value string) []slog.Attr {
	if value == "" {
		return attrs
	}
	return append(attrs, slog.String(key, value))
}

// describer builds "name: value, name: {…}" lists, skipping empty values.
type describer struct {
	b strings.Builder
}

func (d *describer) add(name, value string) {
	if value == "" {
		return
	}
	if d.b.Len() > 0 {
		d.b.WriteString(", ")
	}
	d.b.WriteString(name)
	d.b.WriteString(": ")
	d.b.WriteString(value)
}

func (d *describer) group(name, inner string) {
	if inner == "" {
		return
	}
	d.add(name, "{"+inner+"}")
}

func (d *describer) String() string { return d.b.String() }
