// Package api embeds the OpenAPI document that describes the two payment-credentials
// operations. The sandbox validates requests and responses against it, and tests compare
// the client's limits with it. Package tokenapi does not import it.
package api

import _ "embed"

// OpenAPI is the content of openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
