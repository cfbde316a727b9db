#include "services/accounts.hpp"

#include <nlohmann/json.hpp>

#include "core/id.hpp"
#include "obs/logging.hpp"
#include "services/security_events.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

Error InvalidCredentials() {
    return Error::Make(ErrorCode::kUnauthenticated, "invalid_credentials",
                       "Wrong username or password.");
}

Error InvalidRefresh() {
    return Error::Make(ErrorCode::kUnauthenticated, "invalid_refresh_token",
                       "The refresh token is not valid; sign in again.");
}

std::string Json(const nlohmann::json& j) { return j.dump(); }

}  // namespace

Accounts::Accounts(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
                   const auth::PasswordHasher& hasher, const auth::JwtCodec& jwt,
                   const auth::RoleTable& roles, auth::RevocationCache& revocations,
                   limit::Limiter& limiter, const core::Clock& clock, AccountsConfig cfg)
    : store_(store), db_(db), crypto_(crypto), hasher_(hasher), jwt_(jwt),
      roles_(roles), revocations_(revocations), limiter_(limiter), clock_(clock),
      cfg_(std::move(cfg)) {}

net::awaitable<Result<void>> Accounts::CheckLimit(std::string key, limit::BucketConfig cfg) {
    auto d = co_await limiter_.Check(key, cfg, 1);
    if (d.allowed) co_return core::Ok();
    Error e = Error::Make(ErrorCode::kRateLimited, "rate_limited",
                         "Too many attempts; try again in " +
                             std::to_string(d.RetryAfterSeconds()) + " s.");
    e.retry_after_s = std::max<std::int64_t>(1, d.RetryAfterSeconds());
    obs::Warn("rate_limited", {{"bucket", key.substr(0, key.find(':', key.find(':') + 1))}});
    co_return e;
}

Result<Accounts::HashSlot> Accounts::TakeHashSlot() {
    if (pending_hashes_->fetch_add(1) >= cfg_.max_pending_hashes) {
        --*pending_hashes_;
        auto refused = ++hashes_refused_;
        // Once, then every 100th: a login storm must not become a log storm.
        if (refused == 1 || refused % 100 == 0)
            obs::Warn("password_hash_queue_full", {{"refused_total", refused}});
        Error e = Error::Make(ErrorCode::kUnavailable, "overloaded",
                              "Too many sign-ins at once; retry in a moment.");
        e.retry_after_s = 1;
        return e;
    }
    return HashSlot(pending_hashes_);
}

std::optional<Error> Accounts::SkipHash(const std::shared_ptr<core::Cancel>& client_gone) {
    if (crypto_.closing()) {
        ++hashes_skipped_shutdown_;
        Error e = Error::Make(ErrorCode::kUnavailable, "shutting_down",
                              "The hub is restarting; retry in a moment.");
        e.retry_after_s = 1;
        return e;
    }
    if (client_gone && client_gone->triggered()) {
        ++hashes_skipped_gone_;
        // Nobody reads this answer.
        return Error::Make(ErrorCode::kUnavailable, "client_gone", "The client went away.");
    }
    return std::nullopt;
}

void Accounts::Audit(std::optional<std::string> actor, std::string action, std::string target,
                     const RequestMeta& meta, std::string detail_json) {
    AppendAudit(store_, clock_, std::move(actor), std::move(action), std::move(target), meta,
                std::move(detail_json));
}

Result<TokenPair> Accounts::IssueTokens(const store::User& user, const store::Session& session,
                                        core::Secret<std::string> refresh) {
    auth::TokenRequest req;
    req.sub = user.id;
    req.role = user.role;
    req.sid = session.id;
    req.ttl = cfg_.access_ttl;
    auto signed_token = jwt_.Sign(req, clock_.Now());
    if (!signed_token.ok()) return signed_token.error();
    TokenPair p;
    p.access_token = signed_token->token;
    p.expires_in = signed_token->claims.exp - signed_token->claims.iat;
    p.refresh_token = std::move(refresh);
    p.refresh_expires_at = session.expires_at;
    p.user = user;
    p.session_id = session.id;
    return p;
}

