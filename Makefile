# nslab: the two commands of the README, and a few more. Meson does the building.
BUILD ?= build
PREFIX ?= /usr/local
MESON_TEST = meson test -C $(BUILD) --print-errorlogs --no-rebuild

.PHONY: all deps build ui install test test-root test-rootless demo bench clean format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true -Dman=true

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@if command -v node >/dev/null && command -v npm >/dev/null; then $(MAKE) --no-print-directory ui; \
	else echo "nslab: node and npm not found: the web UI is not built (nslab serve says so)"; fi

# The web UI (ui/) into $(BUILD)/ui, where nslab serve finds it from the build
# tree; rebuilt when its sources or lock file change. npm ci: the locked versions only.
UI_SRC = $(wildcard ui/src/*) ui/build.mjs ui/package.json ui/package-lock.json
ui: $(BUILD)/ui/index.html
$(BUILD)/ui/index.html: $(UI_SRC)
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	cd ui && node build.mjs $(abspath $(BUILD))/ui

# The command, libnslab.so.0, include/nslab, nslab.pc and the man pages under
# PREFIX (the build directory is reconfigured for it), staged under DESTDIR if
# set. Builds what is missing but installs no packages (that is `make deps`).
install: $(BUILD)/build.ninja
	meson configure $(BUILD) -Dprefix=$(abspath $(PREFIX))
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))
	@if [ -f $(BUILD)/ui/index.html ]; then \
		install -d $(DESTDIR)$(abspath $(PREFIX))/share/nslab/ui && \
		install -m 644 $(BUILD)/ui/* $(DESTDIR)$(abspath $(PREFIX))/share/nslab/ui/; fi

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
