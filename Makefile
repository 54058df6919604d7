# continuo's entry point. `make run` sets everything up and plays; `make test` tests.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
# clang checks the real-time marks at compile time and links the RealtimeSanitizer build.
CXX_COMPILER ?= $(shell command -v clang++-19 || command -v c++)
CMAKE_FLAGS ?=

.PHONY: all build deps test run bench install clean

all: build

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_CXX_COMPILER=$(CXX_COMPILER) $(CMAKE_FLAGS)

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)
	ln -sf $(BUILD_DIR)/compile_commands.json compile_commands.json

deps:
	tools/install-deps.sh

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

run: deps build
	CONTINUO=$(BUILD_DIR)/continuo tools/run.sh $(ARGS)

bench: build
	$(BUILD_DIR)/bench/bench_engine

install: build
	cmake --install $(BUILD_DIR) --prefix /usr/local

clean:
	rm -rf $(BUILD_DIR) compile_commands.json
