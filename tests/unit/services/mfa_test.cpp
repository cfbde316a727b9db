// services::Mfa against a real SQLite store and a ManualClock: enrollment (pending is not
// enabled), drift of one step, replay refused, recovery codes once, second-step tokens (single
// use, expiry, burnt after wrong codes, purpose-bound), the failure budget, sessions ended.
#include "services/mfa.hpp"

#include <gtest/gtest.h>

#include "auth/totp.hpp"
#include "crypto/crypto.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

using core::ErrorCode;

constexpr const char* kPassword = "Correct-Horse-7-Battery";

class MfaTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        auto hasher = auth::PasswordHasher::Create(auth::kMinBcryptCost);
        ASSERT_TRUE(hasher.ok());
        hasher_.emplace(std::move(hasher.value()));
        MfaConfig cfg;
        cfg.token_ttl = std::chrono::seconds(300);
        cfg.failures_per_account = limit::BucketConfig::PerMinute(8, 8);
        mfa_ = std::make_unique<Mfa>(store(), db_, crypto_, *hasher_, master_, revocations_,
                                     limiter_, clock_, cfg);
        user_ = UserWithPassword("tina");
    }

    store::User UserWithPassword(const std::string& name) {
        store::User u;
        u.username = name;
        u.email = name + "@example.com";
        u.password_hash = hasher_->Hash(kPassword).value();
        u.role = "user";
        return store().Users().Create(u).value();
    }

    std::int64_t Now() const { return clock_.NowSeconds(); }

    // Enrolled user: the raw secret.
    std::string Enroll() {
        auto e = mfa_->BeginBlocking(user_.id, user_.username, Meta());
        EXPECT_TRUE(e.ok());
        std::string raw = *auth::totp::Base32Decode(e->secret.Reveal());
        auto codes = mfa_->ConfirmBlocking(user_.id, auth::totp::CodeAt(raw, Now()),
                                           MfaContext::kSettings, "", Meta());
        EXPECT_TRUE(codes.ok()) << codes.error().api_code;
        if (codes.ok()) recovery_ = codes->Reveal();
        return raw;
    }

    core::Result<void> Code(const std::string& code, MfaContext ctx = MfaContext::kSignIn) {
        SecondFactor f;
        f.code = code;
        return mfa_->VerifyBlocking(user_.id, f, ctx, Meta());
    }

    core::Result<void> Recovery(const std::string& code) {
        SecondFactor f;
        f.recovery_code = code;
        return mfa_->VerifyBlocking(user_.id, f, MfaContext::kSignIn, Meta());
    }

    RequestMeta Meta() { return {"127.0.0.1", "test", "rid"}; }

    std::int64_t AuditCount(const std::string& action) {
        store::AuditFilter f;
        f.action = action;
        store::PageRequest p;
        p.limit = 100;
        return static_cast<std::int64_t>(store().Audit().List(f, p).value().items.size());
    }

    async::WorkerPool db_{"db", 1};
    async::WorkerPool crypto_{"crypto", 1};
    std::optional<auth::PasswordHasher> hasher_;
    crypto::MasterKey master_ = crypto::MasterKey::Generate();
    auth::RevocationCache revocations_{clock_};
    limit::LocalLimiter limiter_{clock_, {limit::BucketConfig::PerMinute(100, 100)}};
    std::unique_ptr<Mfa> mfa_;
    store::User user_;
    std::vector<std::string> recovery_;
};

TEST_F(MfaTest, PendingSecretIsNotEnabledAndIsStoredEncrypted) {
    auto e = mfa_->BeginBlocking(user_.id, user_.username, Meta());
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->secret.Reveal().size(), 32u);  // 20 bytes in base32
    EXPECT_EQ(e->otpauth_uri.Reveal().rfind("otpauth://totp/Bailian%20Hub:tina?secret=", 0), 0u);
    auto state = store().Mfa().Get(user_.id).value();
    EXPECT_FALSE(state.secret_enc.has_value());
    ASSERT_TRUE(state.pending_secret_enc.has_value());
    EXPECT_EQ(state.pending_secret_enc->find(e->secret.Reveal()), std::string::npos);
    EXPECT_FALSE(store().Users().Get(user_.id)->mfa_secret_enc.has_value());
    // A pending secret is no second factor.
    std::string raw = *auth::totp::Base32Decode(e->secret.Reveal());
    EXPECT_EQ(Code(auth::totp::CodeAt(raw, Now())).error().api_code, "invalid_mfa_code");
    // The envelope is bound to this user: it does not open as another user's.
    EXPECT_FALSE(master_.Decrypt(*state.pending_secret_enc, "mfa:someone-else").ok());
    EXPECT_EQ(master_.Decrypt(*state.pending_secret_enc, "mfa:" + user_.id).value(), raw);
}

