// Passkeys and WebAuthn challenges (migration 0010): owner scope, unique credential ids,
// the sign-count compare-and-set, and challenges that are single-use, expire and keep purpose.
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class PasskeysTest : public testing::DialectStoreTest {
protected:
    void SetUp() override {
        DialectStoreTest::SetUp();
        owner_ = NewUser("owner");
        other_ = NewUser("other");
    }

    Passkey Make(const std::string& user_id, const std::string& cred, const std::string& name) {
        Passkey p;
        p.user_id = user_id;
        p.credential_id = cred;
        p.public_key = std::string("\xa5\x01\x02\x00\xff", 5);
        p.alg = -7;
        p.name = name;
        p.transports = R"(["internal"])";
        auto r = store().Passkeys().Create(p);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        return r.ok() ? r.value() : Passkey{};
    }

    PasskeyStore& pk() { return store().Passkeys(); }

    User owner_;
    User other_;
};

TEST_P(PasskeysTest, CreateListGetOwnerOnly) {
    Passkey a = Make(owner_.id, std::string("\x00\x01cred-a", 8), "Laptop");
    Advance(5);
    Passkey b = Make(owner_.id, "cred-b", "Phone");
    Make(other_.id, "cred-c", "Theirs");
    EXPECT_FALSE(a.id.empty());
    EXPECT_EQ(a.created_at, testing::kT0);
    ASSERT_OK_AND_ASSIGN(auto list, pk().ListByUser(owner_.id));
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].id, a.id);
    EXPECT_EQ(list[1].id, b.id);
    EXPECT_EQ(list[0].credential_id, std::string("\x00\x01cred-a", 8));  // binary-safe
    EXPECT_EQ(list[0].public_key, std::string("\xa5\x01\x02\x00\xff", 5));
    EXPECT_EQ(list[0].alg, -7);
    EXPECT_EQ(list[0].transports, R"(["internal"])");
    EXPECT_FALSE(list[0].last_used_at.has_value());
    ASSERT_OK_AND_ASSIGN(Passkey got, pk().Get(owner_.id, b.id));
    EXPECT_EQ(got.name, "Phone");
    EXPECT_ERROR(pk().Get(other_.id, b.id), ErrorCode::kNotFound, "passkey_not_found");
    ASSERT_OK_AND_ASSIGN(Passkey by_cred, pk().GetByCredentialId("cred-b"));
    EXPECT_EQ(by_cred.id, b.id);
    EXPECT_EQ(by_cred.user_id, owner_.id);
    EXPECT_ERROR(pk().GetByCredentialId("nope"), ErrorCode::kNotFound, "passkey_not_found");
}

TEST_P(PasskeysTest, CredentialIdIsUniqueAcrossUsers) {
    Make(owner_.id, "same", "One");
    Passkey dup;
    dup.user_id = other_.id;
    dup.credential_id = "same";
    dup.public_key = "k";
    dup.alg = -8;
    dup.name = "Two";
    EXPECT_ERROR(pk().Create(dup), ErrorCode::kConflict, "passkey_exists");
    dup.alg = -35;  // not an algorithm the hub accepts
    dup.credential_id = "other";
    EXPECT_FALSE(pk().Create(dup).ok());
}

TEST_P(PasskeysTest, RenameAndDeleteAreOwnerScoped) {
    Passkey a = Make(owner_.id, "cred-a", "Laptop");
    EXPECT_ERROR(pk().Rename(other_.id, a.id, "Mine now"), ErrorCode::kNotFound, "passkey_not_found");
    ASSERT_OK_AND_ASSIGN(Passkey renamed, pk().Rename(owner_.id, a.id, "Work laptop"));
    EXPECT_EQ(renamed.name, "Work laptop");
    EXPECT_ERROR(pk().Delete(other_.id, a.id), ErrorCode::kNotFound, "passkey_not_found");
    EXPECT_OK(pk().Delete(owner_.id, a.id));
    EXPECT_ERROR(pk().Delete(owner_.id, a.id), ErrorCode::kNotFound, "passkey_not_found");
    EXPECT_ERROR(pk().GetByCredentialId("cred-a"), ErrorCode::kNotFound, "passkey_not_found");
}

