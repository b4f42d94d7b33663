package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"

	"github.com/paycreds/tms/gen"
)

// apiError is a business-rule failure with its status and CyberSource error type.
type apiError struct {
	status    int
	errorType string
	message   string
}

func invalidCombination(message string) *apiError {
	return &apiError{status: http.StatusBadRequest, errorType: "invalidCombination", message: message}
}

// generate applies the business rules and returns a 201 with the payload encrypted to
// the merchant's MLE key, or the error response of the rule that failed.
func (s *Server) generate(operation string, merchant *merchantState, token *tokenState, body []byte, selfPath string) response {
	var req gen.PaymentCredentialsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		// The body has passed the OpenAPI document, so decoding it into the generated
		// type fails only if gen/ and api/ disagree: a bug of the sandbox, logged as such.
		s.logger.Error("sandbox: decoding a validated request body failed", "error", err, "operation", operation)
		return errorResponse(http.StatusBadRequest, "invalidRequest", "Invalid HTTP Body")
	}

	payload, apiErr := buildCredentials(operation, token, req, selfPath)
	if apiErr != nil {
		return errorResponse(apiErr.status, apiErr.errorType, apiErr.message)
	}

	jwe, err := merchant.encrypt(payload)
	if err != nil {
		s.logger.Error("sandbox: encrypt payment credentials failed", "error", err, "merchant_id", merchant.ID)
		return errorResponse(http.StatusInternalServerError, "internalError", "The payment credentials could not be encrypted")
	}
	return response{status: http.StatusCreated, contentType: contentTypeJOSE, body: []byte(jwe)}
}

// encrypt returns the payload as a compact JWE for the merchant's MLE key.
func (m *merchantState) encrypt(payload gen.PaymentCredentials) (string, error) {
	plaintext, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode payload: %w", err)
	}
	if m.sharedKey != nil {
		return m.sharedKey.encrypt(plaintext)
	}
	object, err := m.encrypter.Encrypt(plaintext)
	if err != nil {
		return "", err
	}
	return object.CompactSerialize()
}

// buildCredentials applies the rules CyberSource documents for the request fields:
//
//   - American Express has no cryptogram: CRYPTOGRAM is an invalidCombination. Its
//     dynamic card security code comes in tokenizedCard.securityCode by default and for
//     SECURITY_CODE.
//   - Visa and Mastercard get a cryptogram and an ECI by default and for CRYPTOGRAM.
//   - NETWORK_TOKEN returns the network token without a cryptogram or security code.
//   - transactionType AFT is accepted only for Visa with paymentCredentialType
//     CRYPTOGRAM.
//   - A token without a network token gets its card number details from v3.
func buildCredentials(operation string, token *tokenState, req gen.PaymentCredentialsRequest, selfPath string) (gen.PaymentCredentials, *apiError) {
	credentialType := req.PaymentCredentialType
	network := token.Network

	if token.State == TokenSuspended {
		// NOTE: CyberSource does not document the response for a suspended token. The
		// sandbox returns 403 declined, a documented type for this operation.
		return gen.PaymentCredentials{}, &apiError{status: http.StatusForbidden, errorType: "declined", message: "The network token is suspended"}
	}
	if token.State == TokenLinked && operation == OperationV3 {
		// NOTE: CyberSource documents this 409 for v3 only ("The token is linked to a
		// Payment Instrument"), without the error type. The sandbox sends conflict, one
		// of the documented 409 types. v2 declares no 409 and gets credentials.
		return gen.PaymentCredentials{}, &apiError{status: http.StatusConflict, errorType: "conflict",
			message: "The token is linked to a Payment Instrument. Use the Payment Instrument's id"}
	}
	if network == AmericanExpress && credentialType == gen.PaymentCredentialTypeCryptogram {
		return gen.PaymentCredentials{}, invalidCombination("paymentCredentialType CRYPTOGRAM is not supported for American Express tokens")
	}
	if network == Mastercard && credentialType == gen.PaymentCredentialTypeSecurityCode {
		// NOTE: CyberSource supports a dynamic CVV only for American Express, Visa (DTVV)
		// and SCOF. The sandbox does not model SCOF, so Mastercard rejects SECURITY_CODE.
		return gen.PaymentCredentials{}, invalidCombination("paymentCredentialType SECURITY_CODE is not supported for Mastercard tokens")
	}
	if req.TransactionType == gen.TransactionTypeAccountFunding &&
		(network != Visa || credentialType != gen.PaymentCredentialTypeCryptogram) {
		return gen.PaymentCredentials{}, invalidCombination("transactionType AFT requires a Visa token and paymentCredentialType CRYPTOGRAM")
	}

	links := gen.PaymentCredentialsLinks{Self: gen.Link{Href: selfPath}}
	if !token.hasNetworkToken() {
		if operation != OperationV3 {
			// NOTE: CyberSource does not document v2's response for a token without a
			// network token. The sandbox returns invalidCombination and points to v3.
			return gen.PaymentCredentials{}, invalidCombination("The token has no network token. Use v3 to get the card number details")
		}
		// NOTE: CyberSource does not document whether paymentCredentialType changes this
		// response. The sandbox returns the masked card number for every type.
		return gen.PaymentCredentials{
			Links: links,
			Card: gen.Card{
				Number:          maskPAN(token.PAN),
				ExpirationMonth: token.CardExpirationMonth,
				ExpirationYear:  token.CardExpirationYear,
				Type:            network.cardTypeCode(),
			},
		}, nil
	}

	if token.TokenizedCardID != "" {
		links.TokenizedCard = gen.Link{Href: "/tms/v2/tokenized-cards/" + token.TokenizedCardID}
	}
	card := gen.TokenizedCard{
		ID:                      token.TokenizedCardID,
		Object:                  "tokenizedCard",
		Source:                  gen.TokenizedCardSourceOnFile,
		State:                   gen.TokenizedCardStateActive,
		TokenReferenceID:        token.TokenReferenceID,
		Number:                  token.NetworkTokenNumber,
		ExpirationMonth:         token.ExpirationMonth,
		ExpirationYear:          token.ExpirationYear,
		Type:                    string(network),
		RequestorID:             token.RequestorID,
		PaymentAccountReference: token.PaymentAccountReference,
		Card: gen.TokenizedCardCard{
			Suffix:          token.PAN[len(token.PAN)-4:],
			ExpirationMonth: token.CardExpirationMonth,
			ExpirationYear:  token.CardExpirationYear,
			Type:            network.cardTypeCode(),
		},
	}
	// The decrypted examples in CyberSource's spec show both flags true and the PAR in
	// a top-level issuer object.
	printed := true
	card.Card.ExpirationPrinted = &printed
	card.Card.SecurityCodePrinted = &printed
	if err := addDynamicValues(&card, token, req); err != nil {
		return gen.PaymentCredentials{}, &apiError{status: http.StatusInternalServerError, errorType: "internalError", message: "The credentials could not be generated"}
	}
	issuer := gen.Issuer{PaymentAccountReference: token.PaymentAccountReference}
	return gen.PaymentCredentials{Links: links, TokenizedCard: card, Issuer: issuer}, nil
}

