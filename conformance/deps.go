package conformance

// Blank imports keep the module's dependencies listed until code uses them.
import (
	_ "github.com/go-serviceuser/serviceuser"
	_ "github.com/go-serviceuser/serviceuser/serviceusertest"
	_ "github.com/zitadel/oidc/v3/pkg/client/profile"
	_ "github.com/zitadel/oidc/v3/pkg/oidc"
	_ "github.com/zitadel/oidc/v3/pkg/op"
	_ "google.golang.org/grpc/credentials/oauth"
	_ "google.golang.org/grpc/health"
	_ "google.golang.org/grpc/health/grpc_health_v1"
)
