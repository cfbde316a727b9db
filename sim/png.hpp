#pragma once
// Minimal PNG writer: 8-bit RGB, zlib stream of stored (uncompressed) deflate blocks, so no
// zlib is needed. CRC-32 and Adler-32 are computed here. Pure.
#include <cstdint>
#include <string>
#include <string_view>

namespace hub::sim {

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
};

std::uint32_t Crc32(std::string_view data, std::uint32_t crc = 0);
std::uint32_t Adler32(std::string_view data);

// A w×h picture: a vertical gradient from `top` to `bottom`.
std::string EncodePng(int width, int height, Rgb top, Rgb bottom);

// Colour derived from text (prompt + image index), stable across runs.
Rgb ColourFor(std::string_view text);

}  // namespace hub::sim
