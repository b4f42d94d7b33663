package tokenapi

import "github.com/paycreds/tms/gen"

// The request body and its parts are generated from api/openapi.yaml into package gen;
// these aliases let callers write them without importing gen. Every field is optional and
// unset fields are left out of the JSON, so &PaymentCredentialsRequest{} sends {}. Run
// `go doc github.com/paycreds/tms/gen TYPE` for the fields of each.
type (
	// PaymentCredentialsRequest is the body of both operations.
	PaymentCredentialsRequest = gen.PaymentCredentialsRequest
	// OrderInformation carries the amount and the billing address of the order.
	OrderInformation = gen.OrderInformation
	// AmountDetails is the order total and its ISO 4217 numeric currency code.
	AmountDetails = gen.AmountDetails
	// BillTo is the cardholder's billing address.
	BillTo = gen.BillTo
	// MerchantInformation carries the merchant descriptor.
	MerchantInformation = gen.MerchantInformation
	// MerchantDescriptor is the merchant's name and website.
	MerchantDescriptor = gen.MerchantDescriptor
	// DeviceInformation describes the cardholder's device and browser.
	DeviceInformation = gen.DeviceInformation
	// AuthenticatedIdentity is evidence of cardholder authentication, such as a passkey.
	AuthenticatedIdentity = gen.AuthenticatedIdentity
	// PaymentCredentialType selects what to return: NetworkToken, SecurityCode or Cryptogram.
	PaymentCredentialType = gen.PaymentCredentialType
	// TransactionType is Ecommerce (the default) or AccountFunding.
	TransactionType = gen.TransactionType
	// PlatformType is the kind of application the cardholder uses.
	PlatformType = gen.PlatformType
	// IdentityProvider names who authenticated the cardholder.
	IdentityProvider = gen.IdentityProvider
	// UserAuthenticationMethod is how the cardholder was authenticated.
	UserAuthenticationMethod = gen.UserAuthenticationMethod
	// ErrorEntry is one error of a CyberSource error body: type, message and details.
	ErrorEntry = gen.Error
)

// Values of PaymentCredentialsRequest.PaymentCredentialType.
const (
	// NetworkToken returns the network token number only, with no cryptogram or dynamic CVV.
	NetworkToken = gen.PaymentCredentialTypeNetworkToken
	// SecurityCode adds a dynamic CVV (American Express and SCOF only).
	SecurityCode = gen.PaymentCredentialTypeSecurityCode
	// Cryptogram adds a cryptogram (not for American Express).
	Cryptogram = gen.PaymentCredentialTypeCryptogram
)

// Values of PaymentCredentialsRequest.TransactionType.
const (
	// Ecommerce is an e-commerce transaction, the default.
	Ecommerce = gen.TransactionTypeEcommerce
	// AccountFunding is an Account Funding Transaction, accepted only for Visa with Cryptogram.
	AccountFunding = gen.TransactionTypeAccountFunding
)
