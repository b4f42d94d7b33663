// Package gen contains the request and response types and the HTTP client that oapi-codegen
// generates from api/openapi.yaml. Do not edit client.gen.go: change the spec or
// api/oapi-codegen.yaml and run `make generate`.
//
// Most programs use package tokenapi, which adds authentication, input checks and JWE
// decryption on top of this client.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../api/oapi-codegen.yaml ../api/openapi.yaml
