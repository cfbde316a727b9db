#include "media/image.hpp"

#include <gif_lib.h>
#include <png.h>
#include <turbojpeg.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/crypto.hpp"

namespace hub::media {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

constexpr int kJpegQuality = 90;
constexpr float kWebpQuality = 90.0f;

const unsigned char* U8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::uint32_t Be16(const unsigned char* p) { return (std::uint32_t(p[0]) << 8) | p[1]; }
std::uint32_t Be32(const unsigned char* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           p[3];
}
std::uint32_t Le16(const unsigned char* p) { return p[0] | (std::uint32_t(p[1]) << 8); }

Error Unsupported() {
    return Error::Make(ErrorCode::kUnsupportedMediaType, "unsupported_image",
                       "The file is not a PNG, JPEG, WebP or GIF image.");
}
Error Invalid(std::string detail) {
    return Error::Make(ErrorCode::kInvalidArgument, "invalid_image",
                       "The image is damaged or cut short and cannot be read.", std::move(detail));
}

// A side as a header states it, as an int when it is a plausible size.
std::optional<int> Side(std::uint64_t v) {
    if (v == 0 || v > 1'000'000) return std::nullopt;
    return static_cast<int>(v);
}

// ---- decoders (each after Probe and the limit checks) ----

// The decoder reads the size again from its own parse of the header. Probe has checked the
// size it found; should the library find another (a crafted file read two ways), that one is
// checked too before a pixel buffer is sized from it.
std::optional<Error> CheckDecoderSize(std::int64_t w, std::int64_t h, int max_side) {
    if (w <= 0 || h <= 0) return Invalid("decoder: empty image");
    if (w > max_side || h > max_side) {
        return Error::Make(ErrorCode::kUnprocessable, "image_too_large",
                           "The image is larger than allowed.");
    }
    return std::nullopt;
}

Result<Pixels> DecodePng(std::string_view bytes, int max_side) {
    png_image img;
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, bytes.data(), bytes.size())) {
        return Invalid(std::string("png: ") + img.message);
    }
    if (auto e = CheckDecoderSize(img.width, img.height, max_side)) {
        png_image_free(&img);
        return *e;
    }
    img.format = PNG_FORMAT_RGBA;
    Pixels px;
    px.width = static_cast<int>(img.width);
    px.height = static_cast<int>(img.height);
    px.channels = 4;
    px.data.assign(PNG_IMAGE_SIZE(img), '\0');
    if (!png_image_finish_read(&img, nullptr, px.data.data(), 0, nullptr)) {
        std::string msg = img.message;
        png_image_free(&img);
        return Invalid("png: " + msg);
    }
    return px;
}

Result<Pixels> DecodeJpeg(std::string_view bytes, int max_side) {
    std::unique_ptr<void, int (*)(tjhandle)> h(tjInitDecompress(), tjDestroy);
    if (!h) return Error::Make(ErrorCode::kInternal, "internal", "Image decoder unavailable.");
    int w = 0, ht = 0, subsamp = 0, colorspace = 0;
    auto* data = const_cast<unsigned char*>(U8(bytes));
    auto size = static_cast<unsigned long>(bytes.size());
    if (tjDecompressHeader3(h.get(), data, size, &w, &ht, &subsamp, &colorspace) != 0) {
        return Invalid(std::string("jpeg header: ") + tjGetErrorStr2(h.get()));
    }
    if (auto e = CheckDecoderSize(w, ht, max_side)) return *e;
    Pixels px;
    px.width = w;
    px.height = ht;
    px.channels = 3;
    px.data.assign(static_cast<std::size_t>(w) * ht * 3, '\0');
    // LIMITSCANS: a progressive JPEG with an absurd number of scans is refused (a CPU bomb).
    if (tjDecompress2(h.get(), data, size, reinterpret_cast<unsigned char*>(px.data.data()), w, 0,
                      ht, TJPF_RGB, TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS) != 0 &&
        tjGetErrorCode(h.get()) != TJERR_WARNING) {
        return Invalid(std::string("jpeg: ") + tjGetErrorStr2(h.get()));
    }
    return px;
}

