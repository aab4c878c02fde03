module github.com/proxydebug/debugmode/bench/peers

go 1.23

replace github.com/proxydebug/debugmode => ../..

require (
	github.com/proxydebug/debugmode v0.0.0-00010101000000-000000000000
	github.com/rs/zerolog v1.35.1
	github.com/samber/slog-multi v1.8.0
	go.uber.org/zap v1.28.0
)

require (
	github.com/lmittmann/tint v1.2.1 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/samber/lo v1.53.0 // indirect
	github.com/samber/slog-common v0.21.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
	golang.org/x/text v0.22.0 // indirect
)
