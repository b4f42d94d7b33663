package tokenapi

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLibraryStaysLean checks that a program importing tokenapi links neither the sandbox,
// the spec validator, kin-openapi nor the command line tool.
func TestLibraryStaysLean(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/paycreds/tms/tokenapi").CombinedOutput()
	if err != nil {
		t.Fatalf("go list failed: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/getkin/kin-openapi",
		"github.com/paycreds/tms/internal/sandbox",
		"github.com/paycreds/tms/internal/spec",
		"github.com/paycreds/tms/cmd/",
		"github.com/paycreds/tms/api",
		"github.com/oapi-codegen/oapi-codegen",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, prefix := range forbidden {
			if strings.HasPrefix(pkg, prefix) {
				t.Errorf("tokenapi depends on %s", pkg)
			}
		}
	}
}