Result<Pixels> DecodeWebp(std::string_view bytes, int max_side) {
    int w = 0, h = 0;
    if (!WebPGetInfo(U8(bytes), bytes.size(), &w, &h)) return Invalid("webp: header");
    if (auto e = CheckDecoderSize(w, h, max_side)) return *e;
    std::uint8_t* out = WebPDecodeRGBA(U8(bytes), bytes.size(), &w, &h);
    if (out == nullptr) return Invalid("webp decode failed");
    Pixels px;
    px.width = w;
    px.height = h;
    px.channels = 4;
    px.data.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(w) * h * 4);
    WebPFree(out);
    return px;
}

struct GifInput {
    std::string_view bytes;
    std::size_t pos = 0;
};

int GifRead(GifFileType* gif, GifByteType* buf, int len) {
    auto* in = static_cast<GifInput*>(gif->UserData);
    std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max(len, 0)),
                                          in->bytes.size() - in->pos);
    std::memcpy(buf, in->bytes.data() + in->pos, n);
    in->pos += n;
    return static_cast<int>(n);
}

// The first frame, composed on a transparent canvas of the logical screen's size.
Result<Pixels> DecodeGif(std::string_view bytes, int max_side) {
    GifInput input{bytes};
    int err = 0;
    GifFileType* gif = DGifOpen(&input, GifRead, &err);
    if (gif == nullptr) return Invalid(std::string("gif: ") + GifErrorString(err));
    struct Closer {
        GifFileType* g;
        ~Closer() {
            int e = 0;
            DGifCloseFile(g, &e);
        }
    } closer{gif};
    int transparent = NO_TRANSPARENT_COLOR;
    for (;;) {
        GifRecordType type = UNDEFINED_RECORD_TYPE;
        if (DGifGetRecordType(gif, &type) == GIF_ERROR) return Invalid("gif: record");
        if (type == TERMINATE_RECORD_TYPE) return Invalid("gif: no image");
        if (type == EXTENSION_RECORD_TYPE) {
            int code = 0;
            GifByteType* ext = nullptr;
            if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) return Invalid("gif: extension");
            if (code == GRAPHICS_EXT_FUNC_CODE && ext != nullptr && ext[0] >= 4) {
                GraphicsControlBlock gcb;
                if (DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK)
                    transparent = gcb.TransparentColor;
            }
            while (ext != nullptr) {
                if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) return Invalid("gif: extension");
            }
            continue;
        }
        if (type != IMAGE_DESC_RECORD_TYPE) continue;
        if (DGifGetImageDesc(gif) == GIF_ERROR) return Invalid("gif: image descriptor");
        const GifImageDesc& d = gif->Image;
        if (d.Width <= 0 || d.Height <= 0) return Invalid("gif: empty frame");
        if (d.Width > max_side || d.Height > max_side) {
            return Error::Make(ErrorCode::kUnprocessable, "image_too_large",
                               "The image's first frame is larger than allowed.");
        }
        const ColorMapObject* map = d.ColorMap != nullptr ? d.ColorMap : gif->SColorMap;
        if (map == nullptr || map->Colors == nullptr) return Invalid("gif: no colour map");
        Pixels px;
        px.width = gif->SWidth > 0 ? gif->SWidth : d.Width;
        px.height = gif->SHeight > 0 ? gif->SHeight : d.Height;
        px.channels = 4;
        px.data.assign(static_cast<std::size_t>(px.width) * px.height * 4, '\0');
        std::string line(static_cast<std::size_t>(d.Width), '\0');
        auto put_row = [&](int row) {
            int y = d.Top + row;
            if (y < 0 || y >= px.height) return;
            for (int i = 0; i < d.Width; ++i) {
                int x = d.Left + i;
                if (x < 0 || x >= px.width) continue;
                int c = static_cast<unsigned char>(line[static_cast<std::size_t>(i)]);
                if (c == transparent || c >= map->ColorCount) continue;
                auto* p = reinterpret_cast<unsigned char*>(px.data.data()) +
                          (static_cast<std::size_t>(y) * px.width + x) * 4;
                p[0] = map->Colors[c].Red;
                p[1] = map->Colors[c].Green;
                p[2] = map->Colors[c].Blue;
                p[3] = 255;
            }
        };
        auto read_line = [&]() {
            return DGifGetLine(gif, reinterpret_cast<GifPixelType*>(line.data()), d.Width) == GIF_OK;
        };
        if (d.Interlace) {
            constexpr int kStart[] = {0, 4, 2, 1};
            constexpr int kStep[] = {8, 8, 4, 2};
            for (int pass = 0; pass < 4; ++pass) {
                for (int row = kStart[pass]; row < d.Height; row += kStep[pass]) {
                    if (!read_line()) return Invalid("gif: pixels");
                    put_row(row);
                }
            }
        } else {
            for (int row = 0; row < d.Height; ++row) {
                if (!read_line()) return Invalid("gif: pixels");
                put_row(row);
            }
        }
        return px;
    }
}

