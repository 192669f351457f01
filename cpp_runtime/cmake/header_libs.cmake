# Header-only libraries from the distribution (Debian 12: nlohmann-json3-dev, doctest-dev, libstb-dev), found
# at configure time and never copied into this repository.
#
#   camrt_header_library(<target> <header> <package>)
#
# makes an INTERFACE target whose include path reaches <header> (e.g. nlohmann/json.hpp). A cross compiler
# must not see the build machine's /usr/include as a whole (its C library headers would shadow the target's),
# so the library's own folder (nlohmann/) is linked into <build>/header_libs/<target>/ and only that folder is
# put on the include path. This is what lets the ARMv7 and the board's uClibc builds use the same headers.
#
# CAMRT_HEADER_DIRS: extra folders searched first, e.g. where a user unpacked nlohmann/json's include/ on a
# build machine without the Debian packages.
set(CAMRT_HEADER_DIRS "" CACHE STRING
    "extra folders holding nlohmann/json.hpp, doctest/doctest.h or stb/stb_image.h (searched before /usr/include)")

function(camrt_header_library target header package)
    if(TARGET ${target})
        return()
    endif()
    string(MAKE_C_IDENTIFIER "CAMRT_HEADERS_${header}" var)
    find_path(${var} ${header}
        PATHS ${CAMRT_HEADER_DIRS} /usr/include /usr/local/include
        NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
    if(NOT ${var})
        message(FATAL_ERROR "${header} not found: install the Debian package ${package} (`make apt` does), "
                            "or give -DCAMRT_HEADER_DIRS=<folder that holds ${header}>")
    endif()
    string(REGEX REPLACE "/.*" "" top "${header}")
    set(links "${CMAKE_BINARY_DIR}/header_libs/${target}")
    file(MAKE_DIRECTORY "${links}")
    file(CREATE_LINK "${${var}}/${top}" "${links}/${top}" SYMBOLIC)
    add_library(${target} INTERFACE)
    target_include_directories(${target} SYSTEM INTERFACE "${links}")
    message(STATUS "${header}: ${${var}}/${header}")
endfunction()
