#include "services/passkeys.hpp"

#include <algorithm>

#include "auth/password.hpp"
#include "crypto/crypto.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;
namespace wa = auth::webauthn;

namespace {

constexpr std::size_t kChallengeBytes = 32;
constexpr std::size_t kMaxNameBytes = 64;

Error NotAccepted() {
    return Error::Make(ErrorCode::kUnauthenticated, "passkey_not_accepted",
                       "The passkey was not accepted; try again or sign in another way.");
}

Error SessionOnly() {
    return Error::Make(ErrorCode::kForbidden, "session_required",
                       "Passkeys are managed from a signed-in session, not with an API key.");
}

std::string B64(std::string_view raw) { return crypto::Base64UrlEncode(raw); }

bool IsLoopbackName(std::string_view h) {
    return h == "localhost" || h == "127.0.0.1" || h == "[::1]" ||
           (h.size() > 10 && h.substr(h.size() - 10) == ".localhost");
}

// "host[:port]" -> host ("[v6]" kept whole).
std::string_view HostName(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        return close == std::string_view::npos ? host : host.substr(0, close + 1);
    }
    auto colon = host.find(':');
    return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool PlausibleHost(std::string_view h) {
    if (h.empty() || h.size() > 255) return false;
    return std::all_of(h.begin(), h.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    });
}

std::string NameOrDefault(std::string name, std::int64_t n) {
    if (name.empty()) name = "Passkey " + std::to_string(n);
    return name;
}

Result<void> ValidateName(const std::string& name) {
    bool blank = std::all_of(name.begin(), name.end(),
                             [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
    if (blank || name.size() > kMaxNameBytes || !auth::IsValidUtf8(name)) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "name must be 1 to 64 bytes of UTF-8, not only spaces.");
    }
    return core::Ok();
}

nlohmann::json PubKeyCredParams() {
    return nlohmann::json::array({{{"type", "public-key"}, {"alg", wa::kAlgEs256}},
                                  {{"type", "public-key"}, {"alg", wa::kAlgEdDsa}},
                                  {{"type", "public-key"}, {"alg", wa::kAlgRs256}}});
}

