// stb_image's implementation (a header-only library: its code is compiled here, once), limited to the
// formats frame folders take, which also keeps the decoder small: JPEG, PNG, BMP and binary PPM/PGM.
// Files are read by image_io.cpp (with a size cap), so stb's stdio functions are left out.
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image_config.hpp"
// stb_image_write (JPEG only is used: frame snapshots, snapshots.cpp), to memory; no stdio either.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>