// ---- encoders ----

bool Opaque(const Pixels& px) {
    if (px.channels != 4) return true;
    for (std::size_t i = 3; i < px.data.size(); i += 4) {
        if (static_cast<unsigned char>(px.data[i]) != 255) return false;
    }
    return true;
}

Pixels DropAlpha(const Pixels& in) {
    Pixels out{in.width, in.height, 3, {}};
    out.data.resize(static_cast<std::size_t>(in.width) * in.height * 3);
    for (std::size_t i = 0, j = 0; i < in.data.size(); i += 4, j += 3) {
        out.data[j] = in.data[i];
        out.data[j + 1] = in.data[i + 1];
        out.data[j + 2] = in.data[i + 2];
    }
    return out;
}

Result<std::string> EncodePng(const Pixels& in) {
    Pixels px = Opaque(in) && in.channels == 4 ? DropAlpha(in) : in;
    png_image img;
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = static_cast<png_uint_32>(px.width);
    img.height = static_cast<png_uint_32>(px.height);
    img.format = px.channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&img, nullptr, &size, 0, px.data.data(), 0, nullptr)) {
        return Error::Make(ErrorCode::kInternal, "internal", "Could not encode the image.",
                           std::string("png size: ") + img.message);
    }
    std::string out(size, '\0');
    if (!png_image_write_to_memory(&img, out.data(), &size, 0, px.data.data(), 0, nullptr)) {
        return Error::Make(ErrorCode::kInternal, "internal", "Could not encode the image.",
                           std::string("png: ") + img.message);
    }
    out.resize(size);
    return out;
}

Result<std::string> EncodeJpeg(const Pixels& in) {
    Pixels px = in.channels == 4 ? DropAlpha(in) : in;
    std::unique_ptr<void, int (*)(tjhandle)> h(tjInitCompress(), tjDestroy);
    unsigned char* buf = nullptr;
    unsigned long size = 0;
    if (!h || tjCompress2(h.get(), reinterpret_cast<const unsigned char*>(px.data.data()),
                          px.width, 0, px.height, TJPF_RGB, &buf, &size, TJSAMP_420, kJpegQuality,
                          TJFLAG_ACCURATEDCT) != 0) {
        if (buf) tjFree(buf);
        return Error::Make(ErrorCode::kInternal, "internal", "Could not encode the image.",
                           "jpeg encode failed");
    }
    std::string out(reinterpret_cast<const char*>(buf), size);
    tjFree(buf);
    return out;
}

Result<std::string> EncodeWebp(const Pixels& px) {
    std::uint8_t* buf = nullptr;
    std::size_t size =
        px.channels == 4
            ? WebPEncodeRGBA(U8(px.data), px.width, px.height, px.width * 4, kWebpQuality, &buf)
            : WebPEncodeRGB(U8(px.data), px.width, px.height, px.width * 3, kWebpQuality, &buf);
    if (size == 0 || buf == nullptr) {
        return Error::Make(ErrorCode::kInternal, "internal", "Could not encode the image.",
                           "webp encode failed");
    }
    std::string out(reinterpret_cast<const char*>(buf), size);
    WebPFree(buf);
    return out;
}

}  // namespace

