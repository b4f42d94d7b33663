//go:build !(linux || darwin || freebsd)

package tokenapi_test

import "testing"

// startCPUClock reports nothing on systems where the tests do not read getrusage.
func startCPUClock(*testing.B) (stop func()) { return func() {} }
