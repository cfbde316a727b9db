#include "frames.hpp"

namespace hub::sim {

std::string MalformBody(std::string_view body) {
    // Keep a prefix that ends inside a key: never valid JSON, however the body looked.
    std::string out(body.substr(0, body.size() / 2));
    out += "{\"trunc";
    return out;
}

std::string MalformFrame(std::string_view frame) {
    auto data = frame.rfind("data:");
    if (data == std::string_view::npos) return MalformBody(frame);
    std::size_t start = data + 5;
    if (start < frame.size() && frame[start] == ' ') ++start;
    auto end = frame.find('\n', start);
    std::string_view json = frame.substr(start, end == std::string_view::npos ? frame.size() - start
                                                                              : end - start);
    std::string out(frame.substr(0, start));
    out += MalformBody(json);
    out += "\n\n";
    return out;
}

}  // namespace hub::sim
