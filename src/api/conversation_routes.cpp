// /api/v1/conversations: create, list and search, read, change, delete, export.
#include "api/chat_dto.hpp"
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/conversations.hpp"

namespace hub::api {

namespace {

core::Result<bool> BoolQuery(const http::Request& req, const char* name) {
    auto v = req.Query(name);
    if (!v || v->empty() || *v == "false" || *v == "0") return false;
    if (*v == "true" || *v == "1") return true;
    return FieldError(name, "must be true or false.");
}

// A file name from the title: letters, digits, '-' and '_' (others become '-'), at most 60.
std::string FileStem(const store::Conversation& c) {
    std::string stem;
    for (char ch : c.title) {
        auto u = static_cast<unsigned char>(ch);
        bool ok = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                  ch == '-' || ch == '_';
        if (ok) {
            stem += ch;
        } else if (!stem.empty() && stem.back() != '-') {
            stem += '-';
        }
        if (stem.size() >= 60) break;
    }
    while (!stem.empty() && stem.back() == '-') stem.pop_back();
    return stem.empty() ? "conversation-" + c.id : stem;
}

}  // namespace

std::string ConversationExportJson(const services::ConversationExport& e) {
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& m : e.messages) messages.push_back(MessageJson(m));
    return nlohmann::json({{"format", "bailian-hub.conversation.v1"},
                           {"conversation", ConversationJson(e.conversation)},
                           {"messages", messages},
                           {"truncated", e.truncated}})
        .dump();
}

void RegisterConversationRoutes(http::Router& router, const ApiDeps& deps) {
    services::Conversations& convs = deps.conversations;
    const std::string perm(auth::perm::kConversationsOwn);

    router.Add(
        "POST", "/api/v1/conversations",
        Require(
            deps.accounts, perm,
            [&convs](http::Context& ctx,
                     const auth::Principal& who) -> net::awaitable<http::Response> {
                const auto& rid = ctx.req.request_id;
                services::NewConversation in;
                if (!ctx.req.body.empty()) {
                    auto body = ParseJsonObject(ctx.req);
                    if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                    if (auto k = OnlyFields(*body, {"title", "model", "system_prompt"}); !k.ok())
                        co_return ErrorResponse(k.error(), rid);
                    for (auto [field, target] :
                         {std::pair{"title", &in.title}, std::pair{"model", &in.model},
                          std::pair{"system_prompt", &in.system_prompt}}) {
                        auto v = OptString(*body, field);
                        if (!v.ok()) co_return ErrorResponse(v.error(), rid);
                        *target = std::move(v.value());
                    }
                }
                auto c = co_await convs.Create(who.user_id, std::move(in));
                if (!c.ok()) co_return ErrorResponse(c.error(), rid);
                co_return JsonResponse(201, ConversationJson(*c, store::MessageTotals{}));
            }));

    router.Add("GET", "/api/v1/conversations",
               Require(deps.accounts, perm,
                       [&convs](http::Context& ctx,
                                const auth::Principal& who) -> net::awaitable<http::Response> {
                           const auto& rid = ctx.req.request_id;
                           auto page = PageFromQuery(ctx.req);
                           if (!page.ok()) co_return ErrorResponse(page.error(), rid);
                           auto archived = BoolQuery(ctx.req, "archived");
                           if (!archived.ok()) co_return ErrorResponse(archived.error(), rid);
                           store::ConversationQuery q;
                           q.q = ctx.req.Query("q").value_or("");
                           q.include_archived = archived.value();
                           q.page = std::move(page.value());
                           auto list = co_await convs.List(who.user_id, std::move(q));
                           if (!list.ok()) co_return ErrorResponse(list.error(), rid);
                           co_return JsonResponse(200,
                                                  PageJson(*list, [](const store::Conversation& c) {
                                                      return ConversationJson(c);
                                                  }));
                       }));

    router.Add("GET", "/api/v1/conversations/{id}",
               Require(deps.accounts, perm,
                       [&convs](http::Context& ctx,
                                const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto d = co_await convs.GetDetail(who.user_id, ctx.req.Param("id"));
                           if (!d.ok()) co_return ErrorResponse(d.error(), ctx.req.request_id);
                           co_return JsonResponse(200,
                                                  ConversationJson(d->conversation, d->totals));
                       }));

    router.Add(
        "PATCH", "/api/v1/conversations/{id}",
        Require(deps.accounts, perm,
                [&convs](http::Context& ctx,
                         const auth::Principal& who) -> net::awaitable<http::Response> {
                    const auto& rid = ctx.req.request_id;
                    auto body = ParseJsonObject(ctx.req);
                    if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                    if (auto k = OnlyFields(
                            *body, {"title", "pinned", "archived", "model", "system_prompt"});
                        !k.ok())
                        co_return ErrorResponse(k.error(), rid);
                    store::ConversationPatch p;
                    for (auto [field, target] :
                         {std::pair{"title", &p.title}, std::pair{"model", &p.model},
                          std::pair{"system_prompt", &p.system_prompt}}) {
                        auto v = OptString(*body, field);
                        if (!v.ok()) co_return ErrorResponse(v.error(), rid);
                        *target = std::move(v.value());
                    }
                    for (auto [field, target] :
                         {std::pair{"pinned", &p.pinned}, std::pair{"archived", &p.archived}}) {
                        auto v = OptBool(*body, field);
                        if (!v.ok()) co_return ErrorResponse(v.error(), rid);
                        *target = v.value();
                    }
                    std::string id = ctx.req.Param("id");
                    bool empty =
                        !p.title && !p.model && !p.system_prompt && !p.pinned && !p.archived;
                    if (!empty) {
                        auto c = co_await convs.Update(who.user_id, id, std::move(p));
                        if (!c.ok()) co_return ErrorResponse(c.error(), rid);
                    }
                    auto d = co_await convs.GetDetail(who.user_id, id);
                    if (!d.ok()) co_return ErrorResponse(d.error(), rid);
                    co_return JsonResponse(200, ConversationJson(d->conversation, d->totals));
                }));

    router.Add("DELETE", "/api/v1/conversations/{id}",
               Require(deps.accounts, perm,
                       [&convs](http::Context& ctx,
                                const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto r = co_await convs.Delete(who.user_id, ctx.req.Param("id"));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));

    router.Add(
        "GET", "/api/v1/conversations/{id}/export",
        Require(deps.accounts, perm,
                [&convs](http::Context& ctx,
                         const auth::Principal& who) -> net::awaitable<http::Response> {
                    const auto& rid = ctx.req.request_id;
                    std::string format = ctx.req.Query("format").value_or("markdown");
                    if (format == "md") format = "markdown";
                    if (format != "markdown" && format != "json") {
                        co_return ErrorResponse(FieldError("format", "must be markdown or json."),
                                                rid);
                    }
                    auto e = co_await convs.Export(who.user_id, ctx.req.Param("id"));
                    if (!e.ok()) co_return ErrorResponse(e.error(), rid);
                    std::string stem = FileStem(e->conversation);
                    http::Response r;
                    if (format == "markdown") {
                        r = http::Response::Text(200, services::RenderMarkdown(*e),
                                                 "text/markdown; charset=utf-8");
                        stem += ".md";
                    } else {
                        r = http::Response::Json(200, ConversationExportJson(*e));
                        stem += ".json";
                    }
                    r.headers.Set("Content-Disposition", "attachment; filename=\"" + stem + "\"");
                    co_return r;
                }));
}

}  // namespace hub::api
