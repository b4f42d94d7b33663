package tokenapi

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/paycreds/tms/api"
	"github.com/paycreds/tms/gen"
)

func TestValidateTokenID(t *testing.T) {
	valid := []string{"7010000000016241111", "F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6", "a", "tok_1-2"}
	for _, id := range valid {
		if p := validateTokenID(id); p != nil {
			t.Errorf("validateTokenID(%q) = %s", id, p.Problem)
		}
	}
	invalid := map[string]string{
		"":                      "is empty",
		strings.Repeat("7", 33): "33 characters, over the maximum of 32",
		"../x":                  `'.' at position 1`,
		"a/b":                   `'/' at position 2`,
		"%2e%2e":                `'%' at position 1`,
		"70100 00":              "byte 0x20 at position 6",
		"7010\n00":              "byte 0x0a at position 5",
		"7010\x00":              "byte 0x00 at position 5",
		"7010é":                 "byte 0xc3 at position 5",
		"7010?x=1":              `'?' at position 5`,
		"7010#frag":             `'#' at position 5`,
	}
	for id, want := range invalid {
		p := validateTokenID(id)
		if p == nil {
			t.Errorf("validateTokenID(%q) accepted it", id)
			continue
		}
		if p.Field != "tokenId" || !strings.Contains(p.Problem, want) {
			t.Errorf("validateTokenID(%q) = %s %s, want a problem containing %q", id, p.Field, p.Problem, want)
		}
	}
}

func TestValidateProfileID(t *testing.T) {
	if p := validateProfileID("93B32398-AD51-4CC2-A682-EA3E93614EB1"); p != nil {
		t.Errorf("a UUID was rejected: %s", p.Problem)
	}
	for _, id := range []string{"93B32398", strings.Repeat("x", 37), "93B32398-AD51-4CC2-A682-EA3E93614EB\n", "93B32398 AD51-4CC2-A682-EA3E93614EB1"} {
		if p := validateProfileID(id); p == nil || p.Field != "profile-id" {
			t.Errorf("validateProfileID(%q) = %v, want a problem", id, p)
		}
	}
}

func TestValidateRequestBody(t *testing.T) {
	ok := &PaymentCredentialsRequest{
		PaymentCredentialType: Cryptogram,
		TransactionType:       Ecommerce,
		ClientCorrelationID:   strings.Repeat("a", 36),
		OrderInformation: OrderInformation{BillTo: BillTo{
			FirstName: strings.Repeat("é", 60), // 60 characters, 120 bytes
			Country:   "US",
		}},
		AuthenticatedIdentities: []AuthenticatedIdentity{{
			ID: strings.Repeat("i", 50), Provider: gen.IdentityProviderVisaPaymentPasskey,
			Data: strings.Repeat("d", 17000), UserAuthenticationMethod: gen.UserAuthenticationMethodBiometric,
		}},
	}
	if problems := validateRequestBody(ok); len(problems) != 0 {
		t.Fatalf("a request at every limit was rejected: %v", problems)
	}

	bad := &PaymentCredentialsRequest{
		PaymentCredentialType: "CRYPTO",
		TransactionType:       "ecom",
		ClientCorrelationID:   strings.Repeat("a", 37),
		OrderInformation:      OrderInformation{BillTo: BillTo{Country: "USA", FirstName: "\xff"}},
		DeviceInformation:     DeviceInformation{PlatformType: "ios", HTTPBrowserLanguage: "en-US-x-abc"},
		AuthenticatedIdentities: []AuthenticatedIdentity{
			{ID: "ok"},
			{ID: strings.Repeat("i", 51), Provider: "PASSKEY", UserAuthenticationMethod: "FACE"},
		},
	}
	got := map[string]string{}
	for _, p := range validateRequestBody(bad) {
		got[p.Field] += p.Problem
	}
	want := map[string]string{
		"paymentCredentialType":                               `"CRYPTO"; use one of NETWORK_TOKEN, SECURITY_CODE, CRYPTOGRAM`,
		"transactionType":                                     `"ecom"; use one of ECOM, AFT`,
		"clientCorrelationId":                                 "37 characters, over the maximum of 36",
		"orderInformation.billTo.country":                     "3 characters, over the maximum of 2",
		"orderInformation.billTo.firstName":                   "not valid UTF-8",
		"deviceInformation.platformType":                      `"ios"`,
		"deviceInformation.httpBrowserLanguage":               "11 characters, over the maximum of 8",
		"authenticatedIdentities[1].id":                       "51 characters, over the maximum of 50",
		"authenticatedIdentities[1].provider":                 `"PASSKEY"`,
		"authenticatedIdentities[1].userAuthenticationMethod": `"FACE"`,
	}
	for field, problem := range want {
		if !strings.Contains(got[field], problem) {
			t.Errorf("%s: got %q, want it to contain %q", field, got[field], problem)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got problems for %d fields, want %d: %v", len(got), len(want), got)
	}
}

func TestValidationErrorMatches(t *testing.T) {
	err := validateCall("a/b", &PaymentCredentialsRequest{ClientCorrelationID: strings.Repeat("x", 40)}, callSettings{profileID: "short"})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("error = %v, want ErrInvalidRequest", err)
	}
	var validation *ValidationError
	if !errors.As(err, &validation) || len(validation.Fields) != 3 {
		t.Fatalf("error = %#v, want a *ValidationError with 3 fields", err)
	}
	for _, field := range []string{"tokenId", "profile-id", "clientCorrelationId"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("message %q does not name %s", err, field)
		}
	}
}

