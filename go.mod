module github.com/proxydebug/debugmode

go 1.22

require (
	github.com/lmittmann/tint v1.2.1
	github.com/samber/slog-multi v1.8.0
	github.com/stretchr/testify v1.12.1
	go.opentelemetry.io/otel/trace v1.32.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/samber/lo v1.53.0 // indirect
	github.com/samber/slog-common v0.21.0 // indirect
	go.opentelemetry.io/otel v1.32.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.22.0 // indirect
)
