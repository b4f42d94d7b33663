package tokenapitest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/paycreds/tms/tokenapi"
	"github.com/paycreds/tms/tokenapi/tokenapitest"
)

// A client generating credentials from the test server. In a test, NewServer(t) replaces
// Start and Close.
func Example() {
	srv, err := tokenapitest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := tokenapi.New(srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	creds, err := client.GeneratePaymentCredentials(context.Background(), tokenapitest.VisaTokenID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(creds.TokenizedCard.Type, creds.TokenizedCard.Number, creds.TokenizedCard.ECI)
	// Output:
	// visa ****0015 07
}

// A token that fails twice with 503 and then succeeds, to test a retry policy.
func ExampleServer_AddToken() {
	srv, err := tokenapitest.Start(tokenapitest.WithoutDemoTokens())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	err = srv.AddToken(tokenapitest.Token{
		ID:      "7030000000000012345",
		Network: tokenapitest.Mastercard,
		Fault:   "status=503,times=2",
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := tokenapi.New(srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	for range 3 {
		creds, err := client.GeneratePaymentCredentials(context.Background(), "7030000000000012345", nil)
		var apiErr *tokenapi.APIError
		switch {
		case errors.As(err, &apiErr):
			fmt.Println(apiErr.StatusCode, apiErr.Type)
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println("201", creds.TokenizedCard.Type)
		}
	}
	// Output:
	// 503 internalError
	// 503 internalError
	// 201 mastercard
}

// Every call of a client meeting a fault: here the HTML page a proxy sends.
func ExampleFaultTransport() {
	srv, err := tokenapitest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	httpClient := &http.Client{Transport: tokenapitest.FaultTransport(nil, "html-error")}
	client, err := tokenapi.New(append(srv.ClientOptions(), tokenapi.WithHTTPClient(httpClient))...)
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.GeneratePaymentCredentialsV3(context.Background(), tokenapitest.VisaTokenID, nil)
	var apiErr *tokenapi.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.ContentType, apiErr.Type == "")
	}
	// Output:
	// 502 text/html; charset=utf-8 true
}

// A client with JWT authentication and message-level encryption: the JWT is signed with
// the key of the server's P12 file, the request is encrypted to CyberSource's
// certificate and the response to the MLE key.
func ExampleServer_JWTClientOptions() {
	srv, err := tokenapitest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := tokenapi.New(append(srv.JWTClientOptions(),
		tokenapi.WithRequestEncryption(srv.CyberSourceCertificate()),
		tokenapi.WithResponseEncryption(srv.MLEKeyID()),
	)...)
	if err != nil {
		log.Fatal(err)
	}
	creds, err := client.GeneratePaymentCredentials(context.Background(), tokenapitest.VisaTokenID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(creds.TokenizedCard.Type, creds.TokenizedCard.Number, creds.TokenizedCard.Cryptogram)

	request := srv.Requests()[0]
	fmt.Println("encrypted request:", request.EncryptedRequest, "encrypted response:", request.EncryptedResponse)
	// Output:
	// visa ****0015 [REDACTED]
	// encrypted request: true encrypted response: true
}
