// Command connectorctl adds, lists, reads and removes the members of an
// application's connector group, through the client package.
//
//	connectorctl add --app ID --machine-name NAME --external-ip IP --status S [--id ID]
//	connectorctl list --app ID [--page-size N]
//	connectorctl get --app ID --id ID
//	connectorctl remove --app ID --id ID [--ignore-not-found]
//	connectorctl version | completion bash|zsh|fish|powershell
//
// --server and --token (or CONNECTORCTL_SERVER and CONNECTORCTL_TOKEN), -o,
// -q, --timeout and --retries go before or after the command. An API or
// network error prints the code, the message and the request-id and exits 1;
// a usage error exits 2; an interrupt exits 130.
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
