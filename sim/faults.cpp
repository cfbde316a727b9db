#include "faults.hpp"

#include <charconv>

namespace hub::sim {
namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<long> ParseInt(std::string_view s) {
    long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

std::optional<double> ParseDouble(std::string_view s) {
    try {
        std::size_t used = 0;
        double v = std::stod(std::string(s), &used);
        if (used != s.size() || v < 0) return std::nullopt;
        return v;
    } catch (...) {
        return std::nullopt;
    }
}

int Clamp(long v) { return static_cast<int>(std::min<long>(v, 3'600'000)); }

bool ApplyOne(std::string_view sw, FaultSet* f) {
    std::string_view name = sw, arg;
    if (auto c = sw.find(':'); c != std::string_view::npos) {
        name = sw.substr(0, c);
        arg = sw.substr(c + 1);
    }
    auto num = [&](int fallback) -> std::optional<int> {
        if (arg.empty()) return fallback;
        auto v = ParseInt(arg);
        if (!v) return std::nullopt;
        return Clamp(*v);
    };
    auto set_status = [&](int code) {
        if (!arg.empty()) return false;
        f->status = code;
        f->status_name = std::string(name);
        return true;
    };
    if (name == "429") return set_status(429);
    if (name == "500") return set_status(500);
    if (name == "401") return set_status(401);
    if (name == "503") return set_status(503);
    if (name == "403") return set_status(403);
    if (name == "arrearage") return set_status(400);
    if (name == "malformed") return arg.empty() && (f->malformed = true);
    if (name == "reset") return arg.empty() && (f->reset = true);
    if (name == "utf8-split") return arg.empty() && (f->utf8_split = true);
    if (name == "no-blank-lines") return arg.empty() && (f->no_blank_lines = true);
    if (name == "task-failed") return arg.empty() && (f->task_failed = true);
    if (name == "task-partial") return arg.empty() && (f->task_partial = true);
    if (name == "cut") {
        auto v = num(-1);
        if (!v || *v < 0) return false;
        f->cut_after = *v;
        return true;
    }
    if (name == "stall") {
        auto v = num(kDefaultStallMs / 1000);
        if (!v) return false;
        f->stall_ms = arg.empty() ? kDefaultStallMs : Clamp(static_cast<long>(*v) * 1000);
        return true;
    }
    if (name == "stall-before-headers") {
        auto v = num(kDefaultStallMs / 1000);
        if (!v) return false;
        f->stall_before_headers_ms =
            arg.empty() ? kDefaultStallMs : Clamp(static_cast<long>(*v) * 1000);
        return true;
    }
    if (name == "drip") {
        auto v = num(kDefaultDripMs);
        if (!v) return false;
        f->drip_ms = *v;
        return true;
    }
    if (name == "inspection") {
        if (arg.empty()) {
            f->inspection = true;
            return true;
        }
        if (arg == "mid") {
            f->inspection_mid = 3;
            return true;
        }
        auto v = ParseInt(arg);
        if (!v) return false;
        f->inspection_mid = Clamp(*v);
        return true;
    }
    return false;
}

}  // namespace

bool FaultSet::Any() const { return !names.empty(); }

std::vector<std::string> ApplyFaultSpec(std::string_view spec, FaultSet* out) {
    std::vector<std::string> unknown;
    while (!spec.empty()) {
        auto comma = spec.find(',');
        std::string_view sw = Trim(spec.substr(0, comma));
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        if (sw.empty()) continue;
        if (ApplyOne(sw, out)) {
            out->names.emplace_back(sw);
        } else {
            unknown.emplace_back(sw);
        }
    }
    return unknown;
}

Directives ParseDirectives(std::string_view text) {
    Directives d;
    std::size_t pos = 0;
    while ((pos = text.find("[sim:", pos)) != std::string_view::npos) {
        auto end = text.find(']', pos);
        if (end == std::string_view::npos) break;
        std::string_view body = Trim(text.substr(pos + 5, end - pos - 5));
        pos = end + 1;
        auto eq = body.find('=');
        if (eq == std::string_view::npos) {
            if (!d.faults.empty()) d.faults.push_back(',');
            d.faults += std::string(body);
            continue;
        }
        std::string_view key = Trim(body.substr(0, eq));
        std::string_view val = Trim(body.substr(eq + 1));
        if (key == "fault") {
            if (!d.faults.empty()) d.faults.push_back(',');
            d.faults += std::string(val);
        } else if (key == "tokens") {
            if (auto v = ParseInt(val)) d.tokens = Clamp(*v);
        } else if (key == "reasoning") {
            if (auto v = ParseInt(val)) d.reasoning_tokens = Clamp(*v);
        } else if (key == "tps") {
            d.tokens_per_second = ParseDouble(val);
        } else if (key == "ttft") {
            if (auto v = ParseInt(val)) d.first_token_ms = Clamp(*v);
        } else if (key == "task-seconds") {
            d.task_seconds = ParseDouble(val);
        }
    }
    return d;
}

void FaultQueue::Push(Entry e) {
    if (e.remaining <= 0) return;
    std::lock_guard lk(mu_);
    entries_.push_back(std::move(e));
}

std::string FaultQueue::Take(const std::string& path) {
    std::lock_guard lk(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (!it->path.empty() && path.find(it->path) == std::string::npos) continue;
        std::string spec = it->spec;
        if (--it->remaining <= 0) entries_.erase(it);
        return spec;
    }
    return {};
}

std::vector<FaultQueue::Entry> FaultQueue::List() const {
    std::lock_guard lk(mu_);
    return {entries_.begin(), entries_.end()};
}

void FaultQueue::Clear() {
    std::lock_guard lk(mu_);
    entries_.clear();
}

}  // namespace hub::sim
