# dicomprep — build, test, demo and benchmark entry points.
# `make deps` installs the Debian packages the project needs (idempotent; apt-get update only when
# something is missing).

SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libdcmtk-dev dcmtk libnifti2-dev zlib1g-dev libopenjp2-7-dev libdeflate-dev libpng-dev libarchive-dev \
                dcm2niix pigz python3-nibabel python3-numpy python3-venv time json-schema-test-suite libtorch-dev python3-torch \
                mricron-data libjs-three chromium

# The torch engine (train/predict) is a plugin opened at run time: libdicomprep_torch.so.
# LIBTORCH=/path/to/torch builds it against another libtorch, e.g. the CUDA build inside a pip wheel
# (LIBTORCH=$$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')); add
# TORCH_CXXFLAGS=-D_GLIBCXX_USE_CXX11_ABI=0 for wheels built with the old C++ ABI.
LIBTORCH ?= /usr
TORCH_CXXFLAGS ?=
ifeq ($(LIBTORCH),/usr)
TORCH_INC := -I/usr/include/torch/csrc/api/include
TORCH_LIBS := -ltorch -ltorch_cpu -lc10
else
TORCH_INC := -I$(LIBTORCH)/include -I$(LIBTORCH)/include/torch/csrc/api/include
TORCH_LIBS := -L$(LIBTORCH)/lib -Wl,-rpath,$(LIBTORCH)/lib -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 \
              $(if $(wildcard $(LIBTORCH)/lib/libtorch_cuda.so),-ltorch_cuda -lc10_cuda) -Wl,--as-needed
endif
TORCH_ENGINE := .build/libdicomprep_torch.so
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
BIN := .build/release/dicomprep
DEMO_DIR ?= demo-out

.PHONY: deps build release test demo bench bench-segment clean torch monai-env fuzz

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "system packages present"; fi

$(TORCH_ENGINE): Sources/CTorch/engine/ctorch_engine.cpp Sources/CTorch/include/ctorch.h
	@mkdir -p .build
	g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden $(TORCH_CXXFLAGS) $(TORCH_INC) -o $@.tmp $< $(TORCH_LIBS)
	mv $@.tmp $@

torch: deps $(TORCH_ENGINE)

# MONAI 1.4.0 (the newest that accepts Debian's torch 1.13) and scikit-image in a venv that sees Debian's
# python3-torch, for the cross-check tests (they skip the MONAI / scikit-image parts when missing).
monai-env: deps
	@if [ ! -x .venv-monai/bin/python ] || ! .venv-monai/bin/python -c "import monai, skimage" 2>/dev/null; then \
	  /usr/bin/python3 -m venv --system-site-packages .venv-monai && \
	  .venv-monai/bin/pip install -q "monai==1.4.0" nibabel "numpy==1.24.2" "scikit-image==0.24.0" || echo "warning: MONAI/scikit-image could not be installed; their cross-checks will be skipped"; \
	else echo "MONAI cross-check environment present"; fi

build: deps torch
	$(SWIFT) build

# The Swift runtime and Foundation linked statically: a run starts in 8 ms instead of 18 (no dynamic
# linking of Foundation and ICU), which is most of a short conversion.
release: deps torch
	$(SWIFT) build -c release --static-swift-stdlib

test: deps torch monai-env
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-swift-testing 2>&1 | tee .build/test.log; status=$${PIPESTATUS[0]}; \
	line=$$(grep -E "Executed [0-9]+ tests?" .build/test.log | tail -1); \
	n=$$(echo "$$line" | sed -E "s/.*Executed ([0-9]+) tests?.*/\1/"); \
	f=$$(echo "$$line" | grep -oE "[0-9]+ failures?" | grep -oE "^[0-9]+" || echo 0); \
	s=$$(echo "$$line" | grep -oE "[0-9]+ tests? skipped" | grep -oE "^[0-9]+" || echo 0); \
	echo "swift-tests: $$((n - f - s)) passed, $$f failed, $$s skipped"; exit $$status

demo: release
	bash scripts/demo.sh $(BIN) $(DEMO_DIR)

bench: release monai-env
	bash scripts/bench.sh $(BIN)
	bash scripts/bench-archive.sh $(BIN)
	bash scripts/bench-segment.sh $(BIN)

# The segmentation part of the benchmark alone (~35 min: 25 min of training, the peers): BENCHMARKS.md's section.
bench-segment: release monai-env
	bash scripts/bench-segment.sh $(BIN)

# libFuzzer (clang's -fsanitize=fuzzer,address,undefined) over the CDicom shim for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_CXX ?= $(shell command -v /opt/swift/usr/bin/clang++ || command -v clang++)
FUZZ_DIR := .build/fuzz
fuzz: release
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	$(FUZZ_CXX) -g -O1 -std=c++17 -fsanitize=fuzzer,address,undefined -ISources/CDicom/include -ISources/CDicom/openjpeg_headers \
	  -ISources/CDicom fuzz/fuzz_dicom.cpp $(wildcard Sources/CDicom/*.cpp) -o $(FUZZ_DIR)/fuzz_dicom \
	  -ldcmdata -loflog -lofstd -lopenjp2 -lz -ldl
	bash scripts/fuzz-corpus.sh $(BIN) $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_dicom -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -max_len=262144 -timeout=20 \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus 2>&1 | tee $(FUZZ_DIR)/last-run.log | grep -E "^#[0-9]+.*(DONE|pulse)|ERROR|SUMMARY|Done" | tail -5
	@echo "crashes (if any) are in $(FUZZ_DIR)/artifacts/; copy them to Tests/Fixtures/fuzz-regressions/ as regression tests"

clean:
	rm -rf .build $(DEMO_DIR) bench-out