nlohmann::json Descriptors(const std::vector<store::Passkey>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : list) {
        nlohmann::json d = {{"type", "public-key"}, {"id", B64(p.credential_id)}};
        auto t = nlohmann::json::parse(p.transports, nullptr, false);
        if (t.is_array() && !t.empty()) d["transports"] = t;
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace

Result<wa::RelyingParty> ResolveRelyingParty(const PasskeysConfig& cfg, std::string_view host) {
    wa::RelyingParty rp;
    std::string public_origin = cfg.public_url;
    std::string public_host;
    if (!public_origin.empty()) {
        auto start = cfg.public_url.find("://");
        std::string_view rest = std::string_view(cfg.public_url).substr(start + 3);
        rest = rest.substr(0, rest.find('/'));
        public_host = std::string(HostName(rest));
        public_origin = cfg.public_url.substr(0, start + 3) + std::string(rest);
        if (public_host.size() > 2 && public_host.front() == '[') public_host.clear();
    }
    std::string_view request_name = HostName(host);
    bool request_ok = PlausibleHost(host) && !request_name.empty() && request_name.front() != '[';
    if (!cfg.rp_id.empty()) {
        rp.id = cfg.rp_id;
    } else if (!public_host.empty()) {
        rp.id = public_host;
    } else if (request_ok) {
        rp.id = std::string(request_name);
    }
    if (!cfg.origins.empty()) {
        rp.origins = cfg.origins;
    } else if (!public_origin.empty()) {
        rp.origins = {public_origin};
    } else if (request_ok) {
        rp.origins = {"https://" + std::string(host)};
        if (IsLoopbackName(request_name)) rp.origins.push_back("http://" + std::string(host));
    }
    if (rp.id.empty() || rp.origins.empty()) {
        return Error::Make(ErrorCode::kUnavailable, "passkeys_unavailable",
                           "Passkeys are not available here: set BAILIAN_HUB_WEBAUTHN_RP_ID or "
                           "BAILIAN_HUB_PUBLIC_URL.");
    }
    return rp;
}

Passkeys::Passkeys(store::Store& store, async::WorkerPool& db, Accounts& accounts,
                   limit::Limiter& limiter, const core::Clock& clock, PasskeysConfig cfg)
    : store_(store), db_(db), accounts_(accounts), limiter_(limiter), clock_(clock),
      cfg_(std::move(cfg)) {}

void Passkeys::Audit(std::optional<std::string> actor, std::string action, std::string target,
                     const RequestMeta& meta, std::string detail_json) {
    AppendAudit(store_, clock_, std::move(actor), std::move(action), std::move(target), meta,
                std::move(detail_json));
}

net::awaitable<Result<std::string>> Passkeys::IssueChallenge(std::string purpose,
                                                             std::optional<std::string> user_id) {
    std::string raw = crypto::RandomBytes(kChallengeBytes);
    store::WebAuthnChallenge ch;
    ch.challenge_hash = crypto::Sha256Hex(raw);
    ch.purpose = std::move(purpose);
    ch.user_id = std::move(user_id);
    ch.created_at = clock_.NowMs();
    ch.expires_at = ch.created_at + cfg_.challenge_ttl.count() * 1000;
    auto stored = co_await db_.Run(
        [this](store::WebAuthnChallenge ch) {
            // Expired challenges go as new ones come: the table holds only live ones (and
            // a minute of dead ones).
            (void)store_.Passkeys().PruneChallenges(ch.created_at - 60'000);
            return store_.Passkeys().CreateChallenge(std::move(ch));
        },
        std::move(ch));
    if (!stored.ok()) co_return stored.error();
    co_return raw;
}

net::awaitable<Result<nlohmann::json>> Passkeys::RegistrationOptions(auth::Principal who,
                                                                     std::string host) {
    if (who.IsApiKey()) co_return SessionOnly();
    auto rp = ResolveRelyingParty(cfg_, host);
    if (!rp.ok()) co_return rp.error();
    auto user = co_await db_.Run([this](std::string id) { return store_.Users().Get(id); },
                                 who.user_id);
    if (!user.ok()) co_return user.error();
    auto existing = co_await db_.Run(
        [this](std::string id) { return store_.Passkeys().ListByUser(id); }, who.user_id);
    if (!existing.ok()) co_return existing.error();
    if (existing->size() >= cfg_.max_per_user) {
        co_return Error::Make(ErrorCode::kConflict, "too_many_passkeys",
                              "You have the most passkeys allowed; delete one first.");
    }
    std::string purpose(store::kChallengeRegister);
    std::optional<std::string> uid = who.user_id;
    auto challenge = co_await IssueChallenge(std::move(purpose), std::move(uid));
    if (!challenge.ok()) co_return challenge.error();
    nlohmann::json options = {
        {"rp", {{"id", rp->id}, {"name", cfg_.rp_name}}},
        // The user handle: the user's opaque id, stable for the account's life.
        {"user",
         {{"id", B64(user->id)}, {"name", user->username}, {"displayName", user->display_name}}},
        {"challenge", B64(*challenge)},
        {"pubKeyCredParams", PubKeyCredParams()},
        {"timeout", cfg_.challenge_ttl.count() * 1000},
        {"excludeCredentials", Descriptors(*existing)},
        {"authenticatorSelection",
         {{"residentKey", "required"}, {"requireResidentKey", true}, {"userVerification", "required"}}},
        {"attestation", "none"}};
    co_return options;
}

net::awaitable<Result<store::Passkey>> Passkeys::Register(auth::Principal who, std::string host,
                                                          std::string name,
                                                          RegistrationCredential cred,
                                                          RequestMeta meta) {
    if (who.IsApiKey()) co_return SessionOnly();
    if (!name.empty()) {
        if (auto v = ValidateName(name); !v.ok()) co_return v.error();
    }
    auto rp = ResolveRelyingParty(cfg_, host);
    if (!rp.ok()) co_return rp.error();
    auto cd = wa::ParseClientData(cred.client_data_json);
    if (!cd.ok()) co_return cd.error();
    std::string hash = crypto::Sha256Hex(cd->challenge);
    auto ch = co_await db_.Run(
        [this](std::string hash, std::int64_t now) {
            return store_.Passkeys().ConsumeChallenge(hash, store::kChallengeRegister, now);
        },
        hash, clock_.NowMs());
    if (!ch.ok() || ch->user_id != who.user_id) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "webauthn_challenge_invalid",
                              "The registration challenge is unknown, used or expired; start again.");
    }
    wa::Expectation want{cd->challenge, true};
    auto verified = wa::VerifyRegistration(*rp, want, cred.client_data_json, cred.attestation_object);
    if (!verified.ok()) co_return verified.error();
    if (!cred.raw_id.empty() && cred.raw_id != verified->credential_id) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "webauthn_credential_id_mismatch",
                              "rawId is not the credential in the attestation.");
    }
    nlohmann::json transports = nlohmann::json::array();
    for (const auto& t : cred.transports) {
        if (t.size() <= 32 && std::all_of(t.begin(), t.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || c == '-';
            }) && transports.size() < 8)
            transports.push_back(t);
    }
    store::Passkey p;
    p.user_id = who.user_id;
    p.credential_id = verified->credential_id;
    p.public_key = verified->public_key;
    p.alg = verified->alg;
    p.sign_count = verified->sign_count;
    p.transports = transports.dump();
    p.name = std::move(name);
    auto created = co_await db_.Run(
        [this](store::Passkey p, RequestMeta meta) -> Result<store::Passkey> {
            if (p.name.empty()) {
                auto list = store_.Passkeys().ListByUser(p.user_id);
                p.name = NameOrDefault("", list.ok() ? static_cast<std::int64_t>(list->size()) + 1 : 1);
            }
            auto r = store_.Passkeys().Create(std::move(p));
            if (r.ok()) {
                Audit(r->user_id, "user.passkey_added", "passkey:" + r->id, meta,
                      nlohmann::json{{"name", r->name}, {"alg", r->alg}}.dump());
            }
            return r;
        },
        std::move(p), std::move(meta));
    co_return created;
}

