package tokenapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestMLEKeyPrintsNoKeyMaterial(t *testing.T) {
	key := fixtureKey(t)
	entry := MLEKey{KeyID: "kid-1", Key: key}

	var records bytes.Buffer
	logger := slog.New(slog.NewMultiHandler(slog.NewJSONHandler(&records, nil), slog.NewTextHandler(&records, nil)))
	logger.Info("configured", "mle_key", entry, "mle_keys", []MLEKey{entry})
	encoded, err := json.Marshal(map[string]any{"keys": []MLEKey{entry}})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"slog":    records.String(),
		"JSON":    string(encoded),
		"fmt %v":  fmt.Sprintf("%v", entry),
		"fmt %+v": fmt.Sprintf("%+v", []MLEKey{entry}),
		"fmt %#v": fmt.Sprintf("%#v", entry),
	}
	for name, output := range outputs {
		for _, material := range []string{key.D.String(), key.Primes[0].String(), key.Primes[1].String()} {
			if strings.Contains(output, material) {
				t.Errorf("%s prints private key material: %.200s", name, output)
			}
		}
	}
	if !strings.Contains(outputs["JSON"], `{"kid":"kid-1","key":"RSA-2048 private key"}`) {
		t.Errorf("JSON = %s, want the kid and the kind of key", outputs["JSON"])
	}
	if !strings.Contains(outputs["slog"], `"mle_key":{"kid":"kid-1","key":"RSA-2048 private key"}`) {
		t.Errorf("slog = %s, want the kid and the kind of key", outputs["slog"])
	}
}
