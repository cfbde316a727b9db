// services::Passkeys against a real SQLite store and a real Accounts: the relying party as
// configured or derived, passwordless sign-in through Accounts::StartSession, and the second
// factor (SecondFactorOptions / VerifyForUser) bound to one user and one challenge purpose.
#include "services/passkeys.hpp"

#include <gtest/gtest.h>

#include "auth/rbac.hpp"
#include "unit/auth/webauthn_util.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

using core::ErrorCode;
namespace wt = auth::webauthn::testing;

constexpr const char* kRp = "hub.example.com";
constexpr const char* kOrigin = "https://hub.example.com";

TEST(ResolveRelyingParty, ConfiguredThenPublicUrlThenHost) {
    PasskeysConfig cfg;
    cfg.rp_id = "example.com";
    cfg.origins = {"https://a.example.com"};
    auto rp = ResolveRelyingParty(cfg, "ignored:1");
    ASSERT_TRUE(rp.ok());
    EXPECT_EQ(rp->id, "example.com");
    EXPECT_EQ(rp->origins, std::vector<std::string>{"https://a.example.com"});

    PasskeysConfig pub;
    pub.public_url = "https://hub.example.com:8443";
    rp = ResolveRelyingParty(pub, "evil.example.net");
    ASSERT_TRUE(rp.ok());
    EXPECT_EQ(rp->id, "hub.example.com");
    EXPECT_EQ(rp->origins, std::vector<std::string>{"https://hub.example.com:8443"});

    PasskeysConfig none;
    rp = ResolveRelyingParty(none, "localhost:5173");
    ASSERT_TRUE(rp.ok());
    EXPECT_EQ(rp->id, "localhost");
    EXPECT_EQ(rp->origins,
              (std::vector<std::string>{"https://localhost:5173", "http://localhost:5173"}));
    rp = ResolveRelyingParty(none, "hub.example.org");
    ASSERT_TRUE(rp.ok());
    EXPECT_EQ(rp->origins, std::vector<std::string>{"https://hub.example.org"});  // no http
    EXPECT_EQ(ResolveRelyingParty(none, "").error().api_code, "passkeys_unavailable");
    EXPECT_EQ(ResolveRelyingParty(none, "bad host/x").error().api_code, "passkeys_unavailable");
    EXPECT_EQ(ResolveRelyingParty(none, "[::1]:80").error().api_code, "passkeys_unavailable");
}

class PasskeysServiceTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        auto hasher = auth::PasswordHasher::Create(auth::kMinBcryptCost);
        ASSERT_TRUE(hasher.ok());
        hasher_.emplace(std::move(hasher.value()));
        ASSERT_TRUE(ring_.Rotate(clock_.Now()).ok());
        auto jwt = auth::JwtCodec::Create(ring_, {"bailian-hub", "bailian-hub"});
        ASSERT_TRUE(jwt.ok());
        jwt_.emplace(std::move(jwt.value()));
        auto roles = auth::RolePermissions::FromRows(auth::DefaultRolePermissionRows());
        ASSERT_TRUE(roles.ok());
        roles_.Replace(std::move(roles.value()));
        accounts_ = std::make_unique<Accounts>(store(), db_, crypto_, *hasher_, *jwt_, roles_,
                                               revocations_, limiter_, clock_, AccountsConfig{});
        PasskeysConfig cfg;
        cfg.rp_id = kRp;
        cfg.origins = {kOrigin};
        passkeys_ = std::make_unique<Passkeys>(store(), db_, *accounts_, limiter_, clock_, cfg);
        alice_ = NewUser("alice");
        bob_ = NewUser("bob");
    }

    template <class T>
    T Await(net::awaitable<T> aw) {
        net::io_context io;
        std::optional<T> out;
        net::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
            if (e) std::rethrow_exception(e);
            out = std::move(v);
        });
        io.run();
        return std::move(*out);
    }

    auth::Principal Who(const store::User& u) {
        auth::Principal p;
        p.user_id = u.id;
        p.role = u.role;
        p.session_id = "s1";
        p.permissions = roles_.For(u.role);
        return p;
    }
    RequestMeta Meta() { return {"127.0.0.1", "test", "rid"}; }

    // Registers a fresh key for `u` through the service; returns the key and the stored row.
    std::pair<std::unique_ptr<wt::TestKey>, store::Passkey> Register(const store::User& u, int alg,
                                                                     const std::string& cred_id) {
        auto key = std::make_unique<wt::TestKey>(wt::TestKey::Make(alg));
        auto options = Await(passkeys_->RegistrationOptions(Who(u), "ignored"));
        EXPECT_TRUE(options.ok());
        auto challenge = crypto::Base64UrlDecode(options->at("challenge").get<std::string>());
        RegistrationCredential cred;
        cred.raw_id = cred_id;
        cred.client_data_json = wt::ClientDataJson("webauthn.create", *challenge, kOrigin);
        cred.attestation_object =
            wt::AttestationObject(wt::AuthData(kRp, 0x45, 0, cred_id, key->Cose()));
        auto p = Await(passkeys_->Register(Who(u), "ignored", "", cred, Meta()));
        EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().api_code + " " + p.error().detail);
        return {std::move(key), p.ok() ? p.value() : store::Passkey{}};
    }

    AssertionCredential Assert(const wt::TestKey& key, const std::string& cred_id,
                               const nlohmann::json& options, std::uint32_t count,
                               const std::string& user_handle) {
        auto challenge = crypto::Base64UrlDecode(options.at("challenge").get<std::string>());
        AssertionCredential a;
        a.raw_id = cred_id;
        a.client_data_json = wt::ClientDataJson("webauthn.get", *challenge, kOrigin);
        a.authenticator_data = wt::AuthData(kRp, 0x05, count);
        a.signature = key.Sign(a.authenticator_data + crypto::Sha256(a.client_data_json));
        a.user_handle = user_handle;
        return a;
    }

    async::WorkerPool db_{"db", 1};
    async::WorkerPool crypto_{"crypto", 1};
    std::optional<auth::PasswordHasher> hasher_;
    auth::KeyRing ring_;
    std::optional<auth::JwtCodec> jwt_;
    auth::RoleTable roles_;
    auth::RevocationCache revocations_{clock_};
    limit::LocalLimiter limiter_{clock_, {limit::BucketConfig::PerMinute(1000, 1000)}};
    std::unique_ptr<Accounts> accounts_;
    std::unique_ptr<Passkeys> passkeys_;
    store::User alice_;
    store::User bob_;
};