// addDynamicValues adds the cryptogram or security code that the credential type and
// network call for. Every value is freshly random.
func addDynamicValues(card *gen.TokenizedCard, token *tokenState, req gen.PaymentCredentialsRequest) error {
	var err error
	switch req.PaymentCredentialType {
	case gen.PaymentCredentialTypeNetworkToken:
		return nil
	case gen.PaymentCredentialTypeSecurityCode:
		if token.Network == Visa {
			// NOTE: CyberSource returns a Visa DTVV here without documenting its form.
			// The sandbox uses three digits, the length of a card security code.
			card.SecurityCode, err = randomDigits(3)
			return err
		}
		card.SecurityCode, err = randomDigits(4)
		return err
	}

	// The default type and CRYPTOGRAM: American Express never reaches here with
	// CRYPTOGRAM, so for it this is the default dynamic CVV.
	if token.Network == AmericanExpress {
		card.SecurityCode, err = randomDigits(4)
		return err
	}
	if card.Cryptogram, err = randomCryptogram(); err != nil {
		return err
	}
	card.ECI = eci(token.Network, req)
	if token.Network == Visa {
		// CyberSource returns the transaction counter for Visa tokens only.
		card.ApplicationTransactionCounter = fmt.Sprintf("%04d", token.transactionCounter.Add(1)%10000)
	}
	return nil
}

// eci returns the e-commerce indicator for a cryptogram: 05 for Visa after a Visa
// Payment Passkey authentication (the liability shift CyberSource describes), 07
// otherwise.
//
// NOTE: CyberSource does not document the ECI it returns for Mastercard tokens. The
// sandbox uses 07.
func eci(network Network, req gen.PaymentCredentialsRequest) string {
	if network == Visa {
		for _, identity := range req.AuthenticatedIdentities {
			if identity.Provider == gen.IdentityProviderVisaPaymentPasskey {
				return "05"
			}
		}
	}
	return "07"
}

// randomCryptogram returns 20 random bytes in padded standard base64, the size and
// encoding of a TAVV cryptogram.
func randomCryptogram() (string, error) {
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// randomDigits returns n uniformly random decimal digits.
func randomDigits(n int) (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", n, v), nil
}
