// What the snapshot module's two users of libarchive share: layers (layer.cc) and ADD's archives (extract.cc).
#pragma once
#include <archive.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/fs.h"
#include "base/status.h"

namespace kiln::snapshot {

/// libarchive's message for its last error. It may be NULL (a failed write callback sets none), and a NULL
/// appended to a std::string is a crash.
inline std::string ArchiveError(archive* a) {
  const char* m = archive_error_string(a);
  std::string message = m ? m : "unknown error";
  if (archive_errno(a) > 0 && message.find(strerror(archive_errno(a))) == std::string::npos) {
    message += std::string(": ") + strerror(archive_errno(a));
  }
  return message;
}

/// An extraction error: a full disk is said so (and marked, so callers may give space back).
inline Status ExtractError(const std::string& rel, archive* out) {
  int err = archive_errno(out);
  std::string message = "extract " + rel + ": " + ArchiveError(out);
  return err == ENOSPC || err == EDQUOT ? Status::NoSpace(message) : Status::Error(message);
}

/// Normalizes a tar entry name to a clean relative path; "." for the root, and never anything above it.
inline std::string SafeRelative(const char* name) {
  std::string clean = CleanPath(std::string("/") + (name ? name : ""));
  return clean == "/" ? std::string(".") : clean.substr(1);
}

/// A reader of tar archives, plain or compressed in any of the ways layers and ADD's archives are.
inline archive* NewTarReader() {
  archive* in = archive_read_new();
  archive_read_support_format_tar(in);
  archive_read_support_format_gnutar(in);
  archive_read_support_filter_gzip(in);
  archive_read_support_filter_zstd(in);
  archive_read_support_filter_xz(in);
  archive_read_support_filter_bzip2(in);
  return in;
}

}  // namespace kiln::snapshot
