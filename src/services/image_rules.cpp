#include "services/image_rules.hpp"

#include <algorithm>
#include <charconv>

namespace hub::services {

namespace {

using core::Error;
using core::ErrorCode;

bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

Error Field(const std::string& field, const std::string& problem) {
    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed", field + " " + problem);
}

std::string Trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

std::uint32_t Be32(std::string_view b, std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 24) | (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
}
std::uint32_t Be16(std::string_view b, std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 8) | std::uint32_t(std::uint8_t(b[at + 1]));
}
std::uint32_t Le16(std::string_view b, std::size_t at) {
    return std::uint32_t(std::uint8_t(b[at])) | (std::uint32_t(std::uint8_t(b[at + 1])) << 8);
}
std::uint32_t Le24(std::string_view b, std::size_t at) {
    return Le16(b, at) | (std::uint32_t(std::uint8_t(b[at + 2])) << 16);
}

std::optional<ImageKind> ProbePng(std::string_view b) {
    // Signature, then the IHDR chunk: length 13, "IHDR", width, height.
    if (b.size() < 33 || b.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8) ||
        b.substr(12, 4) != "IHDR")
        return std::nullopt;
    return ImageKind{"image/png", "png", Be32(b, 16), Be32(b, 20)};
}

std::optional<ImageKind> ProbeJpeg(std::string_view b) {
    if (b.size() < 4 || std::uint8_t(b[0]) != 0xFF || std::uint8_t(b[1]) != 0xD8) return std::nullopt;
    std::size_t i = 2;
    while (i + 4 <= b.size()) {
        if (std::uint8_t(b[i]) != 0xFF) return std::nullopt;
        std::uint8_t marker = std::uint8_t(b[i + 1]);
        if (marker == 0xFF) {  // fill byte
            ++i;
            continue;
        }
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
            i += 2;
            continue;
        }
        std::uint32_t len = Be16(b, i + 2);
        if (len < 2) return std::nullopt;
        bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                   marker != 0xCC;
        if (sof) {
            if (i + 9 > b.size()) return std::nullopt;
            return ImageKind{"image/jpeg", "jpg", Be16(b, i + 7), Be16(b, i + 5)};
        }
        if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // no frame header before data
        i += 2 + len;
    }
    return std::nullopt;
}

std::optional<ImageKind> ProbeWebp(std::string_view b) {
    if (b.size() < 30 || b.substr(0, 4) != "RIFF" || b.substr(8, 4) != "WEBP") return std::nullopt;
    std::string_view chunk = b.substr(12, 4);
    if (chunk == "VP8 ") {
        // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
        if (std::uint8_t(b[23]) != 0x9d || std::uint8_t(b[24]) != 0x01 || std::uint8_t(b[25]) != 0x2a)
            return std::nullopt;
        return ImageKind{"image/webp", "webp", Le16(b, 26) & 0x3FFF, Le16(b, 28) & 0x3FFF};
    }
    if (chunk == "VP8L") {
        if (std::uint8_t(b[20]) != 0x2f) return std::nullopt;
        std::uint32_t bits = std::uint32_t(std::uint8_t(b[21])) | (std::uint32_t(std::uint8_t(b[22])) << 8) |
                             (std::uint32_t(std::uint8_t(b[23])) << 16) |
                             (std::uint32_t(std::uint8_t(b[24])) << 24);
        return ImageKind{"image/webp", "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
    }
    if (chunk == "VP8X") {
        return ImageKind{"image/webp", "webp", Le24(b, 24) + 1, Le24(b, 27) + 1};
    }
    return std::nullopt;
}

}  // namespace

ImageRules RulesFor(const ModelInfo& model) {
    ImageRules r;
    std::string_view id = model.id;
    if (StartsWith(id, "wanx-v1")) {
        r.size_rule = ImageRules::SizeRule::kFixed;
        r.sizes = {"1024*1024", "720*1280", "1280*720"};
        r.max_prompt_chars = 800;
    } else if (StartsWith(id, "wan2.5") || StartsWith(id, "wan2.6")) {
        r.size_rule = ImageRules::SizeRule::kPixels;
        r.default_size = "1280*1280";
        r.sizes = {"1280*1280", "1440*1440", "1200*1440", "1440*1200", "1024*1792", "1792*1024"};
        r.max_prompt_chars = 2000;
    } else {
        r.size_rule = ImageRules::SizeRule::kSides;
        r.sizes = {"1024*1024", "1440*1440", "768*1152", "1152*768", "720*1280", "1280*720"};
        r.max_prompt_chars = StartsWith(id, "wanx2.0") ? 800 : 500;
    }
    return r;
}

