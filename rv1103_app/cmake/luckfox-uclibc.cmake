# CMake toolchain file for the Luckfox Pico (RV1103/RV1106) with the SDK's uClibc toolchain.
#
#   cmake -S . -B build/rv1103 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=rv1103_app/cmake/luckfox-uclibc.cmake \
#     -DLUCKFOX_SDK=/path/to/luckfox-pico \
#     -DRKNN_RUNTIME_DIR=/path/to/rknn-toolkit2/rknpu2/runtime/Linux/librknn_api
#
# LUCKFOX_SDK is the luckfox-pico SDK checkout: the compiler is
#   $LUCKFOX_SDK/tools/linux/toolchain/arm-rockchip830-linux-uclibcgnueabihf/bin/arm-rockchip830-linux-uclibcgnueabihf-g++
# LUCKFOX_TOOLCHAIN_DIR may name that bin/ folder's parent directly instead (a toolchain unpacked elsewhere).
# Either may also come from the environment variable of the same name.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)

# try_compile projects get a fresh cache: pass these on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES LUCKFOX_SDK LUCKFOX_TOOLCHAIN_DIR)

if(NOT LUCKFOX_SDK AND DEFINED ENV{LUCKFOX_SDK})
  set(LUCKFOX_SDK "$ENV{LUCKFOX_SDK}")
endif()
if(NOT LUCKFOX_TOOLCHAIN_DIR AND DEFINED ENV{LUCKFOX_TOOLCHAIN_DIR})
  set(LUCKFOX_TOOLCHAIN_DIR "$ENV{LUCKFOX_TOOLCHAIN_DIR}")
endif()
if(NOT LUCKFOX_TOOLCHAIN_DIR)
  if(NOT LUCKFOX_SDK)
    message(FATAL_ERROR "luckfox-uclibc.cmake: set -DLUCKFOX_SDK=/path/to/luckfox-pico "
                        "(or -DLUCKFOX_TOOLCHAIN_DIR=/path/to/arm-rockchip830-linux-uclibcgnueabihf)")
  endif()
  set(LUCKFOX_TOOLCHAIN_DIR "${LUCKFOX_SDK}/tools/linux/toolchain/arm-rockchip830-linux-uclibcgnueabihf")
endif()

set(_prefix "${LUCKFOX_TOOLCHAIN_DIR}/bin/arm-rockchip830-linux-uclibcgnueabihf-")
if(NOT EXISTS "${_prefix}g++")
  message(FATAL_ERROR "luckfox-uclibc.cmake: no compiler at ${_prefix}g++ (check LUCKFOX_SDK / LUCKFOX_TOOLCHAIN_DIR)")
endif()
set(CMAKE_C_COMPILER "${_prefix}gcc")
set(CMAKE_CXX_COMPILER "${_prefix}g++")
set(CMAKE_AR "${_prefix}ar" CACHE FILEPATH "")
set(CMAKE_RANLIB "${_prefix}ranlib" CACHE FILEPATH "")
set(CMAKE_STRIP "${_prefix}strip" CACHE FILEPATH "")

# Cortex-A7 with NEON/VFPv4, hard float (what the SDK's own build uses for RV1103/RV1106).
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard")
# -Wno-psabi: GCC's note that std::vector iterators are passed differently since GCC 7.1 concerns
# mixing objects built by older compilers; everything here is built by one toolchain.
set(CMAKE_CXX_FLAGS_INIT "-mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard -Wno-psabi")

# Search headers/libraries in the toolchain's sysroot only; programs on the host.
set(CMAKE_FIND_ROOT_PATH "${LUCKFOX_TOOLCHAIN_DIR}/arm-rockchip830-linux-uclibcgnueabihf/sysroot")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

