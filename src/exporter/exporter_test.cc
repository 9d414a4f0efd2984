#include "exporter/exporter.h"

#include <gtest/gtest.h>

namespace kiln::exporter {
namespace {

std::vector<std::string> Dates(const std::vector<oci::HistoryEntry>& history) {
  std::vector<std::string> out;
  for (auto& h : history) out.push_back(h.created);
  return out;
}

oci::HistoryEntry At(std::string created) {
  oci::HistoryEntry e;
  e.created = std::move(created);
  return e;
}

// The cases of BuildKit's normalizeLayersAndHistory (exporter/containerimage/writer.go).
TEST(DateHistory, UndatedEntriesTakeTheFirstNewLayerThenThePreviousOne) {
  // Base image entries (dated), ENV (undated), RUN (its layer's date), CMD (undated), COPY, USER.
  std::vector<oci::HistoryEntry> h = {At("base1"), At("base2"), At(""), At("run"), At(""), At("copy"), At("")};
  DateHistory(h);
  EXPECT_EQ(Dates(h), (std::vector<std::string>{"base1", "base2", "run", "run", "run", "copy", "copy"}));
}

TEST(DateHistory, WithNoNewLayerUndatedEntriesTakeTheLastDate) {
  std::vector<oci::HistoryEntry> h = {At("base"), At(""), At("")};
  DateHistory(h);
  EXPECT_EQ(Dates(h), (std::vector<std::string>{"base", "base", "base"}));
  std::vector<oci::HistoryEntry> none = {At(""), At("")};
  DateHistory(none);
  EXPECT_EQ(Dates(none), (std::vector<std::string>{"", ""}));
}

}  // namespace
}  // namespace kiln::exporter
