package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/paycreds/tms/tokenapi"
)

func version() string { return tokenapi.Version }

// printOptions choose how credentials are printed.
type printOptions struct {
	json   bool // JSON instead of a table
	reveal bool // full numbers, cryptograms and security codes
}

// printCredentials writes the credentials as a table or JSON. Unless reveal is set, card
// and network token numbers are masked to their last four digits and cryptograms and
// security codes are hidden.
func printCredentials(w io.Writer, creds *tokenapi.PaymentCredentials, opts printOptions) error {
	if opts.json {
		return printCredentialsJSON(w, creds, opts.reveal)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", name, value)
		}
	}
	number := func(n tokenapi.CardNumber) string {
		if opts.reveal {
			return n.Reveal()
		}
		return n.String()
	}
	secret := func(s tokenapi.Secret) string {
		if opts.reveal {
			return s.Reveal()
		}
		return s.String()
	}

	tc := creds.TokenizedCard
	row("token type", tc.Type)
	row("state", tc.State)
	row("network token", number(tc.Number))
	row("expiry", expiry(tc.ExpirationMonth, tc.ExpirationYear))
	row("cryptogram", secret(tc.Cryptogram))
	row("security code", secret(tc.SecurityCode))
	row("ECI", tc.ECI)
	row("requestor id", tc.RequestorID)
	row("PAR", firstNonEmpty(tc.PaymentAccountReference, creds.Issuer.PaymentAccountReference))
	row("card suffix", tc.Card.Suffix)
	if creds.Card != (tokenapi.Card{}) {
		row("card number", number(creds.Card.Number))
		row("card expiry", expiry(creds.Card.ExpirationMonth, creds.Card.ExpirationYear))
		row("card type", describeCardType(creds.Card.Type))
	}
	row("JWE kid", creds.KeyID)
	row("correlation id", creds.CorrelationID)
	return tw.Flush()
}

// cardTypeNames names CyberSource's three-digit card type codes.
var cardTypeNames = map[string]string{
	"001": "Visa", "002": "Mastercard", "003": "American Express", "004": "Discover",
	"005": "Diners Club", "007": "JCB", "042": "Maestro", "062": "China UnionPay",
}

// describeCardType returns a card type code with its name, such as "001 (Visa)".
func describeCardType(code string) string {
	if name, ok := cardTypeNames[code]; ok {
		return code + " (" + name + ")"
	}
	return code
}

func expiry(month, year string) string {
	if month == "" && year == "" {
		return ""
	}
	return month + "/" + year
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// printCredentialsJSON writes the decrypted JSON as received when reveal is set, and
// otherwise the typed credentials with numbers masked and secrets hidden. The masked form
// leaves out unknown fields, since they could carry card data.
func printCredentialsJSON(w io.Writer, creds *tokenapi.PaymentCredentials, reveal bool) error {
	if reveal {
		var raw json.RawMessage = creds.RawJSON()
		out, err := json.MarshalIndent(raw, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", out)
		return err
	}
	masked := *creds
	masked.Card.Number = tokenapi.CardNumber(creds.Card.Number.String())
	masked.TokenizedCard.Number = tokenapi.CardNumber(creds.TokenizedCard.Number.String())
	masked.TokenizedCard.Card.Number = tokenapi.CardNumber(creds.TokenizedCard.Card.Number.String())
	masked.TokenizedCard.Cryptogram = tokenapi.Secret(creds.TokenizedCard.Cryptogram.String())
	masked.TokenizedCard.SecurityCode = tokenapi.Secret(creds.TokenizedCard.SecurityCode.String())
	masked.BillTo = tokenapi.BillingDetails{}
	out, err := json.MarshalIndent(masked, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

// printError writes an error the way a user needs it, after prefix: for an API error the
// status, the CyberSource error type, message, fields and ids to quote to support. server
// names the responding server, such as "CyberSource" or "the sandbox".
func printError(w io.Writer, prefix, server string, err error) {
	var apiErr *tokenapi.APIError
	if errors.As(err, &apiErr) {
		fmt.Fprintf(w, "%s%s returned %d %s\n", prefix, server, apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		row := func(name, value string) {
			if value != "" {
				fmt.Fprintf(tw, "  %s\t%s\n", name, value)
			}
		}
		row("type", apiErr.Type)
		row("message", apiErr.Message)
		for _, d := range apiErr.Details {
			row("field", strings.TrimSpace(d.Name+" ("+d.Location+")"))
		}
		if apiErr.Type == "" && apiErr.Message == "" {
			row("body", fmt.Sprintf("%d bytes of %s, not a CyberSource error", len(apiErr.Body), firstNonEmpty(apiErr.ContentType, "untyped data")))
		}
		row("correlation id", apiErr.CorrelationID)
		row("unique transaction id", apiErr.UniqueTransactionID)
		_ = tw.Flush() // an error output that cannot be written has nowhere else to go
		return
	}
	fmt.Fprintf(w, "%s%v\n", prefix, err)
}
