// OCI image-spec types: descriptors, manifests, indexes, image configs, and their JSON forms.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace kiln::oci {

inline constexpr const char* kMediaTypeManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kMediaTypeIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kMediaTypeConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kMediaTypeLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kMediaTypeLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kDockerMediaTypeManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerMediaTypeConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerMediaTypeLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr const char* kDockerMediaTypeLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr const char* kDockerMediaTypeManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::string os_version;  // "os.version": Windows images name the OS build they need
  /// "os/arch[/variant]", or "os(version)/arch[/variant]" with an OS version (containerd's FormatAll).
  std::string ToString() const;
  /// Parses "linux/amd64", "linux/arm64/v8", "windows(10.0.17763)/amd64", "amd64" (this host's OS), "linux" (this
  /// host's architecture), and normalises the result.
  static Result<Platform> Parse(const std::string& s);
  /// Every platform of `lists`, each "p1,p2,..." (as --platform takes them), normalised, once each, in order.
  static Result<std::vector<Platform>> ParseList(const std::vector<std::string>& lists);
  /// As containerd normalises platforms: lower case, aliases resolved (aarch64 is arm64, x86_64 amd64, armhf
  /// arm/v7), default variants dropped (arm64/v8 is arm64) or made explicit (arm is arm/v7).
  Platform Normalized() const;
  bool operator==(const Platform& o) const {
    return os == o.os && architecture == o.architecture && variant == o.variant && os_version == o.os_version;
  }
  /// The platform this kiln runs on.
  static Platform Host();
};

/// A content-addressed reference to a blob.
struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
};

struct Manifest {
  std::string media_type = kMediaTypeManifest;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

struct Index {
  std::string media_type = kMediaTypeIndex;  // or Docker's manifest list
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string comment;
  bool empty_layer = false;
};

/// The runtime part of an image config ("config" in the JSON): what a container of the image starts with.
/// Docker's HEALTHCHECK (config "Healthcheck"): durations in nanoseconds, 0 meaning "inherit the default".
struct Healthcheck {
  std::vector<std::string> test;  // {"NONE"}, {"CMD", args...} or {"CMD-SHELL", command}
  int64_t interval = 0;
  int64_t timeout = 0;
  int64_t start_period = 0;
  int64_t start_interval = 0;
  int retries = 0;
};

struct ContainerConfig {
  std::string user;
  std::vector<std::string> env;  // "K=V", in order
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;
  std::string stop_signal;
  std::vector<std::string> shell;  // Docker's extension: the SHELL instruction
  std::vector<std::string> on_build;
  std::optional<Healthcheck> healthcheck;
  /// Docker's ArgsEscaped (deprecated in OCI, kept for Docker compatibility): BuildKit sets it with every CMD.
  bool args_escaped = false;

  /// The value of env var `key` or nullopt.
  std::optional<std::string> GetEnv(const std::string& key) const;
  /// Sets or replaces `key`, keeping the position of an existing entry.
  void SetEnv(const std::string& key, const std::string& value);
};

/// The same, on any "K=V" list.
std::optional<std::string> GetEnvIn(const std::vector<std::string>& env, const std::string& key);
void SetEnvIn(std::vector<std::string>& env, const std::string& key, const std::string& value);

struct ImageConfig {
  std::string created;  // RFC 3339
  std::string author;
  Platform platform;
  ContainerConfig config;
  std::vector<std::string> diff_ids;
  std::vector<HistoryEntry> history;
};

Json ToJson(const Descriptor& d);
Json ToJson(const Manifest& m);
Json ToJson(const Index& i);
Json ToJson(const ImageConfig& c);
Json ToJson(const Platform& p);
Result<Descriptor> DescriptorFromJson(const Json& j);
Result<Manifest> ManifestFromJson(const std::string& text);
Result<Index> IndexFromJson(const std::string& text);
Result<ImageConfig> ImageConfigFromJson(const std::string& text);

/// Whether a stored JSON document is an index (or a Docker manifest list) rather than a manifest.
bool IsIndexDocument(const std::string& text);
/// The media types kiln reads as an image manifest, an index, or neither.
bool IsManifestType(std::string_view media_type);
bool IsIndexType(std::string_view media_type);
/// The manifest for `platform` in an index (its `variant` matched when given; arm64's "v8" and none are the same);
/// `what` names the index in the error.
Result<Descriptor> SelectPlatform(const Index& index, const Platform& platform, const std::string& what);

/// Canonical bytes of a JSON document as kiln stores and hashes it (compact, fields in insertion order).
std::string Serialize(const Json& j);
/// RFC 3339 UTC time of a unix timestamp, as OCI configs use ("2024-01-02T03:04:05Z").
std::string FormatTime(int64_t unix_seconds);

}  // namespace kiln::oci
