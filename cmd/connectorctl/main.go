// Command connectorctl adds, lists, reads and removes the members of an
// application's connector group through the generated client.
//
//	connectorctl add --app ID --machine-name NAME --external-ip IP --status S [--id ID]
//	connectorctl list --app ID
//	connectorctl get --app ID --id ID
//	connectorctl remove --app ID --id ID
//
// An API error prints its code, message and request-id on stderr and exits 1;
// a usage error exits 2.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
