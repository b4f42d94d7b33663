package tokenapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/paycreds/tms/tokenapi"
)

// A merchant's service generating payment credentials for a stored token. The key id,
// shared secret and MLE key come from the CyberSource Business Center.
func Example() {
	mleKey, err := tokenapi.LoadMLEKeyFile("mle-private-key.pem", []byte(os.Getenv("MLE_KEY_PASSWORD")))
	if err != nil {
		log.Fatal(err)
	}
	client, err := tokenapi.New(
		tokenapi.WithEnvironment(tokenapi.Sandbox),
		tokenapi.WithHTTPSignature(os.Getenv("CYBERSOURCE_MERCHANT_ID"), os.Getenv("CYBERSOURCE_KEY_ID"), os.Getenv("CYBERSOURCE_SECRET_KEY")),
		tokenapi.WithMLEKey(mleKey),
	)
	if err != nil {
		log.Fatal(err)
	}

	creds, err := client.GeneratePaymentCredentials(context.Background(), "7010000000016241111",
		&tokenapi.PaymentCredentialsRequest{PaymentCredentialType: tokenapi.Cryptogram})
	var apiErr *tokenapi.APIError
	switch {
	case errors.As(err, &apiErr):
		log.Fatalf("CyberSource returned %d %s (correlation id %s)", apiErr.StatusCode, apiErr.Type, apiErr.CorrelationID)
	case err != nil:
		log.Fatal(err)
	}

	// Printing masks the network token and hides the cryptogram.
	fmt.Println(creds)
	// Reveal gives the values to put in the authorization request.
	authorize(creds.TokenizedCard.Number.Reveal(), creds.TokenizedCard.Cryptogram.Reveal(), creds.TokenizedCard.ECI)
}

func authorize(networkToken, cryptogram, eci string) {}

// Decrypting a JWE received some other way, such as from a queue.
func ExampleDecrypter_Decrypt() {
	data, err := os.ReadFile("testdata/mle-private-key.pem")
	if err != nil {
		log.Fatal(err)
	}
	key, err := tokenapi.ParseMLEKey(data, nil)
	if err != nil {
		log.Fatal(err)
	}
	decrypter, err := tokenapi.NewDecrypter([]tokenapi.MLEKey{{Key: key}}, tokenapi.DecrypterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	jwe, err := os.ReadFile("testdata/v2-visa-cryptogram.jwe")
	if err != nil {
		log.Fatal(err)
	}

	creds, err := decrypter.Decrypt(string(jwe))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(creds.TokenizedCard)
	fmt.Println(creds.TokenizedCard.Number.Last4())
	// Output:
	// type: visa, state: ACTIVE, number: ****3175, expiration: 08/2031, cryptogram: [REDACTED], eci: 07, requestorId: 40010030273, cardSuffix: 1111
	// 3175
}

// Key rotation: CyberSource names the key it encrypted to in the JWE's kid, so with
// several keys each needs its kid.
func ExampleWithMLEKeys() {
	oldKey, err := tokenapi.LoadMLEKeyFile("mle-2024.pem", nil)
	if err != nil {
		log.Fatal(err)
	}
	newKey, err := tokenapi.LoadMLEKeyFile("mle-2027.pem", nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = tokenapi.New(
		tokenapi.WithEnvironment(tokenapi.Production),
		tokenapi.WithHTTPSignature("merchant", "key-id", "c2VjcmV0"),
		tokenapi.WithMLEKeys(
			tokenapi.MLEKey{KeyID: "a0eb65d572e556fddb68eb3a4078555605f7b283", Key: oldKey},
			tokenapi.MLEKey{KeyID: "3f1c9d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d", Key: newKey},
		),
	)
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleCardNumber() {
	number := tokenapi.CardNumber("4895370015293175")
	cryptogram := tokenapi.Secret("AQAAAAAAAQfcXV8gAAAAAAAAAAA=")
	fmt.Println(number, cryptogram)
	fmt.Printf("%q %x\n", number, cryptogram)
	fmt.Println(number.Reveal())
	// Output:
	// ****3175 [REDACTED]
	// "****3175" [REDACTED]
	// 4895370015293175
}

// JWT authentication with the P12 file from the CyberSource Business Center, with
// requests encrypted to CyberSource's certificate from the same file and responses
// encrypted to the merchant's MLE key. The P12 password defaults to the merchant id.
func ExampleWithP12JWT() {
	merchantID := os.Getenv("CYBERSOURCE_MERCHANT_ID")
	p12, err := tokenapi.LoadP12File(merchantID+".p12", merchantID, os.Getenv("CYBERSOURCE_P12_PASSWORD"))
	if err != nil {
		log.Fatal(err) // names the password, alias, key or format as the fault
	}
	mleKey, err := tokenapi.LoadMLEKeyFile("mle-private-key.pem", nil)
	if err != nil {
		log.Fatal(err)
	}
	client, err := tokenapi.New(
		tokenapi.WithEnvironment(tokenapi.Sandbox),
		tokenapi.WithP12JWT(merchantID, p12),
		tokenapi.WithMLEKeys(tokenapi.MLEKey{KeyID: os.Getenv("CYBERSOURCE_MLE_KEY_ID"), Key: mleKey}),
		tokenapi.WithRequestEncryption(p12.CyberSourceCertificate),
		tokenapi.WithResponseEncryption(os.Getenv("CYBERSOURCE_MLE_KEY_ID")),
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = client
}