net::awaitable<Result<store::User>> Accounts::Register(RegisterInput in, RequestMeta meta) {
    std::string bucket = "register:ip:" + meta.ip;
    if (auto l = co_await CheckLimit(bucket, cfg_.register_per_ip); !l.ok()) co_return l.error();
    if (!cfg_.registration_open) {
        co_return Error::Make(ErrorCode::kForbidden, "registration_closed",
                              "Registration is closed on this hub; ask an administrator.");
    }
    if (auto r = auth::ValidateUsername(in.username); !r.ok()) co_return r.error();
    if (auto r = auth::ValidateEmail(in.email); !r.ok()) co_return r.error();
    if (auto r = auth::CheckPasswordPolicy(in.password, in.username, in.email); !r.ok())
        co_return r.error();
    if (in.display_name.empty()) in.display_name = in.username;
    if (in.display_name.size() > 64 || !auth::IsValidUtf8(in.display_name)) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "display_name must be valid UTF-8 of at most 64 bytes.");
    }
    auto slot = TakeHashSlot();
    if (!slot.ok()) co_return slot.error();
    auto hash = co_await crypto_.Run(
        [this](std::string pw, std::shared_ptr<core::Cancel> gone) -> Result<std::string> {
            if (auto skip = SkipHash(gone)) return *skip;
            return hasher_.Hash(pw);
        },
        in.password, meta.client_gone);
    if (!hash.ok()) co_return hash.error();
    store::User u;
    u.id = core::NewId();
    u.username = in.username;
    u.email = in.email;
    u.password_hash = std::move(hash.value());
    u.display_name = in.display_name;
    u.role = std::string(store::kRoleUser);
    u.created_at = u.updated_at = clock_.NowMs();
    auto created = co_await db_.Run(
        [this](store::User u, RequestMeta meta) {
            auto r = store_.Users().Create(std::move(u));
            if (r.ok()) Audit(r->id, "auth.register", "user:" + r->id, meta, "{}");
            return r;
        },
        std::move(u), meta);
    co_return created;
}

net::awaitable<Result<SignInResult>> Accounts::Login(std::string login, std::string password,
                                                     std::optional<std::string> totp_code,
                                                     RequestMeta meta) {
    std::string ip_bucket = "login:ip:" + meta.ip;
    if (auto l = co_await CheckLimit(ip_bucket, cfg_.login_per_ip); !l.ok()) {
        co_await db_.Run(
            [this](RequestMeta m) {
                Audit(std::nullopt, "auth.login_failed", "", m, Json({{"reason", "rate_limited"}}));
                return 0;
            },
            meta);
        co_return l.error();
    }
    std::string account_bucket = "login:account:" + auth::AsciiLower(login);
    if (auto l = co_await CheckLimit(account_bucket, cfg_.login_per_account); !l.ok()) {
        co_await db_.Run(
            [this](RequestMeta m) {
                Audit(std::nullopt, "auth.login_failed", "", m, Json({{"reason", "rate_limited"}}));
                return 0;
            },
            meta);
        co_return l.error();
    }
    auto slot = TakeHashSlot();
    if (!slot.ok()) co_return slot.error();
    auto found = co_await db_.Run(
        [this](std::string l) { return store_.Users().FindByLogin(l); }, login);
    if (!found.ok()) {
        // Spend one bcrypt verification anyway, so unknown users look and take the same.
        auto spent = co_await crypto_.Run(
            [this](std::string pw, std::shared_ptr<core::Cancel> gone) -> Result<bool> {
                if (auto skip = SkipHash(gone)) return *skip;
                return hasher_.VerifyAgainstDummy(pw);
            },
            password, meta.client_gone);
        if (!spent.ok()) co_return spent.error();
        co_await db_.Run(
            [this](RequestMeta m) {
                Audit(std::nullopt, "auth.login_failed", "", m, Json({{"reason", "unknown_user"}}));
                return 0;
            },
            meta);
        co_return InvalidCredentials();
    }
    store::User user = std::move(found.value());
    // Locked by a security event (brute force): refused before the password is checked, so
    // the answer says nothing about the password.
    if (std::optional<std::int64_t> until = locks_ ? locks_->LockedUntil("user:" + user.id)
                                                   : std::nullopt) {
        co_await db_.Run(
            [this](std::string id, RequestMeta m) {
                Audit(id, "auth.login_failed", "user:" + id, m, Json({{"reason", "locked"}}));
                return 0;
            },
            user.id, meta);
        Error e = Error::Make(ErrorCode::kRateLimited, "account_locked",
                              "Password sign-in to this account is locked for a while after "
                              "repeated failed attempts; try later or ask an administrator.");
        e.retry_after_s = std::max<std::int64_t>(1, (*until - clock_.NowMs() + 999) / 1000);
        co_return e;
    }
    auto verified = co_await crypto_.Run(
        [this](std::string pw, std::string hash,
               std::shared_ptr<core::Cancel> gone) -> Result<bool> {
            if (auto skip = SkipHash(gone)) return *skip;
            return hasher_.Verify(pw, hash);
        },
        password, user.password_hash, meta.client_gone);
    if (!verified.ok()) co_return verified.error();
    if (!verified.value()) {
        co_await db_.Run(
            [this](std::string id, RequestMeta m) {
                Audit(id, "auth.login_failed", "user:" + id, m, Json({{"reason", "bad_password"}}));
                return 0;
            },
            user.id, meta);
        co_return InvalidCredentials();
    }
    if (user.status != store::UserStatus::kActive) {
        co_await db_.Run(
            [this](std::string id, RequestMeta m) {
                Audit(id, "auth.login_failed", "user:" + id, m, Json({{"reason", "disabled"}}));
                return 0;
            },
            user.id, meta);
        co_return Error::Make(ErrorCode::kForbidden, "account_disabled",
                              "This account is disabled; ask an administrator.");
    }
    std::string detail = Json({{"method", "password"}});
    co_return co_await FinishSignIn(std::move(user), std::move(totp_code), std::move(meta),
                                    std::move(detail));
}

