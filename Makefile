# The two commands a newcomer needs: `make run` and `make test` (see README.md).
SWIFT ?= swift

.PHONY: deps build run test bench-zonefile bench-api bench-propagation clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build --product zonectl

run: build
	@scripts/run-local.sh

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench-api: deps
	bench/api/run.sh

bench-propagation: deps
	bench/propagation/run.sh

bench-zonefile: deps
	bench/zonefile/run.sh

clean:
	rm -rf .build
