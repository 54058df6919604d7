# continuo's entry point. `make run` sets everything up and plays; `make test` tests.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
# clang checks the real-time marks at compile time and links the RealtimeSanitizer build.
CXX_COMPILER ?= $(shell command -v clang++-19 || command -v c++)
CMAKE_FLAGS ?=

.PHONY: all build deps test test-asan fuzz soak run bench install clean

all: build

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_CXX_COMPILER=$(CXX_COMPILER) $(CMAKE_FLAGS)

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)
	ln -sf $(BUILD_DIR)/compile_commands.json compile_commands.json

# ASan+UBSan build, also holding the libFuzzer targets (issue 7, docs/reliability.md).
SANITIZE_DIR ?= build-asan
FUZZ_SECONDS ?= 60

$(SANITIZE_DIR)/CMakeCache.txt:
	cmake -S . -B $(SANITIZE_DIR) -DCMAKE_CXX_COMPILER=$(CXX_COMPILER) -DCONTINUO_SANITIZE=address,undefined \
	  -DCONTINUO_FUZZ=ON -DCONTINUO_CUDA=OFF $(CMAKE_FLAGS)

test-asan: $(SANITIZE_DIR)/CMakeCache.txt
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && ctest --output-on-failure -j $(JOBS)

fuzz: $(SANITIZE_DIR)/CMakeCache.txt
	cmake --build $(SANITIZE_DIR) -j $(JOBS) --target fuzz_osc fuzz_midi fuzz_config fuzz_safetensors fuzz_manifest fuzz_journal fuzz_graph
	tools/fuzz.sh $(SANITIZE_DIR) $(FUZZ_SECONDS)

deps:
	tools/install-deps.sh

# An hour at a 64-frame period, sampling RSS, fds, xruns, underruns (docs/reliability.md).
SOAK_SECONDS ?= 3600
soak: build
	python3 bench/soak.py --seconds $(SOAK_SECONDS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

run: deps build
	CONTINUO=$(BUILD_DIR)/continuo tools/run.sh $(ARGS)

bench: build
	cmake --build $(BUILD_DIR) --target bench_packages
	mkdir -p $(BUILD_DIR)/bench-results
	r=$(BUILD_DIR)/bench-results; { $(BUILD_DIR)/bench/bench_engine 2>&1; echo $$? > $$r/.rc; } | tee $$r/bench_engine.txt; exit $$(cat $$r/.rc)
	r=$(BUILD_DIR)/bench-results; { $(BUILD_DIR)/bench/bench_kernels --benchmark_min_time=0.1 2>&1; echo $$? > $$r/.rc; } | tee $$r/bench_kernels.txt; exit $$(cat $$r/.rc)
	r=$(BUILD_DIR)/bench-results; { $(BUILD_DIR)/bench/bench_codec 20 2>&1; echo $$? > $$r/.rc; } | tee $$r/bench_codec.txt; exit $$(cat $$r/.rc)
	r=$(BUILD_DIR)/bench-results p=$(BUILD_DIR)/bench-packages; { $(BUILD_DIR)/bench/bench_model \
	  --warmup 10 --frames 200 tests/fixtures/mrt2/tiny/package \
	  --warmup 10 --frames 200 models/default \
	  --warmup 3 --frames 30 $$p/mrt2_small_random_bf16 --frames 15 $$p/mrt2_small_random_f32 2>&1; \
	  echo $$? > $$r/.rc; } | tee $$r/bench_model.txt; exit $$(cat $$r/.rc)
	# Built only where nvcc is; exits 77 (skipped) without a CUDA device.
	r=$(BUILD_DIR)/bench-results b=$(BUILD_DIR)/bench/bench_cuda_kernels; [ ! -x $$b ] || \
	  { { $$b 2>&1; echo $$? > $$r/.rc; } | tee $$r/bench_cuda_kernels.txt; grep -qx '0\|77' $$r/.rc; }

install: build
	cmake --install $(BUILD_DIR) --prefix /usr/local

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) compile_commands.json
