package tokenapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/paycreds/tms/internal/sandbox"
	"github.com/paycreds/tms/tokenapi"
)

// Size of the soak test.
const (
	soakCalls   = 20000
	soakWorkers = 8
	soakRounds  = 10 // heap and goroutines are sampled after each round
)

// soakSample is the state of the process after one round of the soak test.
type soakSample struct {
	calls      int
	goroutines int
	heapBytes  uint64
}

// TestSoak makes 20,000 calls against the sandbox through one Client, from 8 goroutines,
// and samples the heap (after a GC) and the goroutine count after each tenth. Goroutines
// must return to the baseline and the heap must not grow from round to round. Most calls
// take the ...JWE path, because RSA decryption would dominate the run; every 50th
// decrypts and every 10th fails with a 404.
//
// The race detector slows this test several times over and adds memory of its own, so
// it is skipped under -race; `make soak` runs it without.
func TestSoak(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped under -race; run by `make soak`")
	}
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	merchant, key, err := sandbox.GenerateMerchant("soak_test")
	if err != nil {
		t.Fatal(err)
	}
	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens()})
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(server)
	defer httpServer.Close()
	runtime.GC()
	baseline := runtime.NumGoroutine()

	client, err := tokenapi.New(
		tokenapi.WithBaseURL(httpServer.URL),
		tokenapi.WithHTTPSignature(merchant.ID, merchant.KeyID, merchant.SecretKey),
		tokenapi.WithMLEKey(key),
	)
	if err != nil {
		t.Fatal(err)
	}

	perRound := soakCalls / soakRounds
	samples := make([]soakSample, 0, soakRounds)
	for round := range soakRounds {
		if err := soakRound(client, round*perRound, perRound); err != nil {
			t.Fatalf("round %d: %v", round+1, err)
		}
		runtime.GC()
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)
		samples = append(samples, soakSample{calls: (round + 1) * perRound, goroutines: runtime.NumGoroutine(), heapBytes: mem.HeapAlloc})
	}
	for _, s := range samples {
		t.Logf("after %5d calls: %3d goroutines, heap %6.2f MiB", s.calls, s.goroutines, float64(s.heapBytes)/(1<<20))
	}

	// Between rounds, each idle keep-alive connection holds two goroutines in the client's
	// transport and one in the server. Usually there is one per worker, but a request
	// that finds no idle connection dials a new one, and that one stays idle if another
	// connection came free first. The client's transport keeps at most 16 idle
	// connections per host (MaxIdleConnsPerHost).
	const maxIdleConnections = 16
	limit := baseline + 3*maxIdleConnections
	for _, s := range samples {
		if s.goroutines > limit {
			t.Errorf("%d goroutines after %d calls, over the baseline %d plus 3 for each of at most %d idle connections", s.goroutines, s.calls, baseline, maxIdleConnections)
		}
	}

	// The first round warms up caches and pools. The median of the last three samples
	// must stay within 25% and 2 MiB of the median of the three after the warm-up. The
	// medians are 12,000 calls apart, so a leak of 200 bytes per call fails the check.
	early := medianHeap(samples[1:4])
	late := medianHeap(samples[len(samples)-3:])
	if late > early+early/4+2<<20 {
		t.Errorf("the heap grew from %.2f MiB to %.2f MiB over the run", float64(early)/(1<<20), float64(late)/(1<<20))
	}

	client.CloseIdleConnections()
	waitForGoroutines(t, baseline)
	t.Logf("after closing idle connections: %d goroutines, baseline %d", runtime.NumGoroutine(), baseline)
}

// soakRound makes calls numbered first to first+count-1 from soakWorkers goroutines and
// returns the first unexpected outcome.
func soakRound(client *tokenapi.Client, first, count int) error {
	next := make(chan int)
	errs := make(chan error, soakWorkers)
	var wg sync.WaitGroup
	for range soakWorkers {
		wg.Go(func() {
			for n := range next {
				if err := soakCall(client, n); err != nil {
					errs <- fmt.Errorf("call %d: %w", n, err)
					for range next {
					}
					return
				}
			}
		})
	}
	for n := first; n < first+count; n++ {
		next <- n
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

func soakCall(client *tokenapi.Client, n int) error {
	ctx := context.Background()
	switch {
	case n%10 == 9:
		_, err := client.GeneratePaymentCredentialsV3JWE(ctx, "7030000000000099999", nil)
		var apiErr *tokenapi.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
			return unexpected(err, "a 404 *APIError")
		}
		return nil
	case n%50 == 0:
		creds, err := client.GeneratePaymentCredentials(ctx, sandbox.DemoVisaTokenID, nil)
		if err == nil && creds.TokenizedCard.Cryptogram == "" {
			err = errors.New("no cryptogram")
		}
		return err
	default:
		_, err := client.GeneratePaymentCredentialsJWE(ctx, sandbox.DemoMastercardTokenID, nil)
		return err
	}
}

func medianHeap(samples []soakSample) uint64 {
	heaps := make([]uint64, len(samples))
	for i, s := range samples {
		heaps[i] = s.heapBytes
	}
	slices.Sort(heaps)
	return heaps[len(heaps)/2]
}
