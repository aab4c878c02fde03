module github.com/proxydebug/debugmode

go 1.22

require (
	github.com/lmittmann/tint v1.2.1
	github.com/stretchr/testify v1.12.1
	go.opentelemetry.io/otel/trace v1.32.0
	go.uber.org/goleak v1.3.0
)

require (
	go.opentelemetry.io/otel v1.32.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
