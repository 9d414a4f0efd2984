// Build attestations as BuildKit attaches them to an image index: an SPDX SBOM of the packages in each platform's
// image and a SLSA provenance statement of the build, each an in-toto statement in an attestation manifest that
// the index lists beside its image (platform unknown/unknown, vnd.docker.reference.type=attestation-manifest).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "exporter/exporter.h"
#include "store/content.h"

namespace kiln::exporter {

inline constexpr const char* kSpdxPredicateType = "https://spdx.dev/Document";
inline constexpr const char* kSlsaProvenanceV02 = "https://slsa.dev/provenance/v0.2";
inline constexpr const char* kInTotoMediaType = "application/vnd.in-toto+json";
inline constexpr const char* kInTotoStatementV01 = "https://in-toto.io/Statement/v0.1";
inline constexpr const char* kReferenceTypeAnnotation = "vnd.docker.reference.type";
inline constexpr const char* kReferenceDigestAnnotation = "vnd.docker.reference.digest";
inline constexpr const char* kPredicateTypeAnnotation = "in-toto.io/predicate-type";

/// One attestation of an image: what its statement asserts, whatever the image's digest.
struct Attestation {
  std::string predicate_type;
  Json predicate;
};

/// An SPDX 2.3 document of the packages in the file system at `root`: Debian's (dpkg status), Alpine's (apk
/// installed) and the Go modules built into Go programs (their embedded build info). `name` names the document.
Result<Json> ScanSbom(const std::string& root, const std::string& name, const std::string& created);

/// What a SLSA v0.2 provenance statement says of a build, as BuildKit's does.
struct ProvenanceInput {
  bool max = false;  // mode=max: also the Dockerfile and the steps
  std::string builder_id;  // builder.id, which SLSA requires; empty: kKilnBuilderId
  std::string build_id;
  std::string started, finished;  // RFC 3339
  std::string platform;           // the image's
  std::string target;
  std::map<std::string, std::string> build_args;  // those that look secret are left out
  std::map<std::string, std::string> labels;      // --label
  /// The secret and ssh ids the build's RUN steps mount, and whether each is required.
  std::vector<std::pair<std::string, bool>> secrets, ssh;
  struct Material {
    std::string ref, digest;  // a base image's reference and manifest digest
    bool oci_layout = false;  // read from an OCI layout: pkg:oci, else pkg:docker
  };
  std::vector<Material> materials;
  std::string dockerfile_name, dockerfile;
  std::vector<std::string> steps;  // step names (max)
};
/// The builder.id of a provenance whose build named none: this tool, as SLSA v0.2 requires a URI of the builder
/// (BuildKit leaves it empty; kiln keeps to the specification there).
inline constexpr const char* kKilnBuilderId = "https://kiln.dev/kiln";
/// A SLSA v0.2 provenance predicate, in BuildKit's shape (its builtin Dockerfile frontend's).
Json Provenance(const ProvenanceInput& in);
/// An image reference as a package URL, as BuildKit's purl.RefToPURL writes it: "pkg:docker/busybox@latest?platform=
/// linux%2Famd64", the registry and path as its namespace, a digest as a qualifier.
std::string ImagePurl(const std::string& ref, const std::string& platform, const std::string& type = "docker");

/// Stores the attestation manifest of `subject` (named `subject_name`, "" for none): a statement per
/// attestation as one layer each, and returns it with the index entry that points it at the subject.
Result<std::pair<Image, oci::Descriptor>> PutAttestationManifest(const store::ContentStore& content, const Image& subject,
                                                                 const std::string& subject_name,
                                                                 const std::vector<Attestation>& attestations);

/// The attestation manifest an index lists for its image `image_digest`, if any.
std::optional<oci::Descriptor> AttestationManifestFor(const oci::Index& index, const std::string& image_digest);

/// The attestations of a stored attestation manifest, read back from its statements; `subject_name`, when given,
/// gets the name the first statement gives its subject ("" for none).
Result<std::vector<Attestation>> ReadAttestations(const store::ContentStore& content, const std::string& manifest_digest,
                                                  std::string* subject_name = nullptr);

}  // namespace kiln::exporter
