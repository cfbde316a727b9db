#include "wanx.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "ids.hpp"
#include "models.hpp"
#include "png.hpp"

namespace hub::sim {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

bool ParseSize(const std::string& s, int* w, int* h) {
    auto star = s.find('*');
    if (star == std::string::npos || star == 0 || star + 1 >= s.size()) return false;
    const char* b = s.data();
    auto r1 = std::from_chars(b, b + star, *w);
    auto r2 = std::from_chars(b + star + 1, b + s.size(), *h);
    return r1.ec == std::errc() && r1.ptr == b + star && r2.ec == std::errc() &&
           r2.ptr == b + s.size();
}

}  // namespace

std::optional<SimError> ParseImageRequest(const json& body, const std::vector<std::string>& extra,
                                          ImageRequest* r) {
    if (!body.is_object()) return SimError::InvalidParameter("Request body must be a JSON object");
    auto model = body.find("model");
    if (model == body.end() || !model->is_string() || model->get<std::string>().empty())
        return SimError::Of(ErrorKind::kEmptyModel);
    r->model = model->get<std::string>();
    auto at = r->model.find('@');
    r->model_name = r->model.substr(0, at);
    r->model_fault = at == std::string::npos ? std::string{} : r->model.substr(at + 1);
    auto info = LookupModel(r->model_name, extra);
    if (!info || info->kind != ModelKind::kImage) return SimError::ModelNotFound(r->model_name);
    r->wanx_v1 = info->wanx_v1;
    auto input = body.find("input");
    if (input == body.end() || !input->is_object()) return SimError::Of(ErrorKind::kEmptyInput);
    auto prompt = input->find("prompt");
    if (prompt == input->end() || !prompt->is_string() || prompt->get<std::string>().empty())
        return SimError::InvalidParameter("Field required: input.prompt", "prompt");
    r->prompt = prompt->get<std::string>();
    r->negative_prompt = input->value("negative_prompt", std::string{});
    r->size = info->wan25 ? "1280*1280" : "1024*1024";
    r->prompt_extend = !r->wanx_v1;
    if (auto p = body.find("parameters"); p != body.end() && p->is_object()) {
        if (auto s = p->find("size"); s != p->end() && s->is_string()) r->size = s->get<std::string>();
        if (auto n = p->find("n"); n != p->end() && !n->is_null()) {
            if (!n->is_number_integer() || n->get<long>() < 1 || n->get<long>() > 4)
                return SimError::InvalidParameter("The n parameter must be in [1, 4]", "n");
            r->n = n->get<int>();
        }
        if (auto s = p->find("seed"); s != p->end() && !s->is_null()) {
            if (!s->is_number_integer() || s->get<long long>() < 0 ||
                s->get<long long>() > 2147483647LL)
                return SimError::InvalidParameter("The seed parameter must be in [0, 2147483647]",
                                                  "seed");
            r->seed = s->get<long long>();
        }
        if (auto e = p->find("prompt_extend"); e != p->end() && e->is_boolean() && !r->wanx_v1)
            r->prompt_extend = e->get<bool>();
    }
    if (r->wanx_v1) {
        if (r->size != "1024*1024" && r->size != "720*1280" && r->size != "1280*720")
            return SimError::InvalidParameter(
                "The size is not match the allowed size ['1024*1024', '720*1280', '1280*720']",
                "size");
        ParseSize(r->size, &r->width, &r->height);
        return std::nullopt;
    }
    if (!ParseSize(r->size, &r->width, &r->height))
        return SimError::InvalidParameter("The size '" + r->size +
                                              "' is invalid, it should be like '1024*1024'",
                                          "size");
    if (info->wan25) {
        long long px = static_cast<long long>(r->width) * r->height;
        bool ratio_ok = r->width * 4LL >= r->height && r->height * 4LL >= r->width;
        if (px < 1280LL * 1280 || px > 1440LL * 1440 || !ratio_ok)
            return SimError::InvalidParameter(
                "The size '" + r->size +
                    "' is invalid: total pixels must be in [1280*1280, 1440*1440] and the aspect "
                    "ratio in [1:4, 4:1]",
                "size");
    } else if (r->width < 512 || r->width > 1440 || r->height < 512 || r->height > 1440) {
        return SimError::InvalidParameter("The size '" + r->size +
                                              "' is invalid: width and height must be in [512, 1440]",
                                          "size");
    }
    return std::nullopt;
}

