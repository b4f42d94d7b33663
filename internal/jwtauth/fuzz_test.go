package jwtauth

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseBearer checks that no Authorization header makes parsing, verification or the
// claim checks panic, and that nothing verifies without the right key.
func FuzzParseBearer(f *testing.F) {
	rs256, hs256 := loadRecordings(f)
	f.Add(rs256.AuthorizationHeader)
	f.Add(hs256.AuthorizationHeader)
	f.Add("Bearer a.b.c")
	f.Add("Bearer eyJhbGciOiJub25lIiwia2lkIjoiayJ9.e30.")
	secret := hs256.secret(f)

	f.Fuzz(func(t *testing.T, header string) {
		token, err := ParseBearer(header)
		if err != nil {
			return
		}
		claims, err := token.Verify(secret)
		if err != nil {
			return
		}
		if !strings.Contains(header, strings.TrimPrefix(hs256.AuthorizationHeader, "Bearer ")[:20]) {
			t.Errorf("a token unrelated to the recording verified with its secret: %q", header)
		}
		_ = claims.Check(Expectation{Method: "POST", Hosts: []string{"h"}, Target: "/", Now: time.Unix(claims.IssuedAt, 0)})
	})
}
