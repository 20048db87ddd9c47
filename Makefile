# nslab: the two commands of the README, and a few more. Meson does the building.
BUILD ?= build
PREFIX ?= /usr/local
MESON_TEST = meson test -C $(BUILD) --print-errorlogs --no-rebuild

.PHONY: all deps build install test test-root test-rootless demo bench clean format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true -Dman=true

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The command, libnslab.so.0, include/nslab, nslab.pc and the man pages under
# PREFIX (the build directory is reconfigured for it), staged under DESTDIR if
# set. Builds what is missing but installs no packages (that is `make deps`).
install: $(BUILD)/build.ninja
	meson configure $(BUILD) -Dprefix=$(abspath $(PREFIX))
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))

# Every suite as root, then the integration and end-to-end suites again as an
# unprivileged user (rootless mode, through `setpriv`).
test: build
	$(MESON_TEST)
	$(MESON_TEST) --setup rootless --suite integration --suite e2e --no-suite root-only

# The run directory is kept in ./nslab-runs; the demo ends with its nslab serve URL.
demo: build
	NSLAB_DEMO_RUNS=$(CURDIR)/nslab-runs examples/demo.sh $(BUILD)/src/cli/nslab

bench: build
	bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