const char* TaskStatusName(TaskStatus s) {
    switch (s) {
        case TaskStatus::kPending: return "PENDING";
        case TaskStatus::kRunning: return "RUNNING";
        case TaskStatus::kSucceeded: return "SUCCEEDED";
        case TaskStatus::kFailed: return "FAILED";
        case TaskStatus::kCanceled: return "CANCELED";
    }
    return "UNKNOWN";
}

TaskStatus Task::StatusAt(std::int64_t now_ms) const {
    if (canceled_ms) return TaskStatus::kCanceled;
    if (now_ms >= EndMs()) return fail_all ? TaskStatus::kFailed : TaskStatus::kSucceeded;
    if (now_ms >= ScheduledMs()) return TaskStatus::kRunning;
    return TaskStatus::kPending;
}

bool Task::ImageFailed(int index) const {
    if (fail_all) return true;
    if (!partial) return false;
    // Partial failure: every second image fails (the only one when n == 1).
    return req.n == 1 || index % 2 == 1;
}

int Task::Succeeded() const {
    int ok = 0;
    for (int i = 0; i < req.n; ++i) ok += ImageFailed(i) ? 0 : 1;
    return ok;
}

std::string Task::ActualPrompt() const {
    return req.prompt + ", rich detail, soft natural light, balanced composition, high quality";
}

Task TaskStore::Submit(ImageRequest req, std::int64_t now_ms, std::int64_t duration_ms,
                       bool fail_all, bool partial) {
    Task t;
    t.id = NewUuid();
    t.req = std::move(req);
    t.submit_ms = now_ms;
    t.duration_ms = duration_ms < 0 ? 0 : duration_ms;
    t.fail_all = fail_all;
    t.partial = partial;
    std::lock_guard lk(mu_);
    while (tasks_.size() >= capacity_ && !order_.empty()) {
        tasks_.erase(order_.front());
        order_.pop_front();
    }
    order_.push_back(t.id);
    tasks_[t.id] = t;
    return t;
}

