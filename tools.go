//go:build tools

// Package tools pins the code generator in go.mod, so `go generate` runs the version
// recorded there and not whatever is installed on the machine.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
