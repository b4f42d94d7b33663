package tokenapi_test

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/paycreds/tms/tokenapi"
)

// Retrying 429 and gateway errors within a time budget, with each retry logged. The
// caller's context still bounds the whole call.
func ExampleWithRetry() {
	client, err := tokenapi.New(
		tokenapi.WithEnvironment(tokenapi.Production),
		tokenapi.WithHTTPSignature(os.Getenv("CYBERSOURCE_MERCHANT_ID"), os.Getenv("CYBERSOURCE_KEY_ID"), os.Getenv("CYBERSOURCE_SECRET_KEY")),
		tokenapi.WithTimeout(10*time.Second),
		tokenapi.WithRetry(tokenapi.RetryPolicy{MaxAttempts: 4, Budget: 8 * time.Second}),
		tokenapi.WithLogger(slog.Default()),
	)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	encrypted, err := client.GeneratePaymentCredentialsJWE(ctx, "7010000000016241111", nil)
	var apiErr *tokenapi.APIError
	switch {
	case errors.As(err, &apiErr):
		log.Fatalf("CyberSource returned %d after %d attempts", apiErr.StatusCode, apiErr.Attempts)
	case errors.Is(err, tokenapi.ErrTransport):
		// The request may have reached CyberSource; a new call mints new credentials.
		log.Fatal(err)
	case err != nil:
		log.Fatal(err)
	}
	log.Printf("received a JWE for kid %s", encrypted.KeyID)
}
