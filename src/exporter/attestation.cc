#include "exporter/attestation.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>
#include <string_view>

#include "base/digest.h"
#include "base/fs.h"
#include "base/text.h"
#include "frontend/dockerfile/lint.h"
#include "oci/reference.h"

namespace kiln::exporter {
namespace {

struct Package {
  std::string name, version, purl, source;  // source: where it was found ("dpkg", "apk", a Go program's path)
  std::string license;
};

/// Debian control-file paragraphs ("Field: value", continuation lines start with a space), as dpkg's status and
/// apk's installed database ("P:value") both are, close enough: `sep` is what ends a field's name.
std::vector<std::map<std::string, std::string>> Paragraphs(const std::string& text, char sep) {
  std::vector<std::map<std::string, std::string>> out(1);
  for (const std::string& whole : SplitString(text, '\n')) {
    std::string_view line(whole);
    if (line.empty()) {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') continue;  // a continuation: no field kiln reads spans lines
    size_t colon = line.find(sep);
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    out.back()[std::string(line.substr(0, colon))] = std::string(value);
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

/// Percent-encodes all but letters, digits, ".-_~+" and `also_kept` (package URL parts).
std::string PurlEscape(const std::string& s, std::string_view also_kept = "") {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == '+' || also_kept.find(char(c)) != std::string_view::npos) {
      out += char(c);
    } else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

void DpkgPackages(const std::string& root, std::vector<Package>& out) {
  std::vector<std::string> files;
  if (PathExists(root + "/var/lib/dpkg/status")) files.push_back(root + "/var/lib/dpkg/status");
  // Distroless images keep one file per package instead.
  for (auto& n : ListDir(root + "/var/lib/dpkg/status.d").value_or(std::vector<std::string>{}))
    if (n[0] != '.') files.push_back(root + "/var/lib/dpkg/status.d/" + n);
  std::string distro = "debian";
  if (auto os = ReadFile(root + "/etc/os-release"); os.ok()) {
    for (auto& p : Paragraphs(*os, '='))
      if (p.count("ID")) {
        distro = p["ID"];
        distro.erase(std::remove(distro.begin(), distro.end(), '"'), distro.end());
      }
  }
  for (auto& file : files) {
    auto text = ReadFile(file);
    if (!text.ok()) continue;
    for (auto& p : Paragraphs(*text, ':')) {
      if (!p.count("Package") || !p.count("Version")) continue;
      if (p.count("Status") && p["Status"].find(" installed") == std::string::npos) continue;
      Package pkg{p["Package"], p["Version"], "", "dpkg", ""};
      pkg.purl = "pkg:deb/" + distro + "/" + PurlEscape(pkg.name) + "@" + PurlEscape(pkg.version);
      if (p.count("Architecture")) pkg.purl += "?arch=" + PurlEscape(p["Architecture"]);
      out.push_back(pkg);
    }
  }
}

void ApkPackages(const std::string& root, std::vector<Package>& out) {
  auto text = ReadFile(root + "/lib/apk/db/installed");
  if (!text.ok()) return;
  for (auto& p : Paragraphs(*text, ':')) {
    if (!p.count("P") || !p.count("V")) continue;
    Package pkg{p["P"], p["V"], "", "apk", p.count("L") ? p["L"] : ""};
    pkg.purl = "pkg:apk/alpine/" + PurlEscape(pkg.name) + "@" + PurlEscape(pkg.version);
    if (p.count("A")) pkg.purl += "?arch=" + PurlEscape(p["A"]);
    out.push_back(pkg);
  }
}

/// A varint-prefixed string of Go's build info, advancing `at`; nullopt when it runs past `data`.
std::optional<std::string> GoString(std::string_view data, size_t& at) {
  uint64_t n = 0;
  for (int shift = 0; at < data.size() && shift < 64; shift += 7) {
    unsigned char b = data[at++];
    n |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      if (n > data.size() - at) return std::nullopt;
      std::string s(data.substr(at, n));
      at += n;
      return s;
    }
  }
  return std::nullopt;
}

/// The Go modules of a Go 1.18+ program: its build info (the ".go.buildinfo" blob, found by its magic), with the
/// module list `go version -m` prints.
void GoPackages(const std::string& path, const std::string& shown, std::vector<Package>& out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 64) {
    close(fd);
    return;
  }
  void* map = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return;
  std::string_view data(static_cast<const char*>(map), st.st_size);
  if (data.substr(0, 4) == "\x7f" "ELF") {
    static constexpr std::string_view kMagic("\xff Go buildinf:", 14);
    // The blob is 16-byte aligned; only the inline form of Go 1.18 and later (flag 2) is read.
    for (size_t at = data.find(kMagic); at != std::string_view::npos; at = data.find(kMagic, at + 1)) {
      if (at % 16 != 0 || at + 32 > data.size() || !(data[at + 15] & 2)) continue;
      size_t next = at + 32;
      auto version = GoString(data, next);
      auto modinfo = version ? GoString(data, next) : std::nullopt;
      if (!modinfo) break;
      // Between two 16-byte sentinels.
      std::string info = modinfo->size() >= 33 ? modinfo->substr(16, modinfo->size() - 32) : "";
      out.push_back({"stdlib", *version, "pkg:golang/stdlib@" + PurlEscape(*version), shown, ""});
      for (const std::string& line : SplitString(info, '\n')) {
        std::vector<std::string> f = SplitString(line, '\t');
        if ((f[0] == "mod" || f[0] == "dep") && f.size() >= 3) {
          std::string v = f[2] == "(devel)" ? "" : f[2];
          out.push_back({f[1], v, "pkg:golang/" + f[1] + (v.empty() ? "" : "@" + PurlEscape(v)), shown, ""});
        }
      }
      break;
    }
  }
  munmap(map, st.st_size);
}

/// Every executable regular file under `root` (not into /proc, /sys or /dev), for Go programs.
void WalkExecutables(const std::string& root, const std::string& rel, const std::function<void(const std::string&)>& f) {
  auto names = ListDir(root + rel);
  if (!names.ok()) return;
  for (auto& n : *names) {
    std::string r = rel + "/" + n;
    if (r == "/proc" || r == "/sys" || r == "/dev") continue;
    struct stat st;
    if (lstat((root + r).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      WalkExecutables(root, r, f);
    } else if (S_ISREG(st.st_mode) && (st.st_mode & 0111) && st.st_size < (int64_t(512) << 20)) {
      f(r);
    }
  }
}

/// An SPDX identifier from free text: letters, digits, '.' and '-' only.
std::string SpdxId(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += std::isalnum(c) || c == '.' || c == '-' ? char(c) : '-';
  return out;
}

}  // namespace

Result<Json> ScanSbom(const std::string& root, const std::string& name, const std::string& created) {
  std::vector<Package> packages;
  DpkgPackages(root, packages);
  ApkPackages(root, packages);
  WalkExecutables(root, "", [&](const std::string& rel) { GoPackages(root + rel, rel, packages); });
  Json doc = {{"spdxVersion", "SPDX-2.3"},
              {"dataLicense", "CC0-1.0"},
              {"SPDXID", "SPDXRef-DOCUMENT"},
              {"name", name.empty() ? "sbom" : name},
              {"creationInfo", {{"created", created}, {"creators", {"Tool: kiln"}}}},
              {"packages", Json::array()},
              {"relationships", Json::array()}};
  std::set<std::string> ids;
  std::string all;
  for (auto& p : packages) {
    std::string id = "SPDXRef-Package-" + SpdxId(p.source == "dpkg" || p.source == "apk" ? p.source : "go") + "-" +
                     SpdxId(p.name) + "-" + SpdxId(p.version);
    for (int n = 2; !ids.insert(id).second; n++) id += "-" + std::to_string(n);
    Json pkg = {{"name", p.name},
                {"SPDXID", id},
                {"downloadLocation", "NOASSERTION"},
                {"filesAnalyzed", false},
                {"licenseConcluded", "NOASSERTION"},
                {"licenseDeclared", p.license.empty() ? "NOASSERTION" : p.license},
                {"copyrightText", "NOASSERTION"},
                {"externalRefs", {{{"referenceCategory", "PACKAGE-MANAGER"}, {"referenceType", "purl"},
                                   {"referenceLocator", p.purl}}}}};
    if (!p.version.empty()) pkg["versionInfo"] = p.version;
    if (p.source != "dpkg" && p.source != "apk") pkg["sourceInfo"] = "Go module built into " + p.source;
    doc["packages"].push_back(pkg);
    doc["relationships"].push_back(
        {{"spdxElementId", "SPDXRef-DOCUMENT"}, {"relationshipType", "DESCRIBES"}, {"relatedSpdxElement", id}});
    all += p.purl + "\n";
  }
  // Unique for each set of packages, stable for the same one (reproducible builds stay reproducible).
  doc["documentNamespace"] = "https://kiln.dev/spdxdocs/" + SpdxId(name.empty() ? "sbom" : name) + "-" +
                             DigestHex(DigestOf(all + created));
  return doc;
}

std::string ImagePurl(const std::string& ref, const std::string& platform, const std::string& type) {
  auto parsed = oci::ParseReference(ref);
  if (!parsed.ok()) return "pkg:" + type + "/" + PurlEscape(ref) + "?platform=" + PurlEscape(platform);
  // The familiar name without tag or digest: its last part is the name, the rest the namespace.
  oci::Reference bare = *parsed;
  bare.tag.clear();
  bare.digest.clear();
  // The namespace, name and version as Go's url.PathEscape leaves path parts (packageurl-go's): ':' and '@' stay;
  // the qualifiers as QueryEscape.
  const char* kPathKept = "$&:=@";
  std::string path = PurlEscape(bare.Familiar(), std::string(kPathKept) + "/");
  std::string version = parsed->tag.empty() && parsed->digest.empty() ? "latest" : parsed->tag;
  std::string purl = "pkg:" + type + "/" + path + (version.empty() ? "" : "@" + PurlEscape(version, kPathKept)) + "?";
  if (!parsed->digest.empty()) purl += "digest=" + PurlEscape(parsed->digest) + "&";
  return purl + "platform=" + PurlEscape(platform);
}

Json Provenance(const ProvenanceInput& in) {
  Json materials = Json::array();
  for (auto& m : in.materials) {
    materials.push_back({{"uri", ImagePurl(m.ref, in.platform, m.oci_layout ? "oci" : "docker")},
                         {"digest", {{"sha256", DigestHex(m.digest)}}}});
  }
  Json args = Json::object();
  for (auto& [k, v] : in.build_args)
    if (!dockerfile::LooksSecret(k)) args["build-arg:" + k] = v;
  for (auto& [k, v] : in.labels) args["label:" + k] = v;
  if (!in.target.empty()) args["target"] = in.target;
  Json parameters = {{"frontend", "dockerfile.v0"}, {"args", args}, {"locals", {{{"name", "context"}}, {{"name", "dockerfile"}}}}};
  for (auto [key, list] : {std::pair{"secrets", &in.secrets}, std::pair{"ssh", &in.ssh}}) {
    for (auto& [id, required] : *list) parameters[key].push_back({{"id", id}, {"optional", !required}});
  }
  Json predicate = {
      {"builder", {{"id", in.builder_id.empty() ? std::string(kKilnBuilderId) : in.builder_id}}},
      {"buildType", "https://mobyproject.org/buildkit@v1"},
      {"materials", materials},
      {"invocation",
       {{"configSource", {{"entryPoint", in.dockerfile_name}}},
        {"parameters", parameters},
        {"environment", {{"platform", in.platform}}}}},
      {"metadata",
       {{"buildInvocationID", in.build_id},
        {"buildStartedOn", in.started},
        {"buildFinishedOn", in.finished},
        {"completeness", {{"parameters", in.max}, {"environment", true}, {"materials", false}}},
        {"reproducible", false},
        {"https://mobyproject.org/buildkit@v1#metadata", Json::object()}}}};
  if (in.max) {
    Json steps = Json::array();
    for (size_t i = 0; i < in.steps.size(); i++) steps.push_back({{"id", "step" + std::to_string(i)}, {"name", in.steps[i]}});
    predicate["buildConfig"] = {{"steps", steps}};
    predicate["metadata"]["https://mobyproject.org/buildkit@v1#metadata"]["source"] = {
        {"infos", {{{"filename", in.dockerfile_name}, {"language", "Dockerfile"}, {"data", in.dockerfile}}}}};
  }
  return predicate;
}

Result<std::pair<Image, oci::Descriptor>> PutAttestationManifest(const store::ContentStore& content, const Image& subject,
                                                                 const std::string& subject_name,
                                                                 const std::vector<Attestation>& attestations) {
  Image out;
  out.config.platform = {"unknown", "unknown", "", ""};
  Json subject_json = {{"name", subject_name.empty() ? "_" : subject_name},
                       {"digest", {{"sha256", DigestHex(subject.descriptor.digest)}}}};
  for (auto& a : attestations) {
    Json statement = {{"_type", kInTotoStatementV01},
                      {"predicateType", a.predicate_type},
                      {"subject", Json::array({subject_json})},
                      {"predicate", a.predicate}};
    KILN_ASSIGN(oci::Descriptor layer, content.Put(kInTotoMediaType, oci::Serialize(statement)));
    layer.annotations[kPredicateTypeAnnotation] = a.predicate_type;
    out.manifest.layers.push_back(layer);
    out.config.diff_ids.push_back(layer.digest);  // statements are stored as they are: each its own diff
  }
  Json config = oci::ToJson(out.config);
  KILN_ASSIGN(out.manifest.config, content.Put(oci::kMediaTypeConfig, oci::Serialize(config)));
  out.manifest.media_type = oci::kMediaTypeManifest;
  KILN_ASSIGN(out.descriptor, content.Put(out.manifest.media_type, oci::Serialize(oci::ToJson(out.manifest))));
  oci::Descriptor entry = out.descriptor;
  entry.platform = out.config.platform;
  entry.annotations[kReferenceTypeAnnotation] = "attestation-manifest";
  entry.annotations[kReferenceDigestAnnotation] = subject.descriptor.digest;
  return std::make_pair(out, entry);
}

std::optional<oci::Descriptor> AttestationManifestFor(const oci::Index& index, const std::string& image_digest) {
  for (auto& m : index.manifests) {
    auto type = m.annotations.find(kReferenceTypeAnnotation);
    auto subject = m.annotations.find(kReferenceDigestAnnotation);
    if (type != m.annotations.end() && type->second == "attestation-manifest" && subject != m.annotations.end() &&
        subject->second == image_digest)
      return m;
  }
  return std::nullopt;
}

Result<std::vector<Attestation>> ReadAttestations(const store::ContentStore& content, const std::string& manifest_digest,
                                                  std::string* subject_name) {
  KILN_ASSIGN(Image manifest, LoadImage(content, manifest_digest));
  std::vector<Attestation> out;
  if (subject_name) subject_name->clear();
  for (size_t i = 0; i < manifest.manifest.layers.size(); i++) {
    KILN_ASSIGN(std::string text, content.Read(manifest.manifest.layers[i].digest));
    Json statement = Json::parse(text, nullptr, false);
    if (!statement.is_object()) continue;
    if (i == 0 && subject_name) {
      const Json& subject = statement.contains("subject") ? statement["subject"] : Json();
      if (subject.is_array() && !subject.empty() && subject[0].is_object() && subject[0].contains("name") &&
          subject[0]["name"].is_string())
        *subject_name = subject[0]["name"].get<std::string>();
    }
    if (!statement.contains("predicateType") || !statement["predicateType"].is_string()) continue;
    Json predicate = statement.contains("predicate") ? statement["predicate"] : Json::object();
    out.push_back({statement["predicateType"].get<std::string>(), predicate});
  }
  return out;
}

}  // namespace kiln::exporter
