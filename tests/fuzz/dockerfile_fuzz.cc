// Fuzz target: the Dockerfile parser, the variable expander, the build checks and the lowering to a build graph.
// Any input must end in a value or an error, never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/lint.h"
#include "frontend/dockerfile/parser.h"
#include "frontend/dockerfile/shell.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto df = kiln::dockerfile::Parse(text, "Dockerfile");
  kiln::dockerfile::ShellLex lex('\\');
  kiln::dockerfile::Lookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "EMPTY") return std::string();
    if (name.size() % 2) return std::string("value/of.") + name;
    return std::nullopt;
  };
  (void)lex.ProcessWord(text, env);
  (void)lex.ProcessWords(text, env);
  (void)lex.Variables(text);
  if (!df.ok()) return 0;
  (void)kiln::dockerfile::Lint(*df);
  kiln::dockerfile::ConvertOptions o;
  o.context_dir = "/nonexistent-context";
  o.epoch = 0;
  o.build_args = {{"A", "1"}, {"TARGETPLATFORM", "linux/arm64"}};
  o.resolve = [](const std::string& ref, const kiln::oci::Platform&) -> kiln::Result<kiln::dockerfile::ResolvedImage> {
    if (ref.find("missing") != std::string::npos) return kiln::Status::Error("no such image " + ref);
    kiln::dockerfile::ResolvedImage img;
    img.manifest_digest = "sha256:" + std::string(64, 'a');
    img.config.config.env = {"PATH=/usr/bin:/bin", "HOME=/root"};
    img.config.config.on_build = {"RUN echo onbuild"};
    return img;
  };
  (void)kiln::dockerfile::Convert(*df, o);
  return 0;
}
