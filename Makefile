.PHONY: run test bench lint
run:
	./scripts/run
test:
	./scripts/test
lint:
	.venv/bin/ruff check . && .venv/bin/mypy
bench:
	for b in bench/*.py; do .venv/bin/python $$b || exit 1; done