TEST_F(MfaTest, ConfirmNeedsTheRightCodeThenGivesTenRecoveryCodes) {
    auto e = mfa_->BeginBlocking(user_.id, user_.username, Meta());
    ASSERT_TRUE(e.ok());
    std::string raw = *auth::totp::Base32Decode(e->secret.Reveal());
    for (std::string bad : {"000000", "12345", "abcdef", ""}) {
        if (bad == auth::totp::CodeAt(raw, Now())) continue;
        auto r = mfa_->ConfirmBlocking(user_.id, bad, MfaContext::kSettings, "", Meta());
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().api_code, "invalid_mfa_code");
        EXPECT_EQ(r.error().code, ErrorCode::kForbidden);
    }
    auto codes = mfa_->ConfirmBlocking(user_.id, auth::totp::CodeAt(raw, Now()),
                                       MfaContext::kSettings, "", Meta());
    ASSERT_TRUE(codes.ok());
    ASSERT_EQ(codes->Reveal().size(), 10u);
    for (const auto& c : codes->Reveal()) EXPECT_TRUE(NormalizeRecoveryCode(c).has_value()) << c;
    auto state = store().Mfa().Get(user_.id).value();
    EXPECT_TRUE(state.secret_enc.has_value());
    EXPECT_FALSE(state.pending_secret_enc.has_value());
    EXPECT_EQ(state.recovery_codes_left, 10);
    EXPECT_TRUE(store().Users().Get(user_.id)->mfa_secret_enc.has_value());
    EXPECT_EQ(AuditCount("user.mfa_enabled"), 1);
    // The first code's step is spent: it cannot sign in.
    EXPECT_FALSE(Code(auth::totp::CodeAt(raw, Now())).ok());
    // Enrolling again while on: refused.
    auto again = mfa_->BeginBlocking(user_.id, user_.username, Meta());
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().api_code, "mfa_already_enabled");
}

TEST_F(MfaTest, OneStepOfDriftAndEachStepOnce) {
    std::string raw = Enroll();
    clock_.Advance(std::chrono::seconds(90));
    EXPECT_EQ(Code(auth::totp::CodeAt(raw, Now() - 60)).error().api_code, "invalid_mfa_code");
    EXPECT_EQ(Code(auth::totp::CodeAt(raw, Now() + 60)).error().api_code, "invalid_mfa_code");
    EXPECT_TRUE(Code(auth::totp::CodeAt(raw, Now() - 30)).ok());
    EXPECT_FALSE(Code(auth::totp::CodeAt(raw, Now() - 30)).ok());  // replay
    EXPECT_TRUE(Code(auth::totp::CodeAt(raw, Now())).ok());
    EXPECT_FALSE(Code(auth::totp::CodeAt(raw, Now())).ok());       // replay
    EXPECT_TRUE(Code(auth::totp::CodeAt(raw, Now() + 30)).ok());
    // Every earlier step is now refused too, in any context.
    EXPECT_EQ(Code(auth::totp::CodeAt(raw, Now()), MfaContext::kSettings).error().code,
              ErrorCode::kForbidden);
    clock_.Advance(std::chrono::seconds(60));
    EXPECT_TRUE(Code(auth::totp::CodeAt(raw, Now())).ok());
    EXPECT_EQ(AuditCount("auth.mfa_ok"), 4);
    EXPECT_GE(AuditCount("auth.mfa_failed"), 4);
}

TEST_F(MfaTest, WrongReusedAndMalformedCodesLookTheSame) {
    std::string raw = Enroll();
    clock_.Advance(std::chrono::seconds(30));
    std::string good = auth::totp::CodeAt(raw, Now());
    ASSERT_TRUE(Code(good).ok());
    std::string wrong = good == "000000" ? "111111" : "000000";
    std::vector<core::Error> errors;
    for (std::string c : {good, wrong, std::string("12ab56"), std::string("1234567")})
        errors.push_back(Code(c).error());
    for (const auto& e : errors) {
        EXPECT_EQ(e.code, ErrorCode::kUnauthenticated);
        EXPECT_EQ(e.api_code, errors.front().api_code);
        EXPECT_EQ(e.public_message, errors.front().public_message);
    }
}

TEST_F(MfaTest, RecoveryCodesWorkOnceAndRegenerationKillsTheOldOnes) {
    Enroll();
    ASSERT_EQ(recovery_.size(), 10u);
    std::string upper = recovery_[0];
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_TRUE(Recovery(upper).ok());  // case and dashes do not matter
    EXPECT_EQ(Recovery(recovery_[0]).error().api_code, "invalid_mfa_code");
    EXPECT_EQ(store().Mfa().Get(user_.id)->recovery_codes_left, 9);
    EXPECT_EQ(AuditCount("auth.recovery_code_used"), 1);
    ASSERT_TRUE(store().Mfa().ReplaceRecoveryCodes(user_.id, {HashRecoveryCode("aaaabbbbccccdddd")},
                                                   clock_.NowMs()).ok());
    EXPECT_FALSE(Recovery(recovery_[1]).ok());
    EXPECT_TRUE(Recovery("aaaa-bbbb-cccc-dddd").ok());
}

