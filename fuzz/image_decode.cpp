// Uploaded bytes through the picture pipeline (media/image.hpp): sniffing, header probing,
// the EXIF orientation reader and the whole decode -> orient -> shrink -> encode path of all
// four decoders (libpng, libjpeg-turbo, libwebp, giflib), with small limits so that every run
// stays fast. The first byte picks the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "media/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int mode = data[0];
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    using namespace hub::media;

    (void)SniffType(bytes);
    int o = JpegOrientation(bytes);
    if (o < 1 || o > 8) std::abort();

    auto info = Probe(bytes);
    NormalizeLimits limits;
    limits.max_side = (mode & 1) ? 64 : 512;
    limits.target_pixels = (mode & 2) ? 256 : 4096;
    limits.min_side = 1;
    auto out = Normalize(bytes, limits);
    if (!out.ok()) return 0;
    // What comes out is a picture of the type and size it claims, within the limits.
    if (!info.ok()) std::abort();
    if (static_cast<std::int64_t>(out->width) * out->height > limits.target_pixels) std::abort();
    auto again = Probe(out->bytes);
    if (!again.ok() || again->type != out->type || again->width != out->width ||
        again->height != out->height || again->orientation != 1) {
        std::abort();
    }
    return 0;
}