// loadSpec parses api/openapi.yaml with kin-openapi, as only tests of this package do.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// specLimits walks a schema and collects the maxLength and enum of every string
// property, keyed by dotted path as in requestLimits.
func specLimits(schema *openapi3.Schema, prefix string, out map[string]stringLimit) {
	for name, ref := range schema.Properties {
		property := ref.Value
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		switch {
		case property.Type.Is("object"):
			specLimits(property, path, out)
		case property.Type.Is("array"):
			specLimits(property.Items.Value, path+"[]", out)
		case property.Type.Is("string"):
			var limit stringLimit
			if property.MaxLength != nil {
				limit.maxLength = int(*property.MaxLength)
			}
			for _, v := range property.Enum {
				limit.enum = append(limit.enum, v.(string))
			}
			if limit.maxLength != 0 || limit.enum != nil {
				out[path] = limit
			}
		}
	}
}

func TestLimitsMatchSpec(t *testing.T) {
	doc := loadSpec(t)

	for _, path := range []string{"/tms/v2/tokens/{tokenId}/payment-credentials", "/tms/v3/tokens/{tokenId}/payment-credentials"} {
		operation := doc.Paths.Value(path).Post
		body := operation.RequestBody.Value.Content.Get("application/json;charset=utf-8")
		if body == nil {
			t.Fatalf("%s: no application/json;charset=utf-8 request body", path)
		}
		fromSpec := map[string]stringLimit{}
		specLimits(body.Schema.Value, "", fromSpec)
		if !reflect.DeepEqual(fromSpec, requestLimits) {
			t.Errorf("%s: request limits differ from the spec\nspec:   %v\nclient: %v", path, fromSpec, requestLimits)
		}

		tokenID := operation.Parameters.GetByInAndName("path", "tokenId").Schema.Value
		if int(tokenID.MinLength) != tokenIDMinLength || int(*tokenID.MaxLength) != tokenIDMaxLength {
			t.Errorf("%s: tokenId length %d..%d in the spec, %d..%d in the client", path, tokenID.MinLength, *tokenID.MaxLength, tokenIDMinLength, tokenIDMaxLength)
		}
		profile := operation.Parameters.GetByInAndName("header", "profile-id").Schema.Value
		if int(profile.MinLength) != profileIDLength || int(*profile.MaxLength) != profileIDLength {
			t.Errorf("%s: profile-id length %d..%d in the spec, %d in the client", path, profile.MinLength, *profile.MaxLength, profileIDLength)
		}
	}
}

func TestEnvironmentsMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	var fromSpec []string
	for _, server := range doc.Servers {
		fromSpec = append(fromSpec, server.URL)
	}
	var fromClient []string
	for _, env := range Environments() {
		if strings.HasPrefix(env.Name(), "mutual-tls") {
			continue // reachable only with a client certificate, so not listed in the spec
		}
		fromClient = append(fromClient, env.BaseURL())
	}
	sort.Strings(fromSpec)
	sort.Strings(fromClient)
	if !reflect.DeepEqual(fromSpec, fromClient) {
		t.Errorf("servers in the spec %v, environments in the client %v", fromSpec, fromClient)
	}
}

// TestVisitorCoversEveryStringField fills every string field of a request by reflection
// and checks that visitStringFields reports each one, so a field added to the spec cannot
// escape validation.
func TestVisitorCoversEveryStringField(t *testing.T) {
	var request PaymentCredentialsRequest
	fillStrings(reflect.ValueOf(&request).Elem(), 0)

	count := countStrings(reflect.ValueOf(request))
	visited := 0
	visitStringFields(&request, func(path string, index int, value string) {
		if value == "" {
			t.Errorf("%s was visited with an empty value; the visitor reads the wrong field", path)
		}
		visited++
	})
	if visited != count {
		t.Errorf("visited %d string fields, the request type has %d", visited, count)
	}
}

func fillStrings(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fillStrings(v.Field(i), depth+1)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := 0; i < v.Len(); i++ {
			fillStrings(v.Index(i), depth+1)
		}
	}
}

func countStrings(v reflect.Value) int {
	switch v.Kind() {
	case reflect.String:
		return 1
	case reflect.Struct:
		n := 0
		for i := 0; i < v.NumField(); i++ {
			n += countStrings(v.Field(i))
		}
		return n
	case reflect.Slice:
		n := 0
		for i := 0; i < v.Len(); i++ {
			n += countStrings(v.Index(i))
		}
		return n
	}
	return 0
}

// TestResultTypesMatchSpec checks that the handwritten result types have a field for every
// property of the PaymentCredentials schema, and no others, at every level.
func TestResultTypesMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	schema := doc.Components.Schemas["PaymentCredentials"].Value
	compareFields(t, "PaymentCredentials", schema, reflect.TypeOf(PaymentCredentials{}))
}

func compareFields(t *testing.T, where string, schema *openapi3.Schema, typ reflect.Type) {
	t.Helper()
	fields := map[string]reflect.Type{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
	}
	for name, ref := range schema.Properties {
		fieldType, ok := fields[name]
		if !ok {
			t.Errorf("%s: the spec has %q, the Go type has no field for it", where, name)
			continue
		}
		delete(fields, name)
		property := ref.Value
		switch {
		case property.Type.Is("object"):
			compareFields(t, where+"."+name, property, fieldType)
		case property.Type.Is("string"):
			if fieldType.Kind() != reflect.String {
				t.Errorf("%s.%s: string in the spec, %s in Go", where, name, fieldType)
			}
		case property.Type.Is("boolean"):
			if fieldType != reflect.TypeOf((*bool)(nil)) {
				t.Errorf("%s.%s: boolean in the spec, %s in Go", where, name, fieldType)
			}
		}
	}
	for name := range fields {
		t.Errorf("%s: the Go type has %q, which the spec lacks", where, name)
	}
}
