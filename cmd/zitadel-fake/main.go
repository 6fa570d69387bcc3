// Command zitadel-fake runs a fake ZITADEL instance that programs and
// people can use, over HTTP on a real port: the library's serviceusertest
// server with a service user key, an API application key, a client secret
// and a personal access token written into a directory, and the variables
// that point to them printed as "export NAME=value" lines:
//
//	eval "$(zitadel-fake &)"    # in the background; stop it with kill "$ZITADEL_FAKE_PID"
//	zitadel-fake -listen 127.0.0.1:0 -latency 200ms -dir ./fake
//
// The eval form needs the built command (go build or go install): go run
// keeps standard output open for as long as the fake runs.
//
// It answers as ZITADEL does (see package serviceusertest). An admin
// endpoint on a second listener turns its knobs while it runs: latency,
// failures, projection delay, token lifetime, clock offset; and reports
// what it saw. It runs until SIGINT or SIGTERM, then exits 0. Run
// "zitadel-fake -h" for the flags, the variables and the admin paths.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

const progName = "zitadel-fake"

// Exit codes.
const (
	exitOK      = 0 // stopped by SIGINT or SIGTERM, or -h
	exitFailure = 1 // could not start: address in use, directory not writable...
	exitUsage   = 2 // bad command line
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command: it serves until ctx is done. stdout gets the
// export lines only, and is closed after them when it is an io.Closer, so
// that a shell's $(zitadel-fake &) returns while the fake runs on.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v (see %s -h)\n", progName, err, progName)
		return exitUsage
	}
	if err := serve(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitFailure
	}
	return exitOK
}

// serve starts the fake and its admin endpoint, writes the credentials,
// prints the variables and waits for ctx; then it stops everything and
// removes a temporary credentials directory.
func serve(ctx context.Context, o *options, stdout, stderr io.Writer) (err error) {
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := serviceusertest.NewServer(serviceusertest.WithListener(l))
	defer srv.Close()
	domain := o.domain
	if domain == "" {
		domain = reachableHost(o.listen, l.Addr())
	}
	srv.SetInstanceDomain(domain)

	k := newKnobs(srv, o.knobs)
	if err := k.fail(endpointToken, o.fail, o.status); err != nil {
		return err
	}
	dir, cleanup, err := credentialsDir(o.dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()
	creds, err := makeCredentials(srv, dir)
	if err != nil {
		return err
	}
	admin, stopAdmin, err := startAdmin(o.admin, k)
	if err != nil {
		return err
	}
	defer stopAdmin()

	if err := printEnv(stdout, environment(srv.Issuer(), admin, creds, os.Getpid())); err != nil {
		return err
	}
	if c, ok := stdout.(io.Closer); ok {
		_ = c.Close()
	}
	fmt.Fprintf(stderr, "%s: ZITADEL at %s, credentials in %s\n", progName, srv.Issuer(), creds.dir)
	if admin != "" {
		fmt.Fprintf(stderr, "%s: admin endpoint at %s/admin/ (see -h)\n", progName, admin)
	}
	fmt.Fprintf(stderr, "%s: running until SIGINT or SIGTERM (kill %d)\n", progName, os.Getpid())
	<-ctx.Done()
	fmt.Fprintf(stderr, "%s: stopped (token requests: %d)\n", progName, srv.TokenRequests())
	return nil
}

// reachableHost is the host:port clients reach a listener at: the host as
// the address asked for it (a name stays a name) with the port listened
// on; 127.0.0.1 for all IPv4 interfaces, [::1] for all IPv6 ones.
func reachableHost(asked string, addr net.Addr) string {
	host, _, _ := net.SplitHostPort(asked)
	_, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}
