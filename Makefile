# nslab: the two commands of the README, and a few more. Meson does the building.
BUILD ?= build
MESON_TEST = meson test -C $(BUILD) --print-errorlogs --no-rebuild

.PHONY: all deps build test test-root test-rootless demo bench clean format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true -Dman=true

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Every suite as root, then the integration and end-to-end suites again as an
# unprivileged user (rootless mode, through `setpriv`).
test: build
	$(MESON_TEST)
	$(MESON_TEST) --setup rootless --suite integration --suite e2e --no-suite root-only

demo: build
	examples/demo.sh $(BUILD)/src/cli/nslab

bench: build
	bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