TEST_F(PasskeysServiceTest, PasswordlessSignInIssuesASession) {
    auto [key, pk] = Register(alice_, auth::webauthn::kAlgEdDsa, "alice-cred");
    EXPECT_EQ(pk.name, "Passkey 1");
    auto options = Await(passkeys_->LoginOptions("ignored", Meta()));
    ASSERT_TRUE(options.ok());
    EXPECT_TRUE(options->at("allowCredentials").empty());
    auto pair = Await(passkeys_->Login("ignored", Assert(*key, "alice-cred", *options, 1, alice_.id),
                                       Meta()));
    ASSERT_TRUE(pair.ok()) << pair.error().api_code;
    EXPECT_EQ(pair->user.id, alice_.id);
    auto principal = accounts_->Authenticate(pair->access_token);
    ASSERT_TRUE(principal.ok());
    EXPECT_EQ(principal->user_id, alice_.id);
    // The same challenge again: refused.
    auto again = Await(passkeys_->Login("ignored", Assert(*key, "alice-cred", *options, 2, alice_.id),
                                        Meta()));
    EXPECT_EQ(again.error().api_code, "passkey_not_accepted");
    EXPECT_EQ(again.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(PasskeysServiceTest, SecondFactorIsBoundToItsUserAndPurpose) {
    EXPECT_EQ(Await(passkeys_->SecondFactorOptions(alice_.id, "ignored")).error().api_code,
              "no_passkeys");
    auto [akey, apk] = Register(alice_, auth::webauthn::kAlgEs256, "alice-cred");
    auto [bkey, bpk] = Register(bob_, auth::webauthn::kAlgRs256, "bob-cred");

    auto options = Await(passkeys_->SecondFactorOptions(alice_.id, "ignored"));
    ASSERT_TRUE(options.ok());
    ASSERT_EQ(options->at("allowCredentials").size(), 1u);
    EXPECT_EQ(options->at("allowCredentials")[0].at("id"), crypto::Base64UrlEncode("alice-cred"));
    EXPECT_EQ(options->at("userVerification"), "required");

    // Bob's passkey answering Alice's challenge: refused (and the challenge is spent).
    auto wrong = Await(passkeys_->VerifyForUser(alice_.id, "ignored",
                                                Assert(*bkey, "bob-cred", *options, 1, ""), Meta()));
    EXPECT_EQ(wrong.error().api_code, "passkey_not_accepted");

    options = Await(passkeys_->SecondFactorOptions(alice_.id, "ignored"));
    // Alice's challenge checked for Bob: refused.
    auto other_user = Await(passkeys_->VerifyForUser(
        bob_.id, "ignored", Assert(*bkey, "bob-cred", *options, 1, ""), Meta()));
    EXPECT_EQ(other_user.error().api_code, "passkey_not_accepted");

    options = Await(passkeys_->SecondFactorOptions(alice_.id, "ignored"));
    auto ok = Await(passkeys_->VerifyForUser(alice_.id, "ignored",
                                             Assert(*akey, "alice-cred", *options, 1, ""), Meta()));
    ASSERT_TRUE(ok.ok()) << ok.error().api_code;
    EXPECT_EQ(ok->id, apk.id);
    EXPECT_EQ(ok->sign_count, 1);

    // A sign-in challenge is no second-factor challenge, and the reverse.
    auto login = Await(passkeys_->LoginOptions("ignored", Meta()));
    auto cross = Await(passkeys_->VerifyForUser(alice_.id, "ignored",
                                                Assert(*akey, "alice-cred", *login, 2, ""), Meta()));
    EXPECT_EQ(cross.error().api_code, "passkey_not_accepted");
    options = Await(passkeys_->SecondFactorOptions(alice_.id, "ignored"));
    auto as_login = Await(passkeys_->Login(
        "ignored", Assert(*akey, "alice-cred", *options, 3, alice_.id), Meta()));
    EXPECT_EQ(as_login.error().api_code, "passkey_not_accepted");

    // Failures are audited as MFA failures with the reason.
    store::AuditFilter filter;
    filter.action = "auth.mfa_failed";
    auto audit = store().Audit().List(filter, {}).value();
    EXPECT_EQ(audit.items.size(), 3u);
}

TEST_F(PasskeysServiceTest, ApiKeysCannotManagePasskeys) {
    auto who = Who(alice_);
    who.api_key_id = "k1";
    EXPECT_EQ(Await(passkeys_->List(who)).error().code, ErrorCode::kForbidden);
    EXPECT_EQ(Await(passkeys_->RegistrationOptions(who, "ignored")).error().code,
              ErrorCode::kForbidden);
}

}  // namespace
}  // namespace hub::services