net::awaitable<Result<SignInResult>> Accounts::FinishSignIn(store::User user,
                                                            std::optional<std::string> totp_code,
                                                            RequestMeta meta,
                                                            std::string detail_json) {
    if (mfa_ != nullptr) {
        bool enabled = user.mfa_secret_enc.has_value();
        if (enabled && totp_code) {
            // One step: the password and the code together.
            SecondFactor factor;
            factor.code = std::move(totp_code);
            auto ok = co_await db_.Run(
                [this](std::string uid, SecondFactor f, RequestMeta m) {
                    return mfa_->VerifyBlocking(uid, f, MfaContext::kSignIn, m);
                },
                user.id, std::move(factor), meta);
            if (!ok.ok()) co_return ok.error();
            auto detail = nlohmann::json::parse(detail_json, nullptr, false);
            if (detail.is_object()) detail["mfa"] = "totp";
            auto pair = co_await StartSession(std::move(user), std::move(meta), detail.dump());
            if (!pair.ok()) co_return pair.error();
            SignInResult out;
            out.tokens = std::move(pair.value());
            co_return out;
        }
        bool required = mfa_->RequiredFor(user.role);
        if (enabled || required) {
            // A passkey is a second factor only for an account that needs one (TOTP on, or a
            // role that requires MFA); it also spares such a member enrolling TOTP. Read only
            // then: a plain sign-in costs no extra query.
            auto passkeys = co_await db_.Run(
                [this](std::string uid) -> Result<std::size_t> {
                    auto list = store_.Passkeys().ListByUser(uid);
                    if (!list.ok()) return list.error();
                    return list->size();
                },
                user.id);
            if (!passkeys.ok()) co_return passkeys.error();
            bool has_passkey = passkeys.value() > 0;
            MfaPurpose purpose = enabled || has_passkey ? MfaPurpose::kLogin : MfaPurpose::kEnroll;
            std::vector<std::string> methods;
            if (enabled) methods = {"totp", "recovery_code"};
            if (purpose == MfaPurpose::kLogin && has_passkey) methods.emplace_back("passkey");
            if (purpose == MfaPurpose::kEnroll) methods = {"totp"};
            // Audited with the first factor's detail (method, provider) and the purpose.
            auto first = nlohmann::json::parse(detail_json, nullptr, false);
            if (!first.is_object()) first = nlohmann::json::object();
            first["purpose"] = ToString(purpose);
            auto challenge = co_await db_.Run(
                [this](std::string uid, MfaPurpose p, RequestMeta m,
                       std::string detail) -> Result<MfaChallenge> {
                    auto c = mfa_->IssueTokenBlocking(uid, p);
                    if (c.ok()) Audit(uid, "auth.mfa_challenge", "user:" + uid, m, std::move(detail));
                    return c;
                },
                user.id, purpose, meta, first.dump());
            if (!challenge.ok()) co_return challenge.error();
            challenge->methods = std::move(methods);
            SignInResult out;
            out.challenge = std::move(challenge.value());
            co_return out;
        }
    }
    auto pair = co_await StartSession(std::move(user), std::move(meta), std::move(detail_json));
    if (!pair.ok()) co_return pair.error();
    SignInResult out;
    out.tokens = std::move(pair.value());
    co_return out;
}