std::string_view MimeType(ImageType type) {
    switch (type) {
        case ImageType::kPng: return "image/png";
        case ImageType::kJpeg: return "image/jpeg";
        case ImageType::kWebp: return "image/webp";
        case ImageType::kGif: return "image/gif";
        case ImageType::kUnknown: break;
    }
    return "";
}

std::string_view Extension(ImageType type) {
    switch (type) {
        case ImageType::kPng: return "png";
        case ImageType::kJpeg: return "jpg";
        case ImageType::kWebp: return "webp";
        case ImageType::kGif: return "gif";
        case ImageType::kUnknown: break;
    }
    return "";
}

ImageType SniffType(std::string_view b) {
    auto starts = [&](std::string_view magic, std::size_t at = 0) {
        return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
    };
    if (starts("\x89PNG\r\n\x1a\n")) return ImageType::kPng;
    if (starts("\xff\xd8\xff")) return ImageType::kJpeg;
    if (starts("GIF87a") || starts("GIF89a")) return ImageType::kGif;
    if (starts("RIFF") && starts("WEBP", 8)) return ImageType::kWebp;
    return ImageType::kUnknown;
}

int JpegOrientation(std::string_view jpeg) {
    const unsigned char* p = U8(jpeg);
    const std::size_t n = jpeg.size();
    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return 1;
    std::size_t pos = 2;
    while (pos + 4 <= n) {
        if (p[pos] != 0xFF) return 1;
        unsigned char marker = p[pos + 1];
        if (marker == 0xFF) {  // fill byte
            ++pos;
            continue;
        }
        if (marker == 0xDA || marker == 0xD9) return 1;  // image data: no EXIF before it
        std::size_t len = Be16(p + pos + 2);
        if (len < 2 || pos + 2 + len > n) return 1;
        const unsigned char* seg = p + pos + 4;
        std::size_t seg_len = len - 2;
        if (marker == 0xE1 && seg_len >= 14 && std::memcmp(seg, "Exif\0\0", 6) == 0) {
            const unsigned char* t = seg + 6;
            std::size_t tn = seg_len - 6;
            bool le = t[0] == 'I' && t[1] == 'I';
            bool be = t[0] == 'M' && t[1] == 'M';
            if (!le && !be) return 1;
            auto u16 = [&](std::size_t at) -> std::uint32_t {
                return le ? Le16(t + at) : Be16(t + at);
            };
            auto u32 = [&](std::size_t at) -> std::uint32_t {
                return le ? (Le16(t + at) | (Le16(t + at + 2) << 16)) : Be32(t + at);
            };
            if (u16(2) != 42) return 1;
            std::size_t ifd = u32(4);
            if (ifd + 2 > tn) return 1;
            std::size_t count = u16(ifd);
            for (std::size_t i = 0; i < count; ++i) {
                std::size_t e = ifd + 2 + i * 12;
                if (e + 12 > tn) return 1;
                if (u16(e) == 0x0112 && u16(e + 2) == 3) {
                    std::uint32_t v = u16(e + 8);
                    return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
                }
            }
            return 1;
        }
        pos += 2 + len;
    }
    return 1;
}

