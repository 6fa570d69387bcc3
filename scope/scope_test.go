package scope_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/go-serviceuser/serviceuser/scope"
	"github.com/go-serviceuser/serviceuser/serviceusertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestScopeHelpers(t *testing.T) {
	assert.Equal(t, "urn:zitadel:iam:org:project:id:123:aud", scope.ProjectAudience("123"))
	assert.Equal(t, "urn:zitadel:iam:org:id:456", scope.Organization("456"))
	assert.Equal(t, "urn:zitadel:iam:org:project:role:admin", scope.ProjectRole("admin"))
}

// TestZitadelAPIIsTheFakes: the fake grants ZITADEL's APIs for the scope
// the library names.
func TestZitadelAPIIsTheFakes(t *testing.T) {
	assert.Equal(t, serviceusertest.ScopeZitadelAPI, scope.ZitadelAPI)
}