net::awaitable<Result<TokenPair>> Accounts::StartSession(store::User user, RequestMeta meta,
                                                         std::string detail_json) {
    if (user.status != store::UserStatus::kActive) {
        co_return Error::Make(ErrorCode::kForbidden, "account_disabled",
                              "This account is disabled; ask an administrator.");
    }
    auto refresh = auth::NewRefreshToken();
    store::Session s;
    s.id = core::NewId();
    s.user_id = user.id;
    s.refresh_hash = refresh.hash;
    s.user_agent = meta.user_agent.substr(0, 256);
    s.ip = meta.ip;
    s.created_at = clock_.NowMs();
    s.expires_at = s.created_at + cfg_.refresh_ttl.count() * 1000;
    auto session = co_await db_.Run(
        [this](store::Session s, RequestMeta meta, std::string detail) {
            std::string uid = s.user_id;
            auto r = store_.Sessions().Create(std::move(s));
            if (r.ok()) Audit(uid, "auth.login", "session:" + r->id, meta, std::move(detail));
            return r;
        },
        s, meta, std::move(detail_json));
    if (!session.ok()) co_return session.error();
    co_return IssueTokens(user, session.value(), std::move(refresh.token));
}

namespace {

Error MfaNotAvailable() {
    return Error::Make(ErrorCode::kUnauthenticated, "invalid_mfa_token",
                       "This sign-in step has expired or was already used; sign in again.");
}

Error Disabled() {
    return Error::Make(ErrorCode::kForbidden, "account_disabled",
                       "This account is disabled; ask an administrator.");
}

}  // namespace

net::awaitable<Result<TokenPair>> Accounts::LoginMfa(std::string mfa_token, SecondFactor factor,
                                                     RequestMeta meta) {
    if (mfa_ == nullptr) co_return MfaNotAvailable();
    auto user = co_await db_.Run(
        [this](std::string token, SecondFactor f, RequestMeta m) -> Result<store::User> {
            auto t = mfa_->OpenTokenBlocking(token, MfaPurpose::kLogin);
            if (!t.ok()) return t.error();
            auto u = store_.Users().Get(t->user_id);
            if (!u.ok()) return MfaNotAvailable();
            if (u->status != store::UserStatus::kActive) return Disabled();
            if (auto v = mfa_->VerifyBlocking(u->id, f, MfaContext::kSignIn, m); !v.ok()) {
                if (v.error().api_code == "invalid_mfa_code") mfa_->TokenFailedBlocking(token);
                return v.error();
            }
            if (auto c = mfa_->ConsumeTokenBlocking(token); !c.ok()) return c.error();
            return u;
        },
        std::move(mfa_token), factor, meta);
    if (!user.ok()) co_return user.error();
    // The first factor (a password, single sign-on) was audited with the challenge.
    std::string detail = Json({{"mfa", factor.code ? "totp" : "recovery_code"}});
    co_return co_await StartSession(std::move(user.value()), std::move(meta), std::move(detail));
}

