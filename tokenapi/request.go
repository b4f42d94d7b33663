package tokenapi

import "github.com/paycreds/tms/gen"

// The request body and its parts, generated from api/openapi.yaml. Every field is
// optional, and unset fields are left out of the JSON, so
// &PaymentCredentialsRequest{} sends {}.
type (
	PaymentCredentialsRequest = gen.PaymentCredentialsRequest
	OrderInformation          = gen.OrderInformation
	AmountDetails             = gen.AmountDetails
	BillTo                    = gen.BillTo
	MerchantInformation       = gen.MerchantInformation
	MerchantDescriptor        = gen.MerchantDescriptor
	DeviceInformation         = gen.DeviceInformation
	AuthenticatedIdentity     = gen.AuthenticatedIdentity
	PaymentCredentialType     = gen.PaymentCredentialType
	TransactionType           = gen.TransactionType
	PlatformType              = gen.PlatformType
	IdentityProvider          = gen.IdentityProvider
	UserAuthenticationMethod  = gen.UserAuthenticationMethod
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
