module github.com/go-serviceuser/serviceuser/grpcauth

go 1.26.0

// Development builds against the working tree; users get the released
// versions required below (a replace in a dependency is ignored).
replace github.com/go-serviceuser/serviceuser => ../

require (
	github.com/go-serviceuser/serviceuser v0.1.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/oauth2 v0.38.0
	google.golang.org/grpc v1.85.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