TEST_F(MfaTest, SignInTokensAreSingleUseShortLivedBurntAndPurposeBound) {
    Enroll();
    auto c = mfa_->IssueTokenBlocking(user_.id, MfaPurpose::kLogin);
    ASSERT_TRUE(c.ok());
    const std::string token = c->token.Reveal();
    EXPECT_EQ(c->expires_in, 300);
    // Stored hashed only.
    EXPECT_FALSE(store().Mfa().GetToken(token).ok());
    EXPECT_TRUE(mfa_->OpenTokenBlocking(token, MfaPurpose::kLogin).ok());
    EXPECT_EQ(mfa_->OpenTokenBlocking(token, MfaPurpose::kEnroll).error().api_code,
              "invalid_mfa_token");
    EXPECT_TRUE(mfa_->ConsumeTokenBlocking(token).ok());
    EXPECT_EQ(mfa_->ConsumeTokenBlocking(token).error().code, ErrorCode::kUnauthenticated);
    EXPECT_FALSE(mfa_->OpenTokenBlocking(token, MfaPurpose::kLogin).ok());

    auto late = mfa_->IssueTokenBlocking(user_.id, MfaPurpose::kLogin).value().token.Reveal();
    clock_.Advance(std::chrono::seconds(299));
    EXPECT_TRUE(mfa_->OpenTokenBlocking(late, MfaPurpose::kLogin).ok());
    clock_.Advance(std::chrono::seconds(1));
    EXPECT_FALSE(mfa_->OpenTokenBlocking(late, MfaPurpose::kLogin).ok());
    EXPECT_FALSE(mfa_->ConsumeTokenBlocking(late).ok());

    auto burnt = mfa_->IssueTokenBlocking(user_.id, MfaPurpose::kLogin).value().token.Reveal();
    for (int i = 0; i < 4; ++i) mfa_->TokenFailedBlocking(burnt);
    EXPECT_TRUE(mfa_->OpenTokenBlocking(burnt, MfaPurpose::kLogin).ok());
    mfa_->TokenFailedBlocking(burnt);
    EXPECT_FALSE(mfa_->OpenTokenBlocking(burnt, MfaPurpose::kLogin).ok());

    for (std::string junk : {std::string(), std::string("mfa_"), std::string("not-a-token"), std::string(300, 'a')})
        EXPECT_EQ(mfa_->OpenTokenBlocking(junk, MfaPurpose::kLogin).error().api_code,
                  "invalid_mfa_token");
}

TEST_F(MfaTest, WrongCodesAreRateLimitedPerAccountSuccessesAreNot) {
    std::string raw = Enroll();
    for (int i = 0; i < 12; ++i) {
        clock_.Advance(std::chrono::seconds(30));
        ASSERT_TRUE(Code(auth::totp::CodeAt(raw, Now())).ok()) << i;
    }
    int refused = 0;
    for (int i = 0; i < 10; ++i) {
        auto r = Code("abcdef");
        if (!r.ok() && r.error().code == ErrorCode::kRateLimited) {
            ++refused;
            EXPECT_GE(r.error().retry_after_s, 1);
        }
    }
    EXPECT_EQ(refused, 2);  // a budget of 8 wrong codes
    // Even the right code waits now.
    clock_.Advance(std::chrono::seconds(1));
    auto r = Code(auth::totp::CodeAt(raw, Now() + 30));
    EXPECT_EQ(r.error().code, ErrorCode::kRateLimited);
}

TEST_F(MfaTest, EnablingEndsTheOtherSessions) {
    store::Session keep, other;
    for (auto* s : {&keep, &other}) {
        s->user_id = user_.id;
        s->refresh_hash = crypto::Sha256Hex(crypto::RandomToken(8));
        s->family_id = "f";
        s->expires_at = clock_.NowMs() + 3'600'000;
        *s = store().Sessions().Create(*s).value();
    }
    auto e = mfa_->BeginBlocking(user_.id, user_.username, Meta());
    std::string raw = *auth::totp::Base32Decode(e->secret.Reveal());
    ASSERT_TRUE(mfa_->ConfirmBlocking(user_.id, auth::totp::CodeAt(raw, Now()),
                                      MfaContext::kSettings, keep.id, Meta())
                    .ok());
    auto active = store().Sessions().ListActive(user_.id).value();
    ASSERT_EQ(active.size(), 1u);
    EXPECT_EQ(active[0].id, keep.id);
    EXPECT_FALSE(revocations_.IsAllowed(user_.id, other.id));
    EXPECT_TRUE(revocations_.IsAllowed(user_.id, keep.id));
}

TEST_F(MfaTest, DisableRemovesSecretCodesAndTokens) {
    Enroll();
    auto t = mfa_->IssueTokenBlocking(user_.id, MfaPurpose::kLogin).value().token.Reveal();
    ASSERT_TRUE(store().Mfa().Disable(user_.id).ok());
    auto state = store().Mfa().Get(user_.id).value();
    EXPECT_FALSE(state.secret_enc.has_value());
    EXPECT_EQ(state.recovery_codes_left, 0);
    EXPECT_FALSE(mfa_->OpenTokenBlocking(t, MfaPurpose::kLogin).ok());
    EXPECT_FALSE(Recovery(recovery_[0]).ok());
}

}  // namespace
}  // namespace hub::services