TEST_P(PasskeysTest, RecordUseIsACompareAndSetOnTheCounter) {
    Passkey a = Make(owner_.id, "cred-a", "Laptop");
    EXPECT_OK(pk().RecordUse(a.id, 0, 5, testing::kT0 + 100));
    ASSERT_OK_AND_ASSIGN(Passkey got, pk().Get(owner_.id, a.id));
    EXPECT_EQ(got.sign_count, 5);
    EXPECT_EQ(got.last_used_at, testing::kT0 + 100);
    // A second sign-in that read the old counter loses.
    EXPECT_ERROR(pk().RecordUse(a.id, 0, 6, testing::kT0 + 200), ErrorCode::kConflict,
                 "sign_count_changed");
    EXPECT_OK(pk().RecordUse(a.id, 5, 6, testing::kT0 + 300));
}

TEST_P(PasskeysTest, ChallengesAreSingleUseExpireAndKeepTheirPurpose) {
    WebAuthnChallenge ch;
    ch.challenge_hash = std::string(64, 'a');
    ch.purpose = std::string(kChallengeLogin);
    ch.created_at = testing::kT0;
    ch.expires_at = testing::kT0 + 300'000;
    EXPECT_OK(pk().CreateChallenge(ch));
    // Wrong purpose: refused, and the challenge stays usable for its own.
    EXPECT_ERROR(pk().ConsumeChallenge(ch.challenge_hash, kChallengeRegister, testing::kT0 + 1),
                 ErrorCode::kNotFound, "challenge_not_found");
    ASSERT_OK_AND_ASSIGN(auto used, pk().ConsumeChallenge(ch.challenge_hash, kChallengeLogin,
                                                          testing::kT0 + 2));
    EXPECT_EQ(used.purpose, "login");
    EXPECT_FALSE(used.user_id.has_value());
    EXPECT_EQ(used.used_at, testing::kT0 + 2);
    EXPECT_ERROR(pk().ConsumeChallenge(ch.challenge_hash, kChallengeLogin, testing::kT0 + 3),
                 ErrorCode::kNotFound, "challenge_not_found");

    WebAuthnChallenge reg = ch;
    reg.challenge_hash = std::string(64, 'b');
    reg.purpose = std::string(kChallengeRegister);
    reg.user_id = owner_.id;
    EXPECT_OK(pk().CreateChallenge(reg));
    EXPECT_ERROR(pk().ConsumeChallenge(reg.challenge_hash, kChallengeRegister, reg.expires_at),
                 ErrorCode::kNotFound, "challenge_not_found");  // expired at expires_at
    EXPECT_ERROR(pk().ConsumeChallenge(std::string(64, 'c'), kChallengeRegister, testing::kT0),
                 ErrorCode::kNotFound, "challenge_not_found");

    WebAuthnChallenge second = reg;
    second.challenge_hash = std::string(64, 'd');
    second.purpose = std::string(kChallengeSecondFactor);
    EXPECT_OK(pk().CreateChallenge(second));
    ASSERT_OK_AND_ASSIGN(auto got, pk().ConsumeChallenge(second.challenge_hash,
                                                         kChallengeSecondFactor, testing::kT0));
    EXPECT_EQ(got.user_id, owner_.id);

    ASSERT_OK_AND_ASSIGN(auto pruned, pk().PruneChallenges(testing::kT0 + 300'001));
    EXPECT_EQ(pruned, 3);
}

TEST_P(PasskeysTest, DeletingTheUserDeletesItsPasskeys) {
    Make(owner_.id, "cred-a", "Laptop");
    ASSERT_OK(store().Users().Erase(owner_.id, "tombstone"));
    EXPECT_ERROR(pk().GetByCredentialId("cred-a"), ErrorCode::kNotFound, "passkey_not_found");
}


HUB_STORE_DIALECTS(PasskeysTest);
}  // namespace
}  // namespace hub::store
