# The user's RKNN runtime (Rockchip's rknpu2, from airockchip/rknn-toolkit2) as the imported target
# rknn::runtime: rknn_api.h and librknnmrt.so, found under RKNN_RUNTIME_DIR. Nothing of it is ever copied
# into this repository.
#
#   RKNN_RUNTIME_DIR  .../rknpu2/runtime/Linux/librknn_api (include/rknn_api.h, armhf-uclibc/librknnmrt.so);
#                     its armhf-uclibc subfolder, or a folder holding both files, is accepted too.
#
# The library's path is also in RKNN_LIBRARY (the board program's install step copies it to deploy/lib).
get_filename_component(_rknn_dir "${RKNN_RUNTIME_DIR}" ABSOLUTE)
find_path(RKNN_INCLUDE_DIR rknn_api.h
  PATHS "${_rknn_dir}/include" "${_rknn_dir}/../include" "${_rknn_dir}"
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
find_library(RKNN_LIBRARY NAMES rknnmrt
  PATHS "${_rknn_dir}/armhf-uclibc" "${_rknn_dir}/lib" "${_rknn_dir}"
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(NOT RKNN_INCLUDE_DIR OR NOT RKNN_LIBRARY)
  message(FATAL_ERROR
    "RKNN_RUNTIME_DIR=${RKNN_RUNTIME_DIR}: need rknn_api.h (found: ${RKNN_INCLUDE_DIR}) and librknnmrt.so "
    "(found: ${RKNN_LIBRARY}). Point it at rknn-toolkit2/rknpu2/runtime/Linux/librknn_api.")
endif()
add_library(rknn::runtime SHARED IMPORTED GLOBAL)
set_target_properties(rknn::runtime PROPERTIES
  IMPORTED_LOCATION "${RKNN_LIBRARY}"
  IMPORTED_NO_SONAME TRUE
  INTERFACE_INCLUDE_DIRECTORIES "${RKNN_INCLUDE_DIR}")
message(STATUS "RKNN runtime: ${RKNN_LIBRARY} with ${RKNN_INCLUDE_DIR}/rknn_api.h")