net::awaitable<Result<TotpEnrollment>> Accounts::LoginEnroll(std::string mfa_token,
                                                             RequestMeta meta) {
    if (mfa_ == nullptr) co_return MfaNotAvailable();
    co_return co_await db_.Run(
        [this](std::string token, RequestMeta m) -> Result<TotpEnrollment> {
            auto t = mfa_->OpenTokenBlocking(token, MfaPurpose::kEnroll);
            if (!t.ok()) return t.error();
            auto u = store_.Users().Get(t->user_id);
            if (!u.ok()) return MfaNotAvailable();
            if (u->status != store::UserStatus::kActive) return Disabled();
            return mfa_->BeginBlocking(u->id, u->username, m);
        },
        std::move(mfa_token), std::move(meta));
}

net::awaitable<Result<EnrolledSignIn>> Accounts::LoginEnrollConfirm(std::string mfa_token,
                                                                    std::string code,
                                                                    RequestMeta meta) {
    if (mfa_ == nullptr) co_return MfaNotAvailable();
    auto done = co_await db_.Run(
        [this](std::string token, std::string code,
               RequestMeta m) -> Result<std::pair<store::User, RecoveryCodes>> {
            auto t = mfa_->OpenTokenBlocking(token, MfaPurpose::kEnroll);
            if (!t.ok()) return t.error();
            auto u = store_.Users().Get(t->user_id);
            if (!u.ok()) return MfaNotAvailable();
            if (u->status != store::UserStatus::kActive) return Disabled();
            auto codes = mfa_->ConfirmBlocking(u->id, code, MfaContext::kSignIn, "", m);
            if (!codes.ok()) {
                if (codes.error().api_code == "invalid_mfa_code") mfa_->TokenFailedBlocking(token);
                return codes.error();
            }
            if (auto c = mfa_->ConsumeTokenBlocking(token); !c.ok()) return c.error();
            auto after = store_.Users().Get(u->id);
            if (!after.ok()) return after.error();
            return std::pair{std::move(after.value()), std::move(codes.value())};
        },
        std::move(mfa_token), std::move(code), meta);
    if (!done.ok()) co_return done.error();
    std::string detail = Json({{"mfa", "totp"}, {"enrolled", true}});
    auto pair = co_await StartSession(std::move(done->first), std::move(meta), std::move(detail));
    if (!pair.ok()) co_return pair.error();
    EnrolledSignIn out;
    out.tokens = std::move(pair.value());
    out.recovery_codes = std::move(done->second);
    co_return out;
}

net::awaitable<Result<TokenPair>> Accounts::Refresh(std::string token, RequestMeta meta) {
    if (!auth::IsWellFormedRefreshToken(token)) co_return InvalidRefresh();
    std::string hash = auth::HashRefreshToken(token);
    auto found = co_await db_.Run(
        [this](std::string h) { return store_.Sessions().GetByRefreshHash(h); }, hash);
    if (!found.ok()) co_return InvalidRefresh();
    store::Session old = std::move(found.value());
    std::int64_t now = clock_.NowMs();
    if (old.revoked_at) {
        // A rotated (dead) token came back: someone copied it. Kill the whole family.
        auto killed = co_await db_.Run([this](store::Session old, RequestMeta meta) {
            std::vector<std::string> ids;
            if (auto active = store_.Sessions().ListActive(old.user_id); active.ok()) {
                for (const auto& s : *active)
                    if (s.family_id == old.family_id) ids.push_back(s.id);
            }
            (void)store_.Sessions().RevokeFamily(old.family_id);
            Audit(old.user_id, "auth.refresh_reuse", "session:" + old.id, meta,
                  Json({{"family_id", old.family_id}, {"revoked_sessions", ids.size()}}));
            return ids;
        }, old, meta);
        for (const auto& id : killed) revocations_.RevokeSession(id);
        revocations_.RevokeSession(old.id);
        co_return Error::Make(ErrorCode::kUnauthenticated, "refresh_token_reused",
                              "This refresh token was already used; every session of this "
                              "sign-in has been ended. Sign in again.");
    }
    if (old.expires_at <= now) co_return InvalidRefresh();
    auto user = co_await db_.Run([this](std::string uid) { return store_.Users().Get(uid); },
                                 old.user_id);
    if (!user.ok()) co_return InvalidRefresh();
    if (user->status != store::UserStatus::kActive) {
        co_return Error::Make(ErrorCode::kForbidden, "account_disabled",
                              "This account is disabled; ask an administrator.");
    }
    auto refresh = auth::NewRefreshToken();
    store::Session next;
    next.id = core::NewId();
    next.user_id = old.user_id;
    next.refresh_hash = refresh.hash;
    next.family_id = old.family_id;
    next.user_agent = meta.user_agent.substr(0, 256);
    next.ip = meta.ip;
    next.created_at = now;
    next.expires_at = now + cfg_.refresh_ttl.count() * 1000;
    auto rotated = co_await db_.Run(
        [this](std::string old_id, store::Session n) { return store_.Sessions().Rotate(old_id, n); },
        old.id, next);
    if (!rotated.ok()) {
        if (rotated.error().code == ErrorCode::kConflict) co_return InvalidRefresh();
        co_return rotated.error();
    }
    // The old access token may live out its few minutes (other tabs still hold it); the old
    // refresh token is dead, and presenting it again revokes the whole family.
    co_return IssueTokens(user.value(), rotated.value(), std::move(refresh.token));
}