net::awaitable<Result<std::vector<store::Passkey>>> Passkeys::List(auth::Principal who) {
    if (who.IsApiKey()) co_return SessionOnly();
    auto list = co_await db_.Run(
        [this](std::string id) { return store_.Passkeys().ListByUser(id); }, who.user_id);
    co_return list;
}

net::awaitable<Result<store::Passkey>> Passkeys::Rename(auth::Principal who, std::string id,
                                                        std::string name, RequestMeta meta) {
    if (who.IsApiKey()) co_return SessionOnly();
    if (auto v = ValidateName(name); !v.ok()) co_return v.error();
    auto r = co_await db_.Run(
        [this](std::string uid, std::string id, std::string name, RequestMeta meta) {
            auto r = store_.Passkeys().Rename(uid, id, name);
            if (r.ok()) {
                Audit(uid, "user.passkey_renamed", "passkey:" + id, meta,
                      nlohmann::json{{"name", name}}.dump());
            }
            return r;
        },
        who.user_id, std::move(id), std::move(name), std::move(meta));
    co_return r;
}

net::awaitable<Result<void>> Passkeys::Delete(auth::Principal who, std::string id,
                                              RequestMeta meta) {
    if (who.IsApiKey()) co_return SessionOnly();
    auto r = co_await db_.Run(
        [this](std::string uid, std::string id, RequestMeta meta) {
            auto r = store_.Passkeys().Delete(uid, id);
            if (r.ok()) Audit(uid, "user.passkey_deleted", "passkey:" + id, meta, "{}");
            return r;
        },
        who.user_id, std::move(id), std::move(meta));
    co_return r;
}

net::awaitable<Result<nlohmann::json>> Passkeys::LoginOptions(std::string host, RequestMeta meta) {
    // Options cost a stored row: the same per-IP bucket as sign-ins keeps floods out.
    std::string bucket = "passkey_options:ip:" + meta.ip;
    if (auto d = co_await limiter_.Check(bucket, cfg_.login_per_ip, 1); !d.allowed) {
        Error e = Error::Make(ErrorCode::kRateLimited, "rate_limited",
                              "Too many attempts; try again in " +
                                  std::to_string(d.RetryAfterSeconds()) + " s.");
        e.retry_after_s = std::max<std::int64_t>(1, d.RetryAfterSeconds());
        co_return e;
    }
    auto rp = ResolveRelyingParty(cfg_, host);
    if (!rp.ok()) co_return rp.error();
    std::string purpose(store::kChallengeLogin);
    std::optional<std::string> no_user;
    auto challenge = co_await IssueChallenge(std::move(purpose), std::move(no_user));
    if (!challenge.ok()) co_return challenge.error();
    nlohmann::json options = {{"challenge", B64(*challenge)},
                              {"timeout", cfg_.challenge_ttl.count() * 1000},
                              {"rpId", rp->id},
                              {"allowCredentials", nlohmann::json::array()},
                              {"userVerification", "required"}};
    co_return options;
}