Result<ImageInfo> Probe(std::string_view bytes) {
    ImageInfo info;
    info.type = SniffType(bytes);
    const unsigned char* p = U8(bytes);
    std::optional<int> w, h;
    switch (info.type) {
        case ImageType::kUnknown: return Unsupported();
        case ImageType::kPng:
            if (bytes.size() < 24 || std::memcmp(p + 12, "IHDR", 4) != 0)
                return Invalid("png: no IHDR");
            w = Side(Be32(p + 16));
            h = Side(Be32(p + 20));
            break;
        case ImageType::kGif:
            if (bytes.size() < 13) return Invalid("gif: short header");
            w = Side(Le16(p + 6));
            h = Side(Le16(p + 8));
            break;
        case ImageType::kWebp: {
            WebPBitstreamFeatures f;
            if (WebPGetFeatures(p, bytes.size(), &f) != VP8_STATUS_OK)
                return Invalid("webp: header");
            w = Side(static_cast<std::uint64_t>(std::max(f.width, 0)));
            h = Side(static_cast<std::uint64_t>(std::max(f.height, 0)));
            info.animated = f.has_animation != 0;
            break;
        }
        case ImageType::kJpeg: {
            std::unique_ptr<void, int (*)(tjhandle)> t(tjInitDecompress(), tjDestroy);
            int jw = 0, jh = 0, ss = 0, cs = 0;
            if (!t || tjDecompressHeader3(t.get(), const_cast<unsigned char*>(p),
                                          static_cast<unsigned long>(bytes.size()), &jw, &jh, &ss,
                                          &cs) != 0) {
                return Invalid("jpeg: header");
            }
            w = Side(static_cast<std::uint64_t>(std::max(jw, 0)));
            h = Side(static_cast<std::uint64_t>(std::max(jh, 0)));
            info.orientation = JpegOrientation(bytes);
            break;
        }
    }
    if (!w || !h) return Invalid("implausible size");
    info.width = *w;
    info.height = *h;
    return info;
}

Size FitWithin(int width, int height, std::int64_t max_pixels) {
    std::int64_t w = std::max(width, 1), h = std::max(height, 1);
    if (max_pixels <= 0 || w * h <= max_pixels) return {static_cast<int>(w), static_cast<int>(h)};
    double scale = std::sqrt(static_cast<double>(max_pixels) / static_cast<double>(w * h));
    std::int64_t nw = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(w * scale)));
    std::int64_t nh = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(h * scale)));
    while (nw * nh > max_pixels) {
        if (nw >= nh && nw > 1) {
            --nw;
        } else if (nh > 1) {
            --nh;
        } else {
            break;
        }
    }
    return {static_cast<int>(nw), static_cast<int>(nh)};
}

Pixels Orient(const Pixels& in, int o) {
    if (o < 2 || o > 8) return in;
    const bool swap = o >= 5;
    const int W = in.width, H = in.height, c = in.channels;
    Pixels out{swap ? H : W, swap ? W : H, c, {}};
    out.data.resize(in.data.size());
    for (int oy = 0; oy < out.height; ++oy) {
        for (int ox = 0; ox < out.width; ++ox) {
            int x = 0, y = 0;
            switch (o) {
                case 2: x = W - 1 - ox, y = oy; break;
                case 3: x = W - 1 - ox, y = H - 1 - oy; break;
                case 4: x = ox, y = H - 1 - oy; break;
                case 5: x = oy, y = ox; break;
                case 6: x = oy, y = H - 1 - ox; break;
                case 7: x = W - 1 - oy, y = H - 1 - ox; break;
                default: x = W - 1 - oy, y = ox; break;  // 8
            }
            std::memcpy(out.data.data() + (static_cast<std::size_t>(oy) * out.width + ox) * c,
                        in.data.data() + (static_cast<std::size_t>(y) * W + x) * c,
                        static_cast<std::size_t>(c));
        }
    }
    return out;
}