net::awaitable<Result<void>> Accounts::Logout(auth::Principal who, RequestMeta meta) {
    std::string session_id = who.session_id;
    auto r = co_await db_.Run(
        [this](auth::Principal who, RequestMeta meta) {
            auto res = store_.Sessions().Revoke(who.user_id, who.session_id);
            Audit(who.user_id, "auth.logout", "session:" + who.session_id, meta, "{}");
            return res;
        },
        who, meta);
    // After the commit (the other hubs are told too), and even when it failed: the user asked
    // to sign out, so this token ends here and everywhere the event reaches.
    revocations_.RevokeSession(session_id);
    if (!r.ok() && r.error().code != ErrorCode::kNotFound) co_return r.error();
    co_return core::Ok();
}

Result<auth::Principal> Accounts::Authenticate(std::string_view bearer) const {
    auto claims = jwt_.Verify(bearer, clock_.Now());
    if (!claims.ok()) {
        return Error::Make(ErrorCode::kUnauthenticated, "invalid_token",
                           "The access token is invalid or expired.", claims.error().detail);
    }
    if (!revocations_.IsAllowed(claims->sub, claims->sid)) {
        return Error::Make(ErrorCode::kUnauthenticated, "invalid_token",
                           "The access token is no longer valid; sign in again.");
    }
    auth::Principal p;
    p.user_id = claims->sub;
    p.role = claims->role;
    p.session_id = claims->sid;
    auth::FillFromRole(p, *roles_.Snapshot());  // the live table: role edits apply at once
    return p;
}

net::awaitable<Result<std::vector<store::Session>>> Accounts::Sessions(auth::Principal who) {
    co_return co_await db_.Run(
        [this](std::string uid) { return store_.Sessions().ListActive(uid); }, who.user_id);
}

net::awaitable<Result<void>> Accounts::RevokeSession(auth::Principal who, std::string id,
                                                     RequestMeta meta) {
    auto r = co_await db_.Run(
        [this](std::string uid, std::string id, RequestMeta meta) {
            auto res = store_.Sessions().Revoke(uid, id);
            if (res.ok()) Audit(uid, "auth.session_revoked", "session:" + id, meta, "{}");
            return res;
        },
        who.user_id, id, meta);
    if (!r.ok()) co_return r.error();
    revocations_.RevokeSession(id);
    co_return core::Ok();
}

net::awaitable<Result<store::User>> Accounts::Me(auth::Principal who) {
    co_return co_await db_.Run([this](std::string uid) { return store_.Users().Get(uid); },
                               who.user_id);
}