net::awaitable<Result<Passkeys::Checked>> Passkeys::CheckAssertion(
    std::string purpose, std::optional<std::string> user_id, std::string host,
    AssertionCredential cred, RequestMeta meta, std::string* reason) {
    auto rp = ResolveRelyingParty(cfg_, host);
    if (!rp.ok()) co_return rp.error();
    auto cd = wa::ParseClientData(cred.client_data_json);
    if (!cd.ok()) {
        *reason = cd.error().api_code;
        co_return NotAccepted();
    }
    std::string hash = crypto::Sha256Hex(cd->challenge);
    auto ch = co_await db_.Run(
        [this](std::string hash, std::string purpose, std::int64_t now) {
            return store_.Passkeys().ConsumeChallenge(hash, purpose, now);
        },
        hash, purpose, clock_.NowMs());
    if (!ch.ok() || (user_id && ch->user_id != user_id)) {
        *reason = "challenge_invalid";
        co_return NotAccepted();
    }
    auto found = co_await db_.Run(
        [this](std::string id) { return store_.Passkeys().GetByCredentialId(id); }, cred.raw_id);
    if (!found.ok()) {
        *reason = "unknown_credential";
        co_return NotAccepted();
    }
    store::Passkey pk = std::move(found.value());
    // The credential must belong to the user the authenticator names (discoverable sign-in)
    // and to the user being checked (second factor).
    if ((!user_id && (cred.user_handle.empty() || cred.user_handle != pk.user_id)) ||
        (user_id && (pk.user_id != *user_id ||
                     (!cred.user_handle.empty() && cred.user_handle != pk.user_id)))) {
        *reason = "credential_user_mismatch";
        co_return NotAccepted();
    }
    wa::Expectation want{cd->challenge, true};
    wa::StoredCredential stored{pk.public_key, static_cast<std::uint32_t>(pk.sign_count)};
    auto ok = wa::VerifyAssertion(*rp, want, stored, cred.client_data_json,
                                  cred.authenticator_data, cred.signature);
    if (!ok.ok()) {
        *reason = ok.error().api_code;
        if (ok.error().api_code == wa::kSignCountRegressed) {
            co_await db_.Run(
                [this](store::Passkey pk, RequestMeta meta, std::string detail) {
                    Audit(pk.user_id, "auth.passkey_sign_count_regressed", "passkey:" + pk.id,
                          meta, nlohmann::json{{"detail", detail}}.dump());
                    return 0;
                },
                pk, meta, ok.error().detail);
            obs::Warn("passkey_sign_count_regressed", {{"passkey", pk.id}});
        }
        co_return NotAccepted();
    }
    auto used = co_await db_.Run(
        [this](std::string id, std::int64_t seen, std::int64_t next, std::int64_t at) {
            return store_.Passkeys().RecordUse(id, seen, next, at);
        },
        pk.id, pk.sign_count, static_cast<std::int64_t>(ok->sign_count), clock_.NowMs());
    if (!used.ok()) {
        *reason = "sign_count_race";
        co_return NotAccepted();
    }
    pk.sign_count = ok->sign_count;
    co_return Checked{std::move(pk), ok->sign_count};
}

net::awaitable<Result<TokenPair>> Passkeys::Login(std::string host, AssertionCredential cred,
                                                  RequestMeta meta) {
    auto failed = [this](std::optional<std::string> uid, RequestMeta m, std::string reason) {
        std::string target = uid ? "user:" + *uid : "";
        Audit(uid, "auth.login_failed", target, m,
              nlohmann::json{{"method", "passkey"}, {"reason", reason}}.dump());
        return 0;
    };
    std::string ip_bucket = "login:ip:" + meta.ip;
    if (auto d = co_await limiter_.Check(ip_bucket, cfg_.login_per_ip, 1); !d.allowed) {
        std::optional<std::string> none;
        std::string reason = "rate_limited";
        co_await db_.Run(failed, none, meta, reason);
        Error e = Error::Make(ErrorCode::kRateLimited, "rate_limited",
                              "Too many attempts; try again in " +
                                  std::to_string(d.RetryAfterSeconds()) + " s.");
        e.retry_after_s = std::max<std::int64_t>(1, d.RetryAfterSeconds());
        co_return e;
    }
    std::string reason;
    std::string purpose(store::kChallengeLogin);
    std::optional<std::string> any_user;
    auto checked = co_await CheckAssertion(std::move(purpose), std::move(any_user), host, cred,
                                           meta, &reason);
    if (!checked.ok()) {
        if (!reason.empty()) {
            std::optional<std::string> none;
            co_await db_.Run(failed, none, meta, reason);
        }
        co_return checked.error();
    }
    auto user = co_await db_.Run([this](std::string id) { return store_.Users().Get(id); },
                                 checked->passkey.user_id);
    if (!user.ok()) {
        std::optional<std::string> none;
        std::string gone = "unknown_user";
        co_await db_.Run(failed, none, meta, gone);
        co_return NotAccepted();
    }
    if (user->status != store::UserStatus::kActive) {
        std::optional<std::string> uid = user->id;
        std::string disabled = "disabled";
        co_await db_.Run(failed, uid, meta, disabled);
        co_return Error::Make(ErrorCode::kForbidden, "account_disabled",
                              "This account is disabled; ask an administrator.");
    }
    // A user-verified passkey is two factors in one: no second step.
    std::string detail = nlohmann::json{{"method", "passkey"}}.dump();
    auto pair = co_await accounts_.StartSession(std::move(user.value()), std::move(meta),
                                                std::move(detail));
    co_return pair;
}

