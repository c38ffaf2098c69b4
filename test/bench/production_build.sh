# Source from a benchmark script (at the repository's root): installs the packages the
# benchmarks use, then builds and installs the production build (no fault points), and with
# `client` the C++ library and CLI too.
#   bench_production_build [client]
bench_production_build() {
    source test/lib/install-deps.sh
    claudable_packages+=(python3)
    install_missing_packages
    rm -f extension/*/*.o claudable.so
    make -s >/dev/null && make -s install >/dev/null || return 1
    [ "${1:-}" != client ] || make -s client-install >/dev/null
}