net::awaitable<Result<store::User>> Accounts::UpdateMe(auth::Principal who,
                                                       std::optional<std::string> display_name,
                                                       std::optional<std::string> settings) {
    if (display_name && (display_name->empty() || display_name->size() > 64 ||
                         !auth::IsValidUtf8(*display_name))) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "display_name must be 1 to 64 bytes of valid UTF-8.");
    }
    if (settings && settings->size() > 16 * 1024) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "settings must be at most 16 KiB of JSON.");
    }
    store::UserPatch patch;
    patch.display_name = std::move(display_name);
    patch.settings = std::move(settings);
    co_return co_await db_.Run(
        [this](std::string uid, store::UserPatch p) { return store_.Users().Update(uid, p); },
        who.user_id, std::move(patch));
}

net::awaitable<Result<void>> Accounts::ChangePassword(auth::Principal who, std::string current,
                                                      std::string next, RequestMeta meta) {
    auto user = co_await db_.Run([this](std::string uid) { return store_.Users().Get(uid); },
                                 who.user_id);
    if (!user.ok()) co_return user.error();
    bool ok = co_await crypto_.Run(
        [this](std::string pw, std::string hash) { return hasher_.Verify(pw, hash); }, current,
        user->password_hash);
    if (!ok) {
        co_await db_.Run(
            [this](std::string uid, RequestMeta m) {
                Audit(uid, "user.password_change_failed", "user:" + uid, m,
                      Json({{"reason", "bad_password"}}));
                return 0;
            },
            who.user_id, meta);
        co_return Error::Make(ErrorCode::kForbidden, "invalid_credentials",
                              "The current password is wrong.");
    }
    if (auto r = auth::CheckPasswordPolicy(next, user->username, user->email); !r.ok())
        co_return r.error();
    auto hash = co_await crypto_.Run([this](std::string pw) { return hasher_.Hash(pw); }, next);
    if (!hash.ok()) co_return hash.error();
    auto killed = co_await db_.Run([this](auth::Principal who, RequestMeta meta, std::string h)
                                       -> Result<std::vector<std::string>> {
        store::UserPatch patch;
        patch.password_hash = h;
        if (auto r = store_.Users().Update(who.user_id, patch); !r.ok()) return r.error();
        std::vector<std::string> ids;
        if (auto active = store_.Sessions().ListActive(who.user_id); active.ok()) {
            for (const auto& s : *active)
                if (s.id != who.session_id) ids.push_back(s.id);
        }
        (void)store_.Sessions().RevokeAllOfUser(who.user_id, who.session_id);
        Audit(who.user_id, "user.password_changed", "user:" + who.user_id, meta,
              Json({{"revoked_sessions", ids.size()}}));
        return ids;
    }, who, meta, hash.value());
    if (!killed.ok()) co_return killed.error();
    for (const auto& id : *killed) revocations_.RevokeSession(id);
    co_return core::Ok();
}

net::awaitable<Result<store::Page<store::User>>> Accounts::ListUsers(auth::Principal who,
                                                                     store::UserQuery query) {
    if (auto r = auth::Require(who, auth::perm::kUsersManage); !r.ok()) co_return r.error();
    co_return co_await db_.Run([this](store::UserQuery q) { return store_.Users().List(q); },
                               std::move(query));
}

