#pragma once
// What a text-to-image request may ask of each Wanx/Wan model (bailian-api.md §5.1): prompt
// lengths, sizes and image counts, checked before anything is stored or sent upstream; and
// what an image file is, judged from its bytes. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "services/models.hpp"

namespace hub::services {

struct ImageRules {
    std::vector<std::string> sizes;  // offered presets ("W*H"); for kFixed the only ones allowed
    std::string default_size = "1024*1024";
    enum class SizeRule { kFixed, kSides, kPixels } size_rule = SizeRule::kSides;
    int min_side = 512, max_side = 1440;                           // kSides
    std::int64_t min_pixels = 1280 * 1280, max_pixels = 1440 * 1440;  // kPixels
    int max_n = 4;
    std::size_t max_prompt_chars = 500;
    std::size_t max_negative_prompt_chars = 500;
};

// The rules of an image model (by its id's family: wanx-v1, wanx2.0, wanx2.1, wan2.2, wan2.5).
ImageRules RulesFor(const ModelInfo& model);

struct ImageRequest {
    std::string prompt;
    std::string negative_prompt;
    std::string model;  // empty = the default image model
    std::string size;   // "W*H" or "WxH"; empty = the model's default
    std::optional<int> n;
    std::optional<std::int64_t> seed;
    bool prompt_extend = true;
    bool watermark = false;
};

// Checks a request against the catalog and the model's rules; the answer has model and size
// filled ("W*H") and n set. Errors are 400s naming the field: validation_failed, or
// unknown_model for a model that is not an enabled image model.
[[nodiscard]] core::Result<ImageRequest> ValidateImageRequest(const Catalog& catalog,
                                                              std::string_view default_model,
                                                              ImageRequest req);

// "1024*1024" or "1024x1024" -> {w, h}.
std::optional<std::pair<int, int>> ParseImageSize(std::string_view text);
std::size_t Utf8Chars(std::string_view text);

struct ImageKind {
    std::string content_type;  // image/png, image/jpeg, image/webp
    std::string extension;     // png, jpg, webp
    std::int64_t width = 0;
    std::int64_t height = 0;
};

// PNG, JPEG or WebP from the bytes themselves, with the pixel size from the header; nullopt
// for anything else (HTML, truncated files, other formats).
std::optional<ImageKind> ProbeImage(std::string_view bytes);

}  // namespace hub::services
