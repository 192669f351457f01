// The stb_image_write configuration every file that includes it must share: in-memory output only.
#pragma once

#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>
