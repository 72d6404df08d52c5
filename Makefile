# The two commands of the README: `make demo` and `make test` (both as root on Debian 12).
.PHONY: setup demo test lint types bench

setup:
	./scripts/setup-host

demo: setup
	./scripts/demo

test: setup
	.venv/bin/nox --no-venv -s lint types tests

lint: setup
	.venv/bin/nox --no-venv -s lint

types: setup
	.venv/bin/nox --no-venv -s types

bench: setup
	.venv/bin/nox --no-venv -s bench
