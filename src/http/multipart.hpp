#pragma once
// multipart/form-data bodies (RFC 7578), parsed whole: the parts' names, file names, types and
// bytes (views into the body). Pure; the body limit is the server's business.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::http {

struct FormPart {
    std::string name;          // Content-Disposition name
    std::string filename;      // Content-Disposition filename ("" for a plain field)
    std::string content_type;  // as the client said (never trusted for files)
    std::string_view body;
};

// The boundary of a "multipart/form-data; boundary=..." Content-Type, or "" when it is not one.
std::string FormBoundary(std::string_view content_type);

// Errors: kUnsupportedMediaType "unsupported_media_type" when the Content-Type is not
// multipart/form-data with a boundary; kInvalidArgument "invalid_multipart" for a broken body.
core::Result<std::vector<FormPart>> ParseFormData(std::string_view content_type,
                                                  std::string_view body);

}  // namespace hub::http
