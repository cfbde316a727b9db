#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class SessionsTest : public testing::DialectStoreTest {
protected:
    Session NewSession(const std::string& user_id, const std::string& hash,
                       std::int64_t ttl_ms = 3'600'000) {
        Session s;
        s.user_id = user_id;
        s.refresh_hash = hash;
        s.user_agent = "test-agent";
        s.ip = "127.0.0.1";
        s.expires_at = clock_.NowMs() + ttl_ms;
        auto r = store().Sessions().Create(s);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        return r.ok() ? r.value() : Session{};
    }
};

TEST_P(SessionsTest, CreateStartsAFamilyAndGetsFindIt) {
    User u = NewUser("sam");
    Session s = NewSession(u.id, "hash-1");
    EXPECT_FALSE(s.id.empty());
    EXPECT_EQ(s.family_id, s.id);
    EXPECT_EQ(s.created_at, testing::kT0);

    ASSERT_OK_AND_ASSIGN(Session by_id, store().Sessions().Get(s.id));
    EXPECT_EQ(by_id.refresh_hash, "hash-1");
    EXPECT_EQ(by_id.user_agent, "test-agent");
    EXPECT_TRUE(by_id.IsActive(clock_.NowMs()));
    ASSERT_OK_AND_ASSIGN(Session by_hash, store().Sessions().GetByRefreshHash("hash-1"));
    EXPECT_EQ(by_hash.id, s.id);
    EXPECT_ERROR(store().Sessions().GetByRefreshHash("nope"), ErrorCode::kNotFound,
                 "session_not_found");

    Session orphan;
    orphan.user_id = "no-such-user";
    orphan.refresh_hash = "hash-x";
    orphan.expires_at = clock_.NowMs() + 1;
    EXPECT_ERROR(store().Sessions().Create(orphan), ErrorCode::kUnprocessable, "invalid_reference");
}

TEST_P(SessionsTest, RotateRevokesTheOldAndKeepsTheFamily) {
    User u = NewUser("rita");
    Session first = NewSession(u.id, "h1");
    Advance(1000);
    Session next;
    next.refresh_hash = "h2";
    next.expires_at = clock_.NowMs() + 3'600'000;
    ASSERT_OK_AND_ASSIGN(Session second, store().Sessions().Rotate(first.id, next));
    EXPECT_NE(second.id, first.id);
    EXPECT_EQ(second.family_id, first.family_id);
    EXPECT_EQ(second.user_id, u.id);

    ASSERT_OK_AND_ASSIGN(Session old, store().Sessions().Get(first.id));
    EXPECT_EQ(old.revoked_at, testing::kT0 + 1000);

    // A second refresh with the same (now dead) token loses.
    next.refresh_hash = "h3";
    EXPECT_ERROR(store().Sessions().Rotate(first.id, next), ErrorCode::kConflict,
                 "session_revoked");
    EXPECT_ERROR(store().Sessions().GetByRefreshHash("h3"), ErrorCode::kNotFound,
                 "session_not_found");
    EXPECT_ERROR(store().Sessions().Rotate("missing", next), ErrorCode::kNotFound,
                 "session_not_found");

    // An expired session cannot be rotated.
    Session short_lived = NewSession(u.id, "h4", 10);
    Advance(10);
    next.refresh_hash = "h5";
    EXPECT_ERROR(store().Sessions().Rotate(short_lived.id, next), ErrorCode::kConflict,
                 "session_expired");
}

TEST_P(SessionsTest, RotateFailureLeavesTheOldSessionAlive) {
    User u = NewUser("ursula");
    Session a = NewSession(u.id, "ha");
    NewSession(u.id, "taken");
    Session next;
    next.refresh_hash = "taken";  // duplicate hash: the insert fails
    next.expires_at = clock_.NowMs() + 1000;
    EXPECT_ERROR(store().Sessions().Rotate(a.id, next), ErrorCode::kConflict, "conflict");
    ASSERT_OK_AND_ASSIGN(Session still, store().Sessions().Get(a.id));
    EXPECT_FALSE(still.revoked_at);
}

TEST_P(SessionsTest, RevokeOneFamilyAndAllButOne) {
    User u = NewUser("vic");
    User other = NewUser("walt");
    Session a = NewSession(u.id, "a");
    Session b = NewSession(u.id, "b");
    Session c = NewSession(u.id, "c");
    Session w = NewSession(other.id, "w");

    EXPECT_ERROR(store().Sessions().Revoke(other.id, a.id), ErrorCode::kNotFound,
                 "session_not_found");
    ASSERT_OK(store().Sessions().Revoke(u.id, a.id));
    ASSERT_OK(store().Sessions().Revoke(u.id, a.id));  // idempotent

    Session next;
    next.refresh_hash = "b2";
    next.expires_at = clock_.NowMs() + 1000;
    ASSERT_OK_AND_ASSIGN(Session b2, store().Sessions().Rotate(b.id, next));
    ASSERT_OK_AND_ASSIGN(std::int64_t n_family, store().Sessions().RevokeFamily(b.family_id));
    EXPECT_EQ(n_family, 1);  // b was already revoked by the rotation; b2 now is
    EXPECT_TRUE(store().Sessions().Get(b2.id).value().revoked_at);

    Session d = NewSession(u.id, "d");
    ASSERT_OK_AND_ASSIGN(std::int64_t n_all, store().Sessions().RevokeAllOfUser(u.id, d.id));
    EXPECT_EQ(n_all, 1);  // c
    EXPECT_TRUE(store().Sessions().Get(c.id).value().revoked_at);
    EXPECT_FALSE(store().Sessions().Get(d.id).value().revoked_at);
    EXPECT_FALSE(store().Sessions().Get(w.id).value().revoked_at);

    ASSERT_OK_AND_ASSIGN(std::int64_t n_rest,
                         store().Sessions().RevokeAllOfUser(u.id, std::nullopt));
    EXPECT_EQ(n_rest, 1);  // d
}

TEST_P(SessionsTest, ListActiveAndTouch) {
    User u = NewUser("xena");
    Session a = NewSession(u.id, "a");
    Advance(5);
    Session b = NewSession(u.id, "b");
    Session expiring = NewSession(u.id, "e", 100);
    Session revoked = NewSession(u.id, "r");
    ASSERT_OK(store().Sessions().Revoke(u.id, revoked.id));
    Advance(200);

    ASSERT_OK(store().Sessions().Touch(a.id, clock_.NowMs()));
    ASSERT_OK(store().Sessions().Touch(a.id, 1));  // never goes back
    EXPECT_EQ(store().Sessions().Get(a.id).value().last_used_at, clock_.NowMs());
    EXPECT_ERROR(store().Sessions().Touch("missing", 1), ErrorCode::kNotFound, "session_not_found");

    ASSERT_OK_AND_ASSIGN(std::vector<Session> active, store().Sessions().ListActive(u.id));
    ASSERT_EQ(active.size(), 2u);
    EXPECT_EQ(active[0].id, a.id);  // most recently used
    EXPECT_EQ(active[1].id, b.id);

    ASSERT_OK_AND_ASSIGN(std::int64_t deleted, store().Sessions().DeleteExpired(clock_.NowMs()));
    EXPECT_EQ(deleted, 1);
    EXPECT_ERROR(store().Sessions().Get(expiring.id), ErrorCode::kNotFound, "session_not_found");
}


HUB_STORE_DIALECTS(SessionsTest);
}  // namespace
}  // namespace hub::store
