# Cross build for the RV1103's CPU (Cortex-A7, NEON-VFPv4) with Debian's glibc toolchain
# (g++-arm-linux-gnueabihf). Tests run under qemu-arm-static: binfmt_misc is not mounted, so the
# emulator is named explicitly. Static linking avoids needing the ARM sysroot at run time.
# This is for testing portable C++ on the board's architecture; the board build itself uses the
# Luckfox SDK's uClibc toolchain.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard")
# -Wno-psabi: GCC's note that std::vector iterators are passed differently since GCC 7.1 concerns
# mixing objects built by older compilers; everything here is built by one toolchain.
set(CMAKE_CXX_FLAGS_INIT "-mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard -Wno-psabi")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static -cpu cortex-a7)
