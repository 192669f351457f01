// doctest's runner: `camrt_tests` runs every suite, `camrt_tests -ts=frames` one (ctest runs each suite apart).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
