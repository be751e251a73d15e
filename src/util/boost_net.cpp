// The one translation unit that compiles Boost.Asio and Boost.Beast (separate compilation),
// and the handler of Boost's debug assertions (BOOST_ENABLE_ASSERT_DEBUG_HANDLER).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/assert.hpp>
#include <boost/beast/src.hpp>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// Beast 1.81's chunk parser asserts `n >= 5` where only "0\r\n" and one more byte may have
// arrived; the code after the assertion rightly asks for more bytes. Fuzzing found it (input in
// tests/fuzz/corpus/fuzz_http_response/beast_final_chunk_assert); upstream fixed the assertion
// in boostorg/beast#2861 (Boost 1.86). Every other assertion still aborts.
bool known_wrong_assertion(std::string_view expr, std::string_view file) {
  return expr == "n >= 5" && file.ends_with("beast/http/impl/basic_parser.ipp");
}

}  // namespace

namespace boost {

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
  if (known_wrong_assertion(expr, file)) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s.\n", file, line, function, expr, msg ? ": " : "",
               msg ? msg : "");
  std::abort();
}

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  assertion_failed_msg(expr, nullptr, function, file, line);
}

}  // namespace boost
