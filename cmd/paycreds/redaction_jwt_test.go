package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paycreds/tms/internal/sandbox"
)

// bearerSecrets adds every bearer token the command sends to the secrets, whole and by
// its JWS signature, and passes the request on.
type bearerSecrets struct {
	next    http.Handler
	secrets *cliSecrets
}

func (b *bearerSecrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		b.secrets.add("bearer token", token)
		if i := strings.LastIndex(token, "."); i >= 0 {
			b.secrets.add("JWS signature", token[i+1:])
		}
	}
	b.next.ServeHTTP(w, r)
}

// TestCommandPrintsNoJWTSecret runs `paycreds get` with JWT from a P12 file and from the
// shared secret, with request and response encryption, encrypted error bodies, retries
// and P12 failures. Standard output and standard error may contain no P12 key or
// password, shared secret, MLE key, bearer token, JWS signature or card data.
func TestCommandPrintsNoJWTSecret(t *testing.T) {
	secrets := &cliSecrets{values: map[string]string{}}
	merchant, mleKey, err := sandbox.GenerateMerchant("cli_jwt_redaction")
	if err != nil {
		t.Fatal(err)
	}
	cert, certKey, err := sandbox.GenerateCertificate(merchant.ID)
	if err != nil {
		t.Fatal(err)
	}
	merchant.Certificates = []*x509.Certificate{cert}
	mleKeyID, err := sandbox.MLEKeyID(&mleKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	requestKey, err := sandbox.GenerateRequestEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	const p12Password = "Cli-Redaction-P12-Passw0rd"
	p12Data, err := sandbox.EncodeP12(certKey, cert, requestKey.Certificate, p12Password)
	if err != nil {
		t.Fatal(err)
	}
	strangerCert, strangerKey, err := sandbox.GenerateCertificate(merchant.ID)
	if err != nil {
		t.Fatal(err)
	}
	strangerData, err := sandbox.EncodeP12(strangerKey, strangerCert, requestKey.Certificate, p12Password)
	if err != nil {
		t.Fatal(err)
	}

	secrets.addSharedSecret("shared secret", merchant.SecretKey)
	secrets.addPrivateKey("MLE private key", mleKey)
	secrets.addPrivateKey("P12 private key", certKey)
	secrets.addPrivateKey("unregistered P12 private key", strangerKey)
	secrets.add("P12 password", p12Password)
	secrets.add("P12 file (base64)", base64.StdEncoding.EncodeToString(p12Data)[:64])
	for _, token := range sandbox.DemoTokens() {
		secrets.add("network token", token.NetworkTokenNumber)
		secrets.add("PAN", token.PAN)
	}

	server, err := sandbox.New(sandbox.Config{Merchants: []sandbox.Merchant{merchant}, Tokens: sandbox.DemoTokens(), RequestEncryption: requestKey})
	if err != nil {
		t.Fatal(err)
	}
	recorder := &signatureRecorder{next: server, secrets: secrets, seen: map[string]bool{}}
	httpServer := httptest.NewServer(&bearerSecrets{next: recorder, secrets: secrets})
	defer httpServer.Close()

	dir := t.TempDir()
	p12File := writeFile(t, dir, "merchant.p12", string(p12Data))
	strangerFile := writeFile(t, dir, "stranger.p12", string(strangerData))
	passwordFile := writeFile(t, dir, "p12-password", p12Password+"\n")
	wrongPasswordFile := writeFile(t, dir, "wrong-password", "Not-The-Password\n")
	secrets.add("wrong P12 password", "Not-The-Password")
	requestCertFile := writeFile(t, dir, "cybersource.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: requestKey.Certificate.Raw})))
	mleKeyFile := writeKey(t, mleKey)
	mleKeyFlag := mleKeyID + "=" + mleKeyFile

	env := map[string]string{envBaseURL: httpServer.URL, envMerchantID: merchant.ID, envKeyID: merchant.KeyID, envSecretKey: merchant.SecretKey}
	withP12 := map[string]string{envBaseURL: httpServer.URL, envMerchantID: merchant.ID, envP12File: p12File, envP12Password: p12Password}
	both := []string{"--encrypt-request", "--encrypt-response", mleKeyID, "--mle-key", mleKeyFlag}
	// With the P12 file named only by the environment, --auth jwt selects JWT.
	withP12Args := func(args ...string) []string {
		return append(append([]string{"get", "--auth", "jwt"}, args...), both...)
	}

	runs := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"P12 table", env, append([]string{"get", "--verbose", "--p12", p12File, "--p12-password-file", passwordFile, sandbox.DemoVisaTokenID}, both...), exitOK},
		{"P12 JSON v3", env, append([]string{"get", "--verbose", "--json", "--api", "v3", "--p12", p12File, "--p12-password-file", passwordFile, sandbox.DemoNoNetworkTokenID}, both...), exitOK},
		{"P12 from the environment, Node claims", withP12, withP12Args("--verbose", "--jwt-node-claims", sandbox.DemoAmericanExpressTokenID), exitOK},
		{"shared secret JWT", env, []string{"get", "--verbose", "--shared-secret-jwt", "--encrypt-request", "--request-cert", requestCertFile, "--encrypt-response", mleKeyID, "--mle-key", mleKeyFlag, sandbox.DemoMastercardTokenID}, exitOK},
		{"503 retried", withP12, withP12Args("--verbose", "--retries", "1", "--correlation-id", "flaky-jwt", sandbox.DemoVisaTokenID), exitOK},
		{"encrypted 410", withP12, withP12Args("--verbose", sandbox.DemoDeletedTokenID), exitError},
		{"encrypted 400", withP12, withP12Args("--verbose", "--type", "CRYPTOGRAM", sandbox.DemoAmericanExpressTokenID), exitError},
		{"502 HTML", withP12, withP12Args("--verbose", "--correlation-id", "html-jwt", sandbox.DemoVisaTokenID), exitError},
		{"401 unregistered P12", env, append([]string{"get", "--verbose", "--p12", strangerFile, "--p12-password-file", passwordFile, sandbox.DemoVisaTokenID}, both...), exitError},
		{"wrong P12 password", env, []string{"get", "--p12", p12File, "--p12-password-file", wrongPasswordFile, sandbox.DemoVisaTokenID}, exitUsage},
		{"P12 password left to the default", env, []string{"get", "--p12", p12File, sandbox.DemoVisaTokenID}, exitUsage},
		{"P12 of another merchant", map[string]string{envBaseURL: httpServer.URL, envMerchantID: "another_merchant"},
			[]string{"get", "--p12", p12File, "--p12-password-file", passwordFile, sandbox.DemoVisaTokenID}, exitUsage},
		{"cut P12 file", env, []string{"get", "--p12", writeFile(t, dir, "cut.p12", string(p12Data[:len(p12Data)/2])), "--p12-password-file", passwordFile, sandbox.DemoVisaTokenID}, exitUsage},
	}
	for _, run := range runs {
		res := runCommand(t, run.env, "", run.args...)
		if res.code != run.code {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", run.name, res.code, run.code, res.stderr)
		}
		secrets.check(t, run.name+" stdout", res.stdout)
		secrets.check(t, run.name+" stderr", res.stderr)
		assertMasked(t, res.stdout+res.stderr)
		if strings.Contains(strings.Join(run.args, " "), "--verbose") && !strings.Contains(res.stderr, "level=DEBUG") {
			t.Errorf("%s: --verbose logged nothing:\n%s", run.name, res.stderr)
		}
	}

	bearerTokens := 0
	for _, label := range secrets.values {
		if label == "bearer token" {
			bearerTokens++
		}
	}
	if bearerTokens < 9 {
		t.Errorf("the server saw %d bearer tokens, want at least 9; the runs no longer reach it", bearerTokens)
	}
}
