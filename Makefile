# dicomprep — build, test, demo and benchmark entry points.
# `make deps` installs the Debian packages the project needs (idempotent; apt-get update only when
# something is missing).

SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libdcmtk-dev dcmtk libnifti2-dev zlib1g-dev libopenjp2-7-dev libdeflate-dev libpng-dev \
                dcm2niix pigz python3-nibabel python3-numpy time
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
BIN := .build/release/dicomprep
DEMO_DIR ?= demo-out

.PHONY: deps build release test demo bench clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "system packages present"; fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-swift-testing 2>&1 | tee .build/test.log; status=$${PIPESTATUS[0]}; \
	line=$$(grep -E "Executed [0-9]+ tests?" .build/test.log | tail -1); \
	n=$$(echo "$$line" | sed -E "s/.*Executed ([0-9]+) tests?.*/\1/"); \
	f=$$(echo "$$line" | sed -E "s/.*with ([0-9]+) failures?.*/\1/"); \
	s=$$(echo "$$line" | grep -oE "[0-9]+ tests? skipped" | grep -oE "^[0-9]+" || echo 0); \
	echo "swift-tests: $$((n - f - s)) passed, $$f failed, $$s skipped"; exit $$status

demo: release
	bash scripts/demo.sh $(BIN) $(DEMO_DIR)

bench: release
	bash scripts/bench.sh $(BIN)

clean:
	rm -rf .build $(DEMO_DIR) bench-out
