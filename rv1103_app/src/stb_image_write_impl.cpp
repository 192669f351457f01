// stb_image_write's implementation (header-only: compiled here, once), for the live page's JPEG previews.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb_image_write_config.hpp"
