// Properties the fuzz targets assert on what the code under test returns.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace soundtrackd::fuzz {

// A failed property: report it and abort, so libFuzzer saves the input as a crash.
[[noreturn]] inline void fail(const char* property) {
  std::fprintf(stderr, "fuzz property violated: %s\n", property);
  std::abort();
}

inline void require(bool holds, const char* property) {
  if (!holds) fail(property);
}

}  // namespace soundtrackd::fuzz
