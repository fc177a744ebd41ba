# Cross build for 64-bit Arm Linux with Debian's cross compiler (apt-get install g++-aarch64-linux-gnu
# qemu-user); ctest runs the binaries under qemu-user. scripts/test_aarch64.sh uses it:
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# The target's libc and libstdc++ live in /usr/aarch64-linux-gnu. Libraries and packages are looked up there
# only, never among the host's x86-64 ones; programs (python3, the shell) are the host's.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Header-only dependencies (doctest, stb) need nothing here: Debian's cross compiler searches /usr/include
# after the target's own include directory, so the host's doctest-dev and libstb-dev headers are found while
# libc's and libstdc++'s come from the target. Google Benchmark is a compiled library: it comes from the
# multiarch package libbenchmark-dev:arm64 (dpkg --add-architecture arm64), which installs into
# /usr/lib/aarch64-linux-gnu, where the cross linker also looks; name its CMake package directly, since it
# lies outside the find root.
if(EXISTS /usr/lib/aarch64-linux-gnu/cmake/benchmark/benchmarkConfig.cmake)
    set(benchmark_DIR /usr/lib/aarch64-linux-gnu/cmake/benchmark CACHE PATH "Google Benchmark for aarch64")
endif()

# Run test binaries (ctest, and anything CMake itself must execute) under user-mode emulation. -L only maps
# paths that exist under the sysroot: the loader's /etc/ld.so.cache is the host's, which lists the multiarch
# /lib/aarch64-linux-gnu/libc.so.6 once any :arm64 package is installed, and a libc from another build than the
# sysroot's ld.so hangs in the first pthread_create. LD_LIBRARY_PATH is searched before that cache, so the
# sysroot's libc, libstdc++ and libgcc_s always come with its loader (libbenchmark still comes from the cache).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib)
