// The stb_image configuration every file that includes it must share.
#pragma once

#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
// Zeroed buffers: a truncated binary PPM/PGM raster that stb 2.27 does not detect leaves zeros, never
// uninitialised memory (image_io.cpp refuses the usual truncations itself).
#include <cstdlib>
#define STBI_MALLOC(sz) std::calloc(1, sz)
#define STBI_REALLOC(p, newsz) std::realloc(p, newsz)
#define STBI_FREE(p) std::free(p)
#include <stb/stb_image.h>
