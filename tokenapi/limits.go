package tokenapi

import "github.com/paycreds/tms/gen"

// The client-side checks below mirror the limits in api/openapi.yaml, so that invalid
// input is rejected before a request is sent. TestLimitsMatchSpec compares them with the
// spec in both directions; change both together.

// Limits of the path and header parameters.
const (
	tokenIDMinLength = 1
	tokenIDMaxLength = 32
	profileIDLength  = 36
)

// stringLimit is the maxLength and the enumeration of one request field. Zero and nil
// mean no limit.
type stringLimit struct {
	maxLength int
	enum      []string
}

// requestLimits maps the dotted JSON path of each limited request field to its limit.
// Fields of array elements use "[]", as in "authenticatedIdentities[].id".
var requestLimits = map[string]stringLimit{
	"paymentCredentialType": {enum: enumValues(
		gen.PaymentCredentialTypeNetworkToken, gen.PaymentCredentialTypeSecurityCode, gen.PaymentCredentialTypeCryptogram)},
	"transactionType":     {enum: enumValues(gen.TransactionTypeEcommerce, gen.TransactionTypeAccountFunding)},
	"clientCorrelationId": {maxLength: 36},

	"orderInformation.billTo.firstName":          {maxLength: 60},
	"orderInformation.billTo.lastName":           {maxLength: 60},
	"orderInformation.billTo.address1":           {maxLength: 60},
	"orderInformation.billTo.locality":           {maxLength: 50},
	"orderInformation.billTo.administrativeArea": {maxLength: 20},
	"orderInformation.billTo.postalCode":         {maxLength: 10},
	"orderInformation.billTo.country":            {maxLength: 2},
	"orderInformation.billTo.email":              {maxLength: 255},

	"deviceInformation.platformType": {enum: enumValues(
		gen.PlatformTypeIOS, gen.PlatformTypeAndroid, gen.PlatformTypeWindows, gen.PlatformTypeWeb)},
	"deviceInformation.ipAddress":                 {maxLength: 45},
	"deviceInformation.httpAcceptContent":         {maxLength: 2048},
	"deviceInformation.httpBrowserLanguage":       {maxLength: 8},
	"deviceInformation.httpBrowserColorDepth":     {maxLength: 2},
	"deviceInformation.httpBrowserScreenHeight":   {maxLength: 6},
	"deviceInformation.httpBrowserScreenWidth":    {maxLength: 6},
	"deviceInformation.httpBrowserTimeDifference": {maxLength: 5},
	"deviceInformation.userAgentBrowserValue":     {maxLength: 2048},

	"authenticatedIdentities[].id": {maxLength: 50},
	"authenticatedIdentities[].provider": {enum: enumValues(
		gen.IdentityProviderVisaPaymentPasskey, gen.IdentityProviderClientDeviceCertJWS)},
	"authenticatedIdentities[].data":           {maxLength: 17000},
	"authenticatedIdentities[].relyingPartyId": {maxLength: 2000},
	"authenticatedIdentities[].userAuthenticationMethod": {enum: enumValues(
		gen.UserAuthenticationMethodUsernamePassword,
		gen.UserAuthenticationMethodPasscodePassword,
		gen.UserAuthenticationMethodPasscode,
		gen.UserAuthenticationMethodPassword,
		gen.UserAuthenticationMethodPattern,
		gen.UserAuthenticationMethodBiometricFingerprint,
		gen.UserAuthenticationMethodBiometricFacial,
		gen.UserAuthenticationMethodBiometricIris,
		gen.UserAuthenticationMethodBiometricVoice,
		gen.UserAuthenticationMethodBiometricBehavioral,
		gen.UserAuthenticationMethodDeviceUnlockedMethodUnknown,
		gen.UserAuthenticationMethodOTPSMS,
		gen.UserAuthenticationMethodOTPEmail,
		gen.UserAuthenticationMethodOTPSMSKnowledge,
		gen.UserAuthenticationMethodKnowledgeBasedAuthentication,
		gen.UserAuthenticationMethodUserUnverified,
		gen.UserAuthenticationMethodBiometric,
	)},
}

func enumValues[T ~string](values ...T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// visitStringFields calls visit for every string field of r, set or not, with its path
// as in requestLimits and, for array elements, the element index (otherwise -1).
func visitStringFields(r *PaymentCredentialsRequest, visit func(path string, index int, value string)) {
	visit("paymentCredentialType", -1, string(r.PaymentCredentialType))
	visit("transactionType", -1, string(r.TransactionType))
	visit("clientCorrelationId", -1, r.ClientCorrelationID)

	amount := &r.OrderInformation.AmountDetails
	visit("orderInformation.amountDetails.totalAmount", -1, amount.TotalAmount)
	visit("orderInformation.amountDetails.currency", -1, amount.Currency)

	billTo := &r.OrderInformation.BillTo
	visit("orderInformation.billTo.firstName", -1, billTo.FirstName)
	visit("orderInformation.billTo.lastName", -1, billTo.LastName)
	visit("orderInformation.billTo.address1", -1, billTo.Address1)
	visit("orderInformation.billTo.locality", -1, billTo.Locality)
	visit("orderInformation.billTo.administrativeArea", -1, billTo.AdministrativeArea)
	visit("orderInformation.billTo.postalCode", -1, billTo.PostalCode)
	visit("orderInformation.billTo.country", -1, billTo.Country)
	visit("orderInformation.billTo.email", -1, billTo.Email)

	descriptor := &r.MerchantInformation.MerchantDescriptor
	visit("merchantInformation.merchantDescriptor.name", -1, descriptor.Name)
	visit("merchantInformation.merchantDescriptor.url", -1, descriptor.URL)

	device := &r.DeviceInformation
	visit("deviceInformation.platformType", -1, string(device.PlatformType))
	visit("deviceInformation.ipAddress", -1, device.IPAddress)
	visit("deviceInformation.httpAcceptContent", -1, device.HTTPAcceptContent)
	visit("deviceInformation.httpBrowserLanguage", -1, device.HTTPBrowserLanguage)
	visit("deviceInformation.httpBrowserColorDepth", -1, device.HTTPBrowserColorDepth)
	visit("deviceInformation.httpBrowserScreenHeight", -1, device.HTTPBrowserScreenHeight)
	visit("deviceInformation.httpBrowserScreenWidth", -1, device.HTTPBrowserScreenWidth)
	visit("deviceInformation.httpBrowserTimeDifference", -1, device.HTTPBrowserTimeDifference)
	visit("deviceInformation.userAgentBrowserValue", -1, device.UserAgentBrowserValue)

	for i := range r.AuthenticatedIdentities {
		identity := &r.AuthenticatedIdentities[i]
		visit("authenticatedIdentities[].id", i, identity.ID)
		visit("authenticatedIdentities[].provider", i, string(identity.Provider))
		visit("authenticatedIdentities[].data", i, identity.Data)
		visit("authenticatedIdentities[].relyingPartyId", i, identity.RelyingPartyID)
		visit("authenticatedIdentities[].userAuthenticationMethod", i, string(identity.UserAuthenticationMethod))
	}
}
