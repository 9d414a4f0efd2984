#include "cache/transfer.h"

#include <gtest/gtest.h>

#include "base/digest.h"

namespace kiln::cache {
namespace {

LayerRef Layer(const std::string& name) {
  return {{oci::kMediaTypeLayerGzip, DigestOf("blob " + name), 100, {}, {}}, DigestOf("tar " + name)};
}

TEST(CacheSpec, ParsesBuildxSyntax) {
  auto r = CacheSpec::Parse("type=registry,ref=reg:5000/app:cache,mode=max", true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, "registry");
  EXPECT_EQ(r->ref, "reg:5000/app:cache");
  EXPECT_TRUE(r->max);
  auto bare = CacheSpec::Parse("reg:5000/app:cache", false);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->type, "registry");
  auto local = CacheSpec::Parse("type=local,src=/tmp/c,tag=v2", false);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->dir, "/tmp/c");
  EXPECT_EQ(local->tag, "v2");
  EXPECT_FALSE(CacheSpec::Parse("type=local,dest=/tmp/c", false).ok()) << "dest= is for --cache-to";
  EXPECT_FALSE(CacheSpec::Parse("type=inline", false).ok());
  EXPECT_FALSE(CacheSpec::Parse("type=s3,ref=x", true).ok());
  EXPECT_FALSE(CacheSpec::Parse("type=registry", true).ok()) << "needs ref=";
  EXPECT_FALSE(CacheSpec::Parse("type=registry,ref=x,mode=all", true).ok());
  EXPECT_FALSE(CacheSpec::Parse("type=registry,ref=x,frobnicate=1", true).ok());
  // buildx options are honoured or refused, never ignored.
  EXPECT_TRUE(CacheSpec::Parse("type=registry,ref=x,image-manifest=true,oci-mediatypes=true", true).ok());
  EXPECT_FALSE(CacheSpec::Parse("type=registry,ref=x,oci-mediatypes=false", true).ok());
  EXPECT_FALSE(CacheSpec::Parse("type=registry,ref=x,compression=zstd", true).ok());
  EXPECT_FALSE(CacheSpec::Parse("type=registry,ref=x,tag=v2", true).ok());
  EXPECT_FALSE(CacheSpec::Parse("type=inline,mode=max", true).ok());
}

TEST(CacheArtifact, RoundTripsAndSharesLayers) {
  LayerRef base = Layer("base"), a = Layer("a"), b = Layer("b");
  std::vector<ExportRecord> records = {{"sha256:k1", {base, a}, "[1/2] RUN a", 0},
                                       {"sha256:k2", {base, a, b}, "[2/2] RUN b", 1445412480}};
  CacheArtifact art = EncodeCache(records);
  ASSERT_EQ(art.layers.size(), 3u) << "each layer listed once";
  EXPECT_EQ(art.config_descriptor.digest, DigestOf(art.config));
  EXPECT_NE(art.manifest.find("\"artifactType\":\"application/vnd.kiln.cache.v1\""), std::string::npos);
  auto decoded = DecodeCache(art.config, art.layers, "test");
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  ASSERT_EQ(decoded->size(), 2u);
  ASSERT_EQ(decoded->at("sha256:k2").layers.size(), 3u);
  EXPECT_EQ(decoded->at("sha256:k2").layers[2].blob.digest, b.blob.digest);
  EXPECT_EQ(decoded->at("sha256:k2").layers[2].diff_id, b.diff_id);
  EXPECT_EQ(decoded->at("sha256:k2").created, 1445412480) << "when the step ran travels with its record";
  EXPECT_EQ(decoded->at("sha256:k1").created, 0);
}

TEST(CacheArtifact, RefusesConfigsThatDisagreeWithTheManifest) {
  CacheArtifact art = EncodeCache({{"sha256:k", {Layer("x")}, "", 0}});
  auto fewer = art.layers;
  fewer.clear();
  EXPECT_FALSE(DecodeCache(art.config, fewer, "t").ok());
  auto other = art.layers;
  other[0].digest = DigestOf("other");
  EXPECT_FALSE(DecodeCache(art.config, other, "t").ok());
  for (const char* hostile : {"", "[]", "{\"version\":2}", "{\"version\":1,\"layers\":[],\"records\":[{\"key\":1}]}",
                              "{\"version\":1,\"layers\":[],\"records\":[{\"key\":\"k\",\"layers\":[7]}]}"}) {
    EXPECT_FALSE(DecodeCache(hostile, {}, "t").ok()) << hostile;
  }
}

TEST(InlineCache, KeepsRecordsThatArePrefixesOfTheImage) {
  LayerRef base = Layer("base"), a = Layer("a"), other = Layer("other");
  Json inline_cache = InlineCache({{"sha256:in", {base, a}, "", 1445412480}, {"sha256:out", {base, other}, "", 0}}, {base, a});
  ASSERT_EQ(inline_cache["records"].size(), 1u);
  Json config = {{"rootfs", {{"type", "layers"}, {"diff_ids", {base.diff_id, a.diff_id}}}}, {kInlineCacheField, inline_cache}};
  oci::Manifest m;
  m.layers = {base.blob, a.blob};
  auto records = DecodeInlineCache(config, m);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records.at("sha256:in").layers.size(), 2u);
  EXPECT_EQ(records.at("sha256:in").created, 1445412480);
  config[kInlineCacheField]["records"][0]["depth"] = 9;  // more layers than the image has: ignored
  EXPECT_TRUE(DecodeInlineCache(config, m).empty());
}

}  // namespace
}  // namespace kiln::cache
