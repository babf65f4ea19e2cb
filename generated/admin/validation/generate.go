// Package validation checks requests to the admin API against
// openapi/admin.yaml: plain Go written by internal/validatorgen.
// Never edit validation.gen.go by hand.
package validation

//go:generate go run ../../../internal/validatorgen -spec ../admin.bundled.yaml -models ../admin.gen.go -models-import github.com/connector-group/members-api/generated/admin -server ../adminserver/server.gen.go -server-import github.com/connector-group/members-api/generated/admin/adminserver -package validation -out validation.gen.go -values-out ../values.gen.go
