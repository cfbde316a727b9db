#include "archive/zip_writer.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <map>
#include <sstream>

#include "unit/store/store_fixture.hpp"

namespace hub::archive {
namespace {

using store::testing::TempDir;

std::uint64_t Le(const std::string& s, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
    return v;
}

std::string Inflate(std::string_view in, std::size_t size) {
    z_stream zs{};
    EXPECT_EQ(inflateInit2(&zs, -15), Z_OK);
    std::string out(size, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
    inflateEnd(&zs);
    return out;
}

// A reader written from the APPNOTE, independent of the writer: end record -> central
// directory -> local headers -> data (inflated and CRC-checked).
std::map<std::string, std::string> ReadZip(const std::string& zip) {
    std::map<std::string, std::string> out;
    const std::size_t end = zip.rfind(std::string("PK\x05\x06", 4));
    EXPECT_NE(end, std::string::npos);
    const auto count = Le(zip, end + 10, 2);
    std::size_t at = Le(zip, end + 16, 4);
    for (std::uint64_t i = 0; i < count; ++i) {
        EXPECT_EQ(Le(zip, at, 4), 0x02014b50u);
        const auto method = Le(zip, at + 10, 2);
        const auto crc = Le(zip, at + 16, 4);
        const auto csize = Le(zip, at + 20, 4);
        const auto usize = Le(zip, at + 24, 4);
        const auto nlen = Le(zip, at + 28, 2);
        const auto xlen = Le(zip, at + 30, 2);
        const auto clen = Le(zip, at + 32, 2);
        const auto local = Le(zip, at + 42, 4);
        std::string name = zip.substr(at + 46, nlen);
        EXPECT_EQ(Le(zip, local, 4), 0x04034b50u);
        const auto lnlen = Le(zip, local + 26, 2);
        const auto lxlen = Le(zip, local + 28, 2);
        EXPECT_EQ(zip.substr(local + 30, lnlen), name);
        std::string_view data(zip.data() + local + 30 + lnlen + lxlen, csize);
        std::string body = method == 8 ? Inflate(data, usize) : std::string(data);
        EXPECT_EQ(body.size(), usize);
        EXPECT_EQ(Crc32(body), crc) << name;
        out[name] = body;
        at += 46 + nlen + xlen + clen;
    }
    return out;
}

TEST(ZipWriter, WhatIsWrittenReadsBackWithItsChecksums) {
    TempDir dir;
    const std::string path = dir.File("e.zip");
    std::map<std::string, std::string> entries = {
        {"profile.json", R"({"username":"ann"})"},
        {"conversations/abc.md", std::string(50'000, 'm') + "\n# 标题\n"},
        {"images/x.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(3, '\xff')},
        {"empty.txt", ""},
    };
    auto w = ZipWriter::Create(path, 1'796'000'000'000);
    ASSERT_TRUE(w.ok());
    for (const auto& [name, bytes] : entries) ASSERT_TRUE((*w)->Add(name, bytes).ok());
    auto size = (*w)->Finish();
    ASSERT_TRUE(size.ok());
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string zip = ss.str();
    EXPECT_EQ(zip.size(), *size);
    EXPECT_EQ(ReadZip(zip), entries);
    // The long, repetitive Markdown was compressed.
    EXPECT_LT(zip.size(), 10'000u);
}

TEST(ZipWriter, RefusesNamesThatLeaveTheArchive) {
    TempDir dir;
    auto w = ZipWriter::Create(dir.File("e.zip"), 0);
    ASSERT_TRUE(w.ok());
    for (const char* bad : {"", "/abs", "../up", "a/../../b", "a\\b"}) {
        auto r = (*w)->Add(bad, "x");
        EXPECT_FALSE(r.ok()) << bad;
    }
}

TEST(ZipWriter, Crc32MatchesTheKnownValue) {
    EXPECT_EQ(Crc32("123456789"), 0xcbf43926u);
    EXPECT_EQ(Crc32(""), 0u);
}

}  // namespace
}  // namespace hub::archive