net::awaitable<Result<nlohmann::json>> Passkeys::SecondFactorOptions(std::string user_id,
                                                                     std::string host) {
    auto rp = ResolveRelyingParty(cfg_, host);
    if (!rp.ok()) co_return rp.error();
    auto existing = co_await db_.Run(
        [this](std::string id) { return store_.Passkeys().ListByUser(id); }, user_id);
    if (!existing.ok()) co_return existing.error();
    if (existing->empty()) {
        co_return Error::Make(ErrorCode::kNotFound, "no_passkeys", "This account has no passkeys.");
    }
    std::string purpose(store::kChallengeSecondFactor);
    std::optional<std::string> uid = user_id;
    auto challenge = co_await IssueChallenge(std::move(purpose), std::move(uid));
    if (!challenge.ok()) co_return challenge.error();
    nlohmann::json options = {{"challenge", B64(*challenge)},
                              {"timeout", cfg_.challenge_ttl.count() * 1000},
                              {"rpId", rp->id},
                              {"allowCredentials", Descriptors(*existing)},
                              {"userVerification", "required"}};
    co_return options;
}

net::awaitable<Result<store::Passkey>> Passkeys::VerifyForUser(std::string user_id,
                                                               std::string host,
                                                               AssertionCredential cred,
                                                               RequestMeta meta) {
    std::string reason;
    std::string purpose(store::kChallengeSecondFactor);
    std::optional<std::string> uid = user_id;
    auto checked = co_await CheckAssertion(std::move(purpose), uid, std::move(host),
                                           std::move(cred), meta, &reason);
    if (!checked.ok()) {
        if (!reason.empty()) {
            co_await db_.Run(
                [this](std::string uid, RequestMeta m, std::string reason) {
                    Audit(uid, "auth.mfa_failed", "user:" + uid, m,
                          nlohmann::json{{"method", "passkey"}, {"reason", reason}}.dump());
                    return 0;
                },
                user_id, meta, reason);
        }
        co_return checked.error();
    }
    co_return std::move(checked->passkey);
}

net::awaitable<Result<nlohmann::json>> Passkeys::SecondStepOptions(std::string mfa_token,
                                                                   std::string host) {
    if (mfa_ == nullptr) co_return NotAccepted();
    auto token = co_await db_.Run(
        [this](std::string t) { return mfa_->OpenTokenBlocking(t, MfaPurpose::kLogin); },
        std::move(mfa_token));
    if (!token.ok()) co_return token.error();
    co_return co_await SecondFactorOptions(token->user_id, std::move(host));
}

net::awaitable<Result<TokenPair>> Passkeys::SecondStep(std::string mfa_token, std::string host,
                                                       AssertionCredential cred,
                                                       RequestMeta meta) {
    if (mfa_ == nullptr) co_return NotAccepted();
    auto token = co_await db_.Run(
        [this](std::string t) { return mfa_->OpenTokenBlocking(t, MfaPurpose::kLogin); },
        mfa_token);
    if (!token.ok()) co_return token.error();
    auto verified = co_await VerifyForUser(token->user_id, std::move(host), std::move(cred), meta);
    if (!verified.ok()) {
        co_await db_.Run(
            [this](std::string t) {
                mfa_->TokenFailedBlocking(t);
                return 0;
            },
            mfa_token);
        co_return verified.error();
    }
    auto user = co_await db_.Run(
        [this](std::string t, std::string uid) -> Result<store::User> {
            if (auto c = mfa_->ConsumeTokenBlocking(t); !c.ok()) return c.error();
            return store_.Users().Get(uid);
        },
        mfa_token, token->user_id);
    if (!user.ok()) co_return user.error();
    std::string detail = nlohmann::json{{"mfa", "passkey"}}.dump();
    co_return co_await accounts_.StartSession(std::move(user.value()), std::move(meta),
                                              std::move(detail));
}

net::awaitable<Result<std::int64_t>> Passkeys::PruneChallenges() {
    auto r = co_await db_.Run(
        [this](std::int64_t before) { return store_.Passkeys().PruneChallenges(before); },
        clock_.NowMs() - 60'000);
    co_return r;
}

}  // namespace hub::services
