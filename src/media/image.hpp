#pragma once
// Uploaded pictures, made safe to keep and to send to a vision model: the type from the bytes
// (never the name), the size from the header before any pixel is decoded (decompression bombs
// are refused there), then decode (libpng, libjpeg-turbo, libwebp, giflib: the first frame),
// turn by the EXIF orientation, shrink to what the model takes, and encode again. Re-encoding
// drops every piece of metadata (EXIF with GPS, XMP, ICC, comments): nothing the camera wrote
// leaves the hub. Pure and blocking (a 4096x4096 decode takes tens of ms): run on a worker pool.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::media {

enum class ImageType { kUnknown, kPng, kJpeg, kWebp, kGif };

std::string_view MimeType(ImageType type);   // "image/png", ...; "" for kUnknown
std::string_view Extension(ImageType type);  // "png", "jpg", "webp", "gif"

// The type from the first bytes (magic numbers); kUnknown when none matches.
ImageType SniffType(std::string_view bytes);

// What the header says, read without decoding pixels.
struct ImageInfo {
    ImageType type = ImageType::kUnknown;
    int width = 0;  // as stored (before the EXIF orientation turns it)
    int height = 0;
    int orientation = 1;  // EXIF orientation 1..8 (JPEG only; 1 otherwise)
    bool animated = false;
};

// Errors: kUnsupportedMediaType "unsupported_image" (not PNG/JPEG/WebP/GIF),
// kInvalidArgument "invalid_image" (header broken or cut short).
core::Result<ImageInfo> Probe(std::string_view bytes);

// The EXIF orientation (1..8) of a JPEG's APP1 segment; 1 when absent or unreadable.
int JpegOrientation(std::string_view jpeg);

struct NormalizeLimits {
    int max_side = 4096;                 // each side of the upload, in pixels
    std::int64_t target_pixels = 1'003'520;  // larger pictures are shrunk to this (aspect kept)
    int min_side = 11;                   // DashScope refuses a side of 10 px or less
};

struct NormalizedImage {
    std::string bytes;  // re-encoded, no metadata
    ImageType type = ImageType::kUnknown;
    int width = 0;  // after orientation and shrinking
    int height = 0;
    int source_width = 0;  // as uploaded (after orientation)
    int source_height = 0;
    bool resized = false;
};

// Probe, check the limits (kUnprocessable "image_too_large" over max_side, "image_too_small"
// under min_side), decode, orient, shrink, encode: JPEG stays JPEG (quality 90), WebP stays
// WebP, PNG and GIF become PNG.
core::Result<NormalizedImage> Normalize(std::string_view bytes, const NormalizeLimits& limits);

// The largest size of the same aspect within `max_pixels` (never larger than w x h, never a
// side below 1).
struct Size {
    int width = 0;
    int height = 0;
    bool operator==(const Size&) const = default;
};
Size FitWithin(int width, int height, std::int64_t max_pixels);

// Pixels, 8 bits per channel, rows packed.
struct Pixels {
    int width = 0;
    int height = 0;
    int channels = 4;  // 3 = RGB, 4 = RGBA
    std::string data;
};
// EXIF orientation applied (2..8 mirror and/or turn; 1 and unknown values leave it as is).
Pixels Orient(const Pixels& in, int orientation);
// Area-average shrink to exactly width x height (each not larger than the source).
Pixels Shrink(const Pixels& in, int width, int height);

// "data:<mime>;base64,<...>"
std::string DataUrl(std::string_view mime, std::string_view bytes);

}  // namespace hub::media
