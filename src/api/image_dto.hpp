#pragma once
// JSON <-> values for image generations: the request body and the public shape of a
// generation with its images (signed file URLs included).
#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "services/image_rules.hpp"
#include "store/models.hpp"

namespace hub::services {
class Images;
}

namespace hub::api {

// {prompt, negative_prompt?, model?, size?, n?, seed?, prompt_extend?, watermark?}; wrong types
// are 400s naming the field, and so are unknown fields unless `other_fields_allowed` (the
// OpenAI surface, whose clients send response_format, quality, user...).
core::Result<services::ImageRequest> ImageRequestFromJson(const nlohmann::json& body,
                                                          bool other_fields_allowed = false);
nlohmann::json GenerationJson(const store::ImageGeneration& g, const services::Images& images);
// An uploaded picture: {id, url, content_type, bytes, width, height, name, created_at}.
nlohmann::json UploadJson(const store::Upload& u);

}  // namespace hub::api