Pixels Shrink(const Pixels& in, int width, int height) {
    if (width >= in.width && height >= in.height) return in;
    width = std::clamp(width, 1, in.width);
    height = std::clamp(height, 1, in.height);
    const int c = in.channels;
    Pixels out{width, height, c, {}};
    out.data.resize(static_cast<std::size_t>(width) * height * c);
    const auto* src = reinterpret_cast<const unsigned char*>(in.data.data());
    auto* dst = reinterpret_cast<unsigned char*>(out.data.data());
    std::vector<std::uint64_t> sum(static_cast<std::size_t>(c));
    for (int oy = 0; oy < height; ++oy) {
        std::int64_t y0 = std::int64_t(oy) * in.height / height;
        std::int64_t y1 = std::max(y0 + 1, std::int64_t(oy + 1) * in.height / height);
        for (int ox = 0; ox < width; ++ox) {
            std::int64_t x0 = std::int64_t(ox) * in.width / width;
            std::int64_t x1 = std::max(x0 + 1, std::int64_t(ox + 1) * in.width / width);
            std::fill(sum.begin(), sum.end(), 0);
            for (std::int64_t y = y0; y < y1; ++y) {
                const unsigned char* row = src + (y * in.width + x0) * c;
                for (std::int64_t x = x0; x < x1; ++x, row += c) {
                    for (int k = 0; k < c; ++k) sum[static_cast<std::size_t>(k)] += row[k];
                }
            }
            std::uint64_t n = static_cast<std::uint64_t>((y1 - y0) * (x1 - x0));
            unsigned char* d = dst + (static_cast<std::size_t>(oy) * width + ox) * c;
            for (int k = 0; k < c; ++k)
                d[k] = static_cast<unsigned char>((sum[static_cast<std::size_t>(k)] + n / 2) / n);
        }
    }
    return out;
}

Result<NormalizedImage> Normalize(std::string_view bytes, const NormalizeLimits& limits) {
    auto info = Probe(bytes);
    if (!info.ok()) return info.error();
    // Before a single pixel is decoded: a small file can declare an enormous picture.
    if (info->width > limits.max_side || info->height > limits.max_side) {
        return Error::Make(ErrorCode::kUnprocessable, "image_too_large",
                           "The image is " + std::to_string(info->width) + "x" +
                               std::to_string(info->height) + " pixels; at most " +
                               std::to_string(limits.max_side) + "x" +
                               std::to_string(limits.max_side) + " are accepted.");
    }
    if (info->width < limits.min_side || info->height < limits.min_side) {
        return Error::Make(ErrorCode::kUnprocessable, "image_too_small",
                           "The image must be at least " + std::to_string(limits.min_side) +
                               " pixels wide and high.");
    }
    if (info->animated) {
        return Error::Make(ErrorCode::kUnsupportedMediaType, "unsupported_image",
                           "Animated WebP images are not supported.");
    }
    Result<Pixels> decoded = Error{};
    switch (info->type) {
        case ImageType::kPng: decoded = DecodePng(bytes, limits.max_side); break;
        case ImageType::kJpeg: decoded = DecodeJpeg(bytes, limits.max_side); break;
        case ImageType::kWebp: decoded = DecodeWebp(bytes, limits.max_side); break;
        case ImageType::kGif: decoded = DecodeGif(bytes, limits.max_side); break;
        case ImageType::kUnknown: return Unsupported();
    }
    if (!decoded.ok()) return decoded.error();
    Pixels px = Orient(decoded.value(), info->orientation);
    NormalizedImage out;
    out.source_width = px.width;
    out.source_height = px.height;
    Size fit = FitWithin(px.width, px.height, limits.target_pixels);
    if (fit.width < px.width || fit.height < px.height) {
        px = Shrink(px, fit.width, fit.height);
        out.resized = true;
    }
    out.width = px.width;
    out.height = px.height;
    Result<std::string> encoded = Error{};
    switch (info->type) {
        case ImageType::kJpeg:
            out.type = ImageType::kJpeg;
            encoded = EncodeJpeg(px);
            break;
        case ImageType::kWebp:
            out.type = ImageType::kWebp;
            encoded = EncodeWebp(px);
            break;
        default:
            out.type = ImageType::kPng;
            encoded = EncodePng(px);
            break;
    }
    if (!encoded.ok()) return encoded.error();
    out.bytes = std::move(encoded.value());
    return out;
}

std::string DataUrl(std::string_view mime, std::string_view bytes) {
    return "data:" + std::string(mime) + ";base64," + crypto::Base64Encode(bytes);
}

}  // namespace hub::media