std::optional<Task> TaskStore::Find(const std::string& id) const {
    std::lock_guard lk(mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return std::nullopt;
    return it->second;
}

TaskStore::CancelResult TaskStore::Cancel(const std::string& id, std::int64_t now_ms) {
    std::lock_guard lk(mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return CancelResult::kUnknown;
    if (it->second.StatusAt(now_ms) != TaskStatus::kPending) return CancelResult::kNotPending;
    it->second.canceled_ms = now_ms;
    return CancelResult::kOk;
}

void TaskStore::Clear() {
    std::lock_guard lk(mu_);
    tasks_.clear();
    order_.clear();
}

std::size_t TaskStore::Size() const {
    std::lock_guard lk(mu_);
    return tasks_.size();
}

std::string FormatChinaTime(std::int64_t epoch_ms) {
    std::int64_t local = epoch_ms + 8LL * 3600 * 1000;
    std::time_t secs = static_cast<std::time_t>(local / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(local % 1000));
    return buf;
}

std::string SubmitBody(const std::string& task_id, const std::string& request_id) {
    ojson j;
    j["output"] = {{"task_status", "PENDING"}, {"task_id", task_id}};
    j["request_id"] = request_id;
    return j.dump();
}

std::string CancelOkBody(const std::string& request_id) {
    ojson j;
    j["request_id"] = request_id;
    return j.dump();
}

std::string ResultUrl(const Task& t, int index, const std::string& base_url) {
    std::uint64_t sig = Hash64(t.id + "/" + std::to_string(index));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(sig));
    return base_url + "/results/" + t.id + "/" + std::to_string(index + 1) +
           ".png?Expires=" + std::to_string(t.EndMs() / 1000 + 86400) +
           "&OSSAccessKeyId=LTAI5tSimulator&Signature=" + hex;
}

void ResultDims(const Task& t, int* w, int* h) {
    int W = std::max(t.req.width, 1), H = std::max(t.req.height, 1);
    int m = std::max(W, H);
    *w = std::max(1, W * 64 / m);
    *h = std::max(1, H * 64 / m);
}

std::string ResultPng(const Task& t, int index) {
    int w = 0, h = 0;
    ResultDims(t, &w, &h);
    std::string key = t.req.prompt + "#" + std::to_string(index);
    Rgb top = ColourFor(t.req.prompt);
    Rgb bottom = ColourFor(key);
    return EncodePng(w, h, top, bottom);
}

std::string TaskBody(const Task* t, const std::string& task_id, std::int64_t now_ms,
                     const std::string& request_id, const std::string& base_url) {
    ojson j;
    j["request_id"] = request_id;
    ojson out;
    out["task_id"] = task_id;
    if (!t) {
        out["task_status"] = "UNKNOWN";
        j["output"] = std::move(out);
        return j.dump();
    }
    TaskStatus st = t->StatusAt(now_ms);
    out["task_status"] = TaskStatusName(st);
    out["submit_time"] = FormatChinaTime(t->submit_ms);
    const int total = t->req.n;
    ojson metrics;
    metrics["TOTAL"] = total;
    switch (st) {
        case TaskStatus::kPending:
            metrics["SUCCEEDED"] = 0;
            metrics["FAILED"] = 0;
            out["task_metrics"] = std::move(metrics);
            break;
        case TaskStatus::kRunning:
            out["scheduled_time"] = FormatChinaTime(t->ScheduledMs());
            metrics["SUCCEEDED"] = 0;
            metrics["FAILED"] = 0;
            out["task_metrics"] = std::move(metrics);
            break;
        case TaskStatus::kCanceled:
            out["end_time"] = FormatChinaTime(*t->canceled_ms);
            metrics["SUCCEEDED"] = 0;
            metrics["FAILED"] = 0;
            out["task_metrics"] = std::move(metrics);
            break;
        case TaskStatus::kFailed:
            out["scheduled_time"] = FormatChinaTime(t->ScheduledMs());
            out["end_time"] = FormatChinaTime(t->EndMs());
            out["code"] = "InternalError";
            out["message"] =
                "An internal error has occured during execution, please try again later or "
                "contact service support.";
            metrics["SUCCEEDED"] = 0;
            metrics["FAILED"] = total;
            out["task_metrics"] = std::move(metrics);
            break;
        case TaskStatus::kSucceeded: {
            out["scheduled_time"] = FormatChinaTime(t->ScheduledMs());
            out["end_time"] = FormatChinaTime(t->EndMs());
            ojson results = ojson::array();
            for (int i = 0; i < total; ++i) {
                ojson r;
                if (t->ImageFailed(i)) {
                    r["code"] = "InternalError.Timeout";
                    r["message"] =
                        "An internal timeout error has occured during execution, please try "
                        "again later or contact service support.";
                } else {
                    if (!t->req.wanx_v1) {
                        r["orig_prompt"] = t->req.prompt;
                        if (t->req.prompt_extend) r["actual_prompt"] = t->ActualPrompt();
                    }
                    r["url"] = ResultUrl(*t, i, base_url);
                }
                results.push_back(std::move(r));
            }
            out["results"] = std::move(results);
            int ok = t->Succeeded();
            metrics["SUCCEEDED"] = ok;
            metrics["FAILED"] = total - ok;
            out["task_metrics"] = std::move(metrics);
            j["output"] = std::move(out);
            j["usage"] = {{"image_count", ok}};
            return j.dump();
        }
    }
    j["output"] = std::move(out);
    return j.dump();
}

}  // namespace hub::sim
