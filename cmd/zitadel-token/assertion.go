package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-serviceuser/serviceuser"
)

// assertionOptions are the flags of assertion.
type assertionOptions struct {
	keyFlags
	issuerFlag
	lifetime time.Duration
}

func (o *assertionOptions) define(fs *flagSet) {
	o.keyFlags.define(fs)
	o.issuerFlag.define(fs)
	fs.durationVar(&o.lifetime, "lifetime", time.Hour) // the library's default and ZITADEL's maximum
}

// run prints one signed JWT assertion for the key.
func (o *assertionOptions) run(_ context.Context, _ *invocation, stdout io.Writer) error {
	if o.lifetime <= 0 {
		return usageErrorf("-lifetime must be more than 0")
	}
	if err := o.check(); err != nil {
		return err
	}
	if err := o.requireIssuer(); err != nil {
		return err
	}
	key, err := o.loadValidKey()
	if err != nil {
		return err
	}
	jwt, err := serviceuser.SignAssertion(key, o.issuer, o.lifetime)
	if ce := (*serviceuser.ConfigError)(nil); errors.As(err, &ce) && ce.Field == "lifetime" {
		return usageErrorf("-lifetime %s", ce.Problem)
	}
	if err != nil {
		return classified(err)
	}
	_, err = fmt.Fprintln(stdout, jwt)
	return err
}
