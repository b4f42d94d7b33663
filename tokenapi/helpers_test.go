package tokenapi_test

import (
	"crypto/rsa"
	"os"
	"testing"

	"github.com/paycreds/tms/tokenapi"
)

// fixtureKey loads the MLE private key the JWE fixtures were encrypted to.
func fixtureKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("testdata/mle-private-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	key, err := tokenapi.ParseMLEKey(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
