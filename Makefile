# cnr — build, bundles, tests. Run as root where noted (containers need it): `sudo make run`, `sudo make test`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := all

export DOTNET_NOLOGO := 1
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

PREFIX ?= /usr/local
ROOTFS := bundles/mybox/rootfs
# The cnr that `make run` uses (the tests add a --root of their own).
CNR ?= $(CURDIR)/bin/cnr
# Packages the tests need on a fresh Debian/Ubuntu machine (the cgroup v2 runner installs its own).
TEST_DEPS := busybox-static uidmap

.PHONY: all deps bundles run test fuzz bench order install clean

# The NativeAOT binaries: cnr, and cnr-init, the image every container's init runs (found beside cnr).
# dotnet publish is incremental itself, so this always asks it. Trim/AOT warnings fail the build: each one is
# a place where the binary may behave differently from the JIT build.
all:
	@mkdir -p out bin
	@if [[ ! -x bin/cnr ]]; then echo "make: building cnr and cnr-init as NativeAOT binaries: the first build restores packages" \
	    "and generates native code for 2-5 minutes without output; later builds take seconds to a minute"; fi
	dotnet publish src/cnr/cnr.csproj -c Release -o out/publish -nologo -clp:NoSummary 2>&1 | tee out/publish.log
	dotnet publish src/cnr-init/cnr-init.csproj -c Release -o out/publish-init -nologo -clp:NoSummary 2>&1 | tee -a out/publish.log
	@if grep -qE 'warning IL[0-9]+|AOT analysis warning' out/publish.log; then \
	    echo "make: the publish produced trim/AOT warnings (above); cnr and cnr-init must stay at zero" >&2; exit 1; fi
	cp -f out/publish/cnr bin/cnr
	cp -f out/publish-init/cnr-init bin/cnr-init

deps:
	tests/install-deps.sh $(TEST_DEPS)

bundles: $(ROOTFS)/bin/busybox
	for p in bundles/*/prepare.sh; do "$$p"; done

# Rebuilt when missing or when the script changes; /bin/busybox comes from busybox-static.
$(ROOTFS)/bin/busybox: bundles/make-busybox-rootfs.sh
	tests/install-deps.sh busybox-static
	bundles/make-busybox-rootfs.sh $(ROOTFS)

# What `runc run mybox` does in the lab: the bundle is the current directory. The shell's exit status is
# the container's: the recipe reports it in words, because make would print "Error 1" after an `exit` whose
# last command failed, which reads as a failure of make run. With --keep the container is still there when
# it ran (stopped), and not when cnr itself failed: only then does make fail.
run: all bundles
	@if [[ $$EUID -ne 0 ]]; then echo "make run: containers need root: sudo make run" >&2; exit 1; fi
	@if $(CNR) state mybox >/dev/null 2>&1; then \
	    echo "make run: a container mybox exists already (sudo $(CNR) delete --force mybox)" >&2; exit 1; fi
	@echo "cd bundles/mybox && $(CNR) run --keep mybox"
	@cd bundles/mybox && status=0 && $(CNR) run --keep mybox || status=$$?; \
	if $(CNR) state mybox >/dev/null 2>&1; then \
	    $(CNR) delete mybox; echo "container exited with status $$status"; \
	else exit $$status; fi

# The VM phases set up user-mode-linux themselves, and only when they need it (tests/vm/run-cgroup-tests.sh runs
# natively on a host with cgroup v2 controllers); a failed setup is that phase's skip, not the end of the run.
test: all bundles deps
	tests/run-all.sh

# The config fuzzer at length (make test runs it briefly): CNR_FUZZ_ITERATIONS mutated configs through the loader,
# validator and what create derives from them. A failing input lands in out/fuzz-crashes/ (see tests/fuzz-corpus).
CNR_FUZZ_ITERATIONS ?= 100000
fuzz:
	CNR_FUZZ_ITERATIONS=$(CNR_FUZZ_ITERATIONS) CNR_FUZZ_SEED=$${CNR_FUZZ_SEED:-random} dotnet test tests/Cnr.Tests --filter 'FullyQualifiedName~ConfigFuzzTests' --logger 'console;verbosity=normal'

bench: all bundles
	tests/bench.sh

# The method order files (src/cnr/cnr.order, src/cnr-init/cnr-init.order): which methods the verbs run, traced
# from the built images (tests/method-order.py), then the images rebuilt with them. Run it when the hot paths have
# changed much (`make bench`'s peak RSS says so); the lists are committed.
order: all bundles
	@if [[ $$EUID -ne 0 ]]; then echo "make order: it runs containers: sudo make order" >&2; exit 1; fi
	unshare -m --propagation private -- python3 tests/method-order.py
	$(MAKE) all

install: all
	install -D -m 0755 bin/cnr $(DESTDIR)$(PREFIX)/bin/cnr
	install -D -m 0755 bin/cnr-init $(DESTDIR)$(PREFIX)/libexec/cnr/cnr-init
	install -D -m 0755 native/build/chroot-escape $(DESTDIR)$(PREFIX)/libexec/cnr/chroot-escape

clean:
	rm -rf bin out bundles/*/rootfs bundles/*/rootfs.tmp native/build tests/.scratch
	find src tests -depth -type d \( -name bin -o -name obj \) -exec rm -rf {} +
