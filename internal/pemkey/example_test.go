package pemkey_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/paycreds/tms/internal/pemkey"
)

// ExampleParsePrivateKey loads an MLE private key in encrypted PKCS#8 (PBES2 with
// PBKDF2-hmacWithSHA256 and aes256-CBC) and shows the error for a missing password.
func ExampleParsePrivateKey() {
	data, err := os.ReadFile("testdata/mle-private-key.encrypted.pem")
	if err != nil {
		log.Fatal(err)
	}

	key, err := pemkey.ParsePrivateKey(data, []byte("fixture-password"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("modulus bits:", key.N.BitLen())

	_, err = pemkey.ParsePrivateKey(data, nil)
	fmt.Println("password required:", errors.Is(err, pemkey.ErrPasswordRequired))

	// Output:
	// modulus bits: 2048
	// password required: true
}

// ExampleParseCertificates reads the certificates of a PEM file.
func ExampleParseCertificates() {
	data, err := os.ReadFile("testdata/cybersource-sjc-us.crt")
	if err != nil {
		log.Fatal(err)
	}

	certs, err := pemkey.ParseCertificates(data)
	if err != nil {
		log.Fatal(err)
	}
	for _, cert := range certs {
		fmt.Println(cert.Subject.CommonName)
	}

	// Output:
	// CyberSource_SJC_US
}
