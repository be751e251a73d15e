// result<T, E>: a value or an error (by default a message), for operations that fail routinely (I/O, parsing).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace soundtrackd {

struct error {
  std::string message;
};

template <class T, class E = error>
class result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(E e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const E& failure() const { return std::get<1>(v_); }
  const std::string& error_message() const { return failure().message; }

 private:
  std::variant<T, E> v_;
};

}  // namespace soundtrackd
