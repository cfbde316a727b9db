#include <gtest/gtest.h>

#include "png.hpp"

namespace hub::sim {
namespace {

std::uint32_t Get32(const std::string& s, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

TEST(SimPng, ChecksumsMatchKnownValues) {
    EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
    EXPECT_EQ(Adler32("Wikipedia"), 0x11E60398u);
    EXPECT_EQ(Crc32(""), 0u);
    EXPECT_EQ(Adler32(""), 1u);
}

// Walks the chunks, checks every CRC, inflates the stored blocks and checks Adler-32 and size.
void CheckPng(const std::string& png, int w, int h) {
    ASSERT_GE(png.size(), 8u);
    ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    std::size_t pos = 8;
    std::string idat;
    std::vector<std::string> types;
    while (pos + 12 <= png.size()) {
        std::uint32_t len = Get32(png, pos);
        std::string type = png.substr(pos + 4, 4);
        std::string data = png.substr(pos + 8, len);
        std::uint32_t crc = Get32(png, pos + 8 + len);
        EXPECT_EQ(crc, Crc32(type + data)) << type;
        types.push_back(type);
        if (type == "IHDR") {
            EXPECT_EQ(static_cast<int>(Get32(data, 0)), w);
            EXPECT_EQ(static_cast<int>(Get32(data, 4)), h);
            EXPECT_EQ(data[8], 8);
            EXPECT_EQ(data[9], 2);
        }
        if (type == "IDAT") idat += data;
        pos += 12 + len;
    }
    EXPECT_EQ(pos, png.size());
    ASSERT_EQ(types.front(), "IHDR");
    ASSERT_EQ(types.back(), "IEND");
    ASSERT_GE(idat.size(), 6u);
    EXPECT_EQ((static_cast<unsigned char>(idat[0]) * 256 + static_cast<unsigned char>(idat[1])) % 31, 0);
    std::size_t p = 2;
    std::string raw;
    bool final = false;
    while (!final) {
        ASSERT_LT(p + 5, idat.size());
        unsigned char hdr = static_cast<unsigned char>(idat[p]);
        final = hdr & 1;
        EXPECT_EQ((hdr >> 1) & 3, 0);  // stored
        std::size_t len = static_cast<unsigned char>(idat[p + 1]) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(idat[p + 2])) << 8);
        std::size_t nlen = static_cast<unsigned char>(idat[p + 3]) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(idat[p + 4])) << 8);
        EXPECT_EQ(len ^ 0xffff, nlen);
        raw += idat.substr(p + 5, len);
        p += 5 + len;
    }
    EXPECT_EQ(Get32(idat, p), Adler32(raw));
    EXPECT_EQ(raw.size(), static_cast<std::size_t>(h) * (1 + 3 * static_cast<std::size_t>(w)));
}

TEST(SimPng, SmallImageIsValid) { CheckPng(EncodePng(64, 36, {10, 20, 30}, {200, 100, 0}), 64, 36); }

TEST(SimPng, LargeImageSpansSeveralStoredBlocks) {
    CheckPng(EncodePng(200, 200, {1, 2, 3}, {4, 5, 6}), 200, 200);  // 120200 raw bytes
}

TEST(SimPng, ColourIsDerivedFromText) {
    Rgb a = ColourFor("a red fox"), b = ColourFor("a red fox"), c = ColourFor("a blue fox");
    EXPECT_EQ(a.r, b.r);
    EXPECT_EQ(a.g, b.g);
    EXPECT_EQ(a.b, b.b);
    EXPECT_FALSE(a.r == c.r && a.g == c.g && a.b == c.b);
}

}  // namespace
}  // namespace hub::sim
