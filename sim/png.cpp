#include "png.hpp"

#include <array>

#include "ids.hpp"

namespace hub::sim {
namespace {

const std::array<std::uint32_t, 256>& CrcTable() {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    return table;
}

void Put32(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>((v >> 24) & 0xff));
    s.push_back(static_cast<char>((v >> 16) & 0xff));
    s.push_back(static_cast<char>((v >> 8) & 0xff));
    s.push_back(static_cast<char>(v & 0xff));
}

void Chunk(std::string& out, const char* type, const std::string& data) {
    Put32(out, static_cast<std::uint32_t>(data.size()));
    std::string td(type, 4);
    td += data;
    out += td;
    Put32(out, Crc32(td));
}

std::uint8_t Mix(std::uint8_t a, std::uint8_t b, int num, int den) {
    return static_cast<std::uint8_t>((a * (den - num) + b * num) / den);
}

}  // namespace

std::uint32_t Crc32(std::string_view data, std::uint32_t crc) {
    const auto& t = CrcTable();
    crc = ~crc;
    for (unsigned char ch : data) crc = t[(crc ^ ch) & 0xff] ^ (crc >> 8);
    return ~crc;
}

std::uint32_t Adler32(std::string_view data) {
    std::uint32_t a = 1, b = 0;
    for (unsigned char ch : data) {
        a = (a + ch) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

std::string EncodePng(int width, int height, Rgb top, Rgb bottom) {
    if (width < 1) width = 1;
    if (height < 1) height = 1;
    // Raw scanlines: filter byte 0 + RGB pixels.
    std::string raw;
    raw.reserve(static_cast<std::size_t>(height) * (1 + 3 * static_cast<std::size_t>(width)));
    for (int y = 0; y < height; ++y) {
        raw.push_back('\0');
        int den = height > 1 ? height - 1 : 1;
        Rgb c{Mix(top.r, bottom.r, y, den), Mix(top.g, bottom.g, y, den), Mix(top.b, bottom.b, y, den)};
        for (int x = 0; x < width; ++x) {
            raw.push_back(static_cast<char>(c.r));
            raw.push_back(static_cast<char>(c.g));
            raw.push_back(static_cast<char>(c.b));
        }
    }
    // zlib: CMF=0x78 (deflate, 32K window), FLG=0x01 (check bits: 0x7801 % 31 == 0).
    std::string z;
    z.push_back(static_cast<char>(0x78));
    z.push_back(static_cast<char>(0x01));
    std::size_t pos = 0;
    do {
        std::size_t len = std::min<std::size_t>(65535, raw.size() - pos);
        bool final = pos + len == raw.size();
        z.push_back(final ? '\x01' : '\x00');  // BFINAL + BTYPE=00 (stored)
        z.push_back(static_cast<char>(len & 0xff));
        z.push_back(static_cast<char>((len >> 8) & 0xff));
        z.push_back(static_cast<char>(~len & 0xff));
        z.push_back(static_cast<char>((~len >> 8) & 0xff));
        z.append(raw, pos, len);
        pos += len;
    } while (pos < raw.size());
    Put32(z, Adler32(raw));

    std::string png("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    Put32(ihdr, static_cast<std::uint32_t>(width));
    Put32(ihdr, static_cast<std::uint32_t>(height));
    ihdr.push_back('\x08');  // bit depth
    ihdr.push_back('\x02');  // colour type RGB
    ihdr.push_back('\x00');  // compression
    ihdr.push_back('\x00');  // filter
    ihdr.push_back('\x00');  // interlace
    Chunk(png, "IHDR", ihdr);
    Chunk(png, "IDAT", z);
    Chunk(png, "IEND", "");
    return png;
}

Rgb ColourFor(std::string_view text) {
    std::uint64_t h = Hash64(text);
    return Rgb{static_cast<std::uint8_t>(h & 0xff), static_cast<std::uint8_t>((h >> 8) & 0xff),
               static_cast<std::uint8_t>((h >> 16) & 0xff)};
}

}  // namespace hub::sim
