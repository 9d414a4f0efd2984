// Status and Result: the error type of every fallible kiln call. No exceptions cross module boundaries.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kiln {

/// The outcome of an operation that returns nothing: ok, or an error message fit for the user.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }
  /// The disk (or a quota) is full: callers may give back what the failed operation took.
  static Status NoSpace(std::string message) {
    Status s(std::move(message));
    s.no_space_ = true;
    return s;
  }

  bool ok() const { return !message_.has_value(); }
  bool IsNoSpace() const { return no_space_; }
  /// The user-facing message; empty when ok.
  const std::string& message() const {
    static const std::string empty;
    return message_ ? *message_ : empty;
  }
  /// Returns this error with `context: ` put in front, so callers can say where it happened.
  Status Prefixed(const std::string& context) const {
    if (ok()) return *this;
    Status s(context + ": " + *message_);
    s.no_space_ = no_space_;
    return s;
  }

 private:
  explicit Status(std::string m) : message_(std::move(m)) {}
  std::optional<std::string> message_;
  bool no_space_ = false;
};

/// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  /// The value, or `fallback` when there is none (the error is dropped: for callers to whom absence is normal).
  T value_or(T fallback) && { return ok() ? std::get<0>(std::move(v_)) : std::move(fallback); }
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kiln

#define KILN_CONCAT_INNER(a, b) a##b
#define KILN_CONCAT(a, b) KILN_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function if `expr` (a Status) is an error.
#define KILN_TRY(expr)                        \
  do {                                        \
    ::kiln::Status kiln_st_ = (expr);         \
    if (!kiln_st_.ok()) return kiln_st_;      \
  } while (0)

/// `KILN_ASSIGN(auto x, ResultExpr)`: declares x from the value or returns the error.
#define KILN_ASSIGN(decl, expr) KILN_ASSIGN_IMPL(KILN_CONCAT(kiln_r_, __LINE__), decl, expr)
#define KILN_ASSIGN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                      \
  if (!tmp.ok()) return tmp.status();     \
  decl = std::move(tmp).value()