net::awaitable<Result<store::User>> Accounts::AdminUpdateUser(auth::Principal who, std::string id,
                                                              AdminUserPatch in,
                                                              RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kUsersManage); !r.ok()) co_return r.error();
    if (in.role && !roles_.HasRole(*in.role)) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "unknown_role",
                              "Unknown role '" + *in.role + "'.");
    }
    auto result = co_await db_.Run(
        [this](auth::Principal who, std::string id, AdminUserPatch in, RequestMeta meta)
            -> Result<std::pair<store::User, std::vector<std::string>>> {
        auto before = store_.Users().Get(id);
        if (!before.ok()) return before.error();
        store::UserPatch patch;
        patch.role = in.role;
        patch.status = in.status;
        patch.quota = in.quota;
        // The store refuses, atomically, a change that would leave no active admin.
        patch.keep_an_active_admin = true;
        auto after = store_.Users().Update(id, patch);
        if (!after.ok()) return after.error();
        nlohmann::json detail = nlohmann::json::object();
        if (before->role != after->role) detail["role"] = {before->role, after->role};
        if (before->status != after->status)
            detail["status"] = {store::ToString(before->status), store::ToString(after->status)};
        if (in.quota) {
            auto opt = [](const std::optional<std::int64_t>& v) {
                return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
            };
            const store::UserQuota& q = *in.quota;
            detail["quota"] = {{"daily_tokens", opt(q.daily_tokens)},
                               {"monthly_tokens", opt(q.monthly_tokens)},
                               {"rpm", opt(q.rpm)},
                               {"tpm", opt(q.tpm)},
                               {"daily_cost_micro_cny", opt(q.daily_cost_micro_cny)},
                               {"monthly_cost_micro_cny", opt(q.monthly_cost_micro_cny)}};
        }
        // Disabling, or a role change (tokens carry the role), ends every session at once.
        std::vector<std::string> ended;
        bool disabled_now = after->status == store::UserStatus::kDisabled &&
                            before->status != store::UserStatus::kDisabled;
        if (disabled_now || before->role != after->role) {
            if (auto active = store_.Sessions().ListActive(id); active.ok())
                for (const auto& s : *active) ended.push_back(s.id);
            (void)store_.Sessions().RevokeAllOfUser(id, std::nullopt);
            detail["ended_sessions"] = ended.size();
        }
        Audit(who.user_id, "admin.user_updated", "user:" + id, meta, Json(detail));
        return std::pair{std::move(after.value()), std::move(ended)};
    }, who, id, in, meta);
    if (!result.ok()) co_return result.error();
    auto& [user, ended] = result.value();
    for (const auto& sid : ended) revocations_.RevokeSession(sid);
    if (user.status == store::UserStatus::kDisabled) revocations_.DisableUser(id);
    else revocations_.EnableUser(id);
    revocations_.NoteUserChanged(id);  // platform-key callers cached before now are stale
    co_return user;
}

net::awaitable<Result<store::Page<store::AuditEntry>>> Accounts::ListAudit(
    auth::Principal who, store::AuditFilter filter, store::PageRequest page) {
    if (auto r = auth::Require(who, auth::perm::kAuditRead); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](store::AuditFilter f, store::PageRequest p) { return store_.Audit().List(f, p); },
        std::move(filter), std::move(page));
}

Result<store::User> Accounts::CreateUserBlocking(store::Store& store,
                                                 const auth::PasswordHasher& hasher,
                                                 const core::Clock& clock, RegisterInput in,
                                                 std::string role) {
    if (auto r = auth::ValidateUsername(in.username); !r.ok()) return r.error();
    if (auto r = auth::ValidateEmail(in.email); !r.ok()) return r.error();
    if (auto r = auth::CheckPasswordPolicy(in.password, in.username, in.email); !r.ok())
        return r.error();
    auto hash = hasher.Hash(in.password);
    if (!hash.ok()) return hash.error();
    store::User u;
    u.id = core::NewId();
    u.username = in.username;
    u.email = in.email;
    u.password_hash = hash.value();
    u.display_name = in.display_name.empty() ? in.username : in.display_name;
    u.role = std::move(role);
    u.created_at = u.updated_at = clock.NowMs();
    auto created = store.Users().Create(std::move(u));
    if (created.ok()) {
        store::AuditEntry e;
        e.id = core::NewId();
        e.action = "cli.user_created";
        e.target = "user:" + created->id;
        e.detail = Json({{"role", created->role}});
        e.created_at = clock.NowMs();
        (void)store.Audit().Append(std::move(e));
    }
    return created;
}

net::awaitable<Result<std::map<std::string, std::int64_t>>> Accounts::LastSignIns(
    auth::Principal who, std::vector<std::string> user_ids) {
    if (auto r = auth::Require(who, auth::perm::kUsersManage); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](std::vector<std::string> ids) {
            return store_.Audit().LastActionOf("auth.login", ids);
        },
        std::move(user_ids));
}

}  // namespace hub::services