std::optional<std::pair<int, int>> ParseImageSize(std::string_view text) {
    auto sep = text.find_first_of("*x");
    if (sep == std::string_view::npos || sep == 0 || sep + 1 >= text.size()) return std::nullopt;
    int w = 0, h = 0;
    auto wr = std::from_chars(text.data(), text.data() + sep, w);
    auto hr = std::from_chars(text.data() + sep + 1, text.data() + text.size(), h);
    if (wr.ec != std::errc() || wr.ptr != text.data() + sep || hr.ec != std::errc() ||
        hr.ptr != text.data() + text.size() || w <= 0 || h <= 0)
        return std::nullopt;
    return std::pair{w, h};
}

std::size_t Utf8Chars(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

core::Result<ImageRequest> ValidateImageRequest(const Catalog& catalog,
                                                std::string_view default_model, ImageRequest req) {
    if (req.model.empty()) req.model = std::string(default_model);
    auto model = catalog.Require(req.model, {ModelKind::kImage});
    if (!model.ok()) return model.error();
    const ImageRules rules = RulesFor(*model.value());

    if (Trim(req.prompt).empty()) return Field("prompt", "must not be empty.");
    if (Utf8Chars(req.prompt) > rules.max_prompt_chars)
        return Field("prompt", "is longer than " + std::to_string(rules.max_prompt_chars) +
                                   " characters, the limit of " + req.model + ".");
    if (Utf8Chars(req.negative_prompt) > rules.max_negative_prompt_chars)
        return Field("negative_prompt",
                     "is longer than " + std::to_string(rules.max_negative_prompt_chars) +
                         " characters.");

    if (req.size.empty()) req.size = rules.default_size;
    auto wh = ParseImageSize(req.size);
    if (!wh) return Field("size", "must be WIDTH*HEIGHT, e.g. 1024*1024.");
    auto [w, h] = *wh;
    req.size = std::to_string(w) + "*" + std::to_string(h);
    switch (rules.size_rule) {
        case ImageRules::SizeRule::kFixed:
            if (std::find(rules.sizes.begin(), rules.sizes.end(), req.size) == rules.sizes.end()) {
                std::string allowed;
                for (const auto& s : rules.sizes) allowed += (allowed.empty() ? "" : ", ") + s;
                return Field("size", "must be one of " + allowed + " for " + req.model + ".");
            }
            break;
        case ImageRules::SizeRule::kSides:
            if (w < rules.min_side || w > rules.max_side || h < rules.min_side ||
                h > rules.max_side)
                return Field("size", "sides must be between " + std::to_string(rules.min_side) +
                                         " and " + std::to_string(rules.max_side) + " for " +
                                         req.model + ".");
            break;
        case ImageRules::SizeRule::kPixels: {
            std::int64_t px = std::int64_t{w} * h;
            if (px < rules.min_pixels || px > rules.max_pixels || w > 4 * h || h > 4 * w)
                return Field("size", "must have between 1280*1280 and 1440*1440 pixels and a "
                                     "ratio from 1:4 to 4:1 for " + req.model + ".");
            break;
        }
    }
    int n = req.n.value_or(1);
    if (n < 1 || n > rules.max_n)
        return Field("n", "must be between 1 and " + std::to_string(rules.max_n) + ".");
    req.n = n;
    if (req.seed && (*req.seed < 0 || *req.seed > 2147483647))
        return Field("seed", "must be between 0 and 2147483647.");
    return req;
}

std::optional<ImageKind> ProbeImage(std::string_view bytes) {
    std::optional<ImageKind> k = ProbePng(bytes);
    if (!k) k = ProbeJpeg(bytes);
    if (!k) k = ProbeWebp(bytes);
    if (k && (k->width <= 0 || k->height <= 0)) return std::nullopt;
    return k;
}

}  // namespace hub::services
