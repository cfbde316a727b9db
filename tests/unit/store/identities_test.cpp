// store::IdentityStore on SQLite: linked identities (unique per provider and subject, the
// last-one rule in the same transaction as the delete, gone with their user), single-use states
// and tickets (consumed once, reported used afterwards).
#include <gtest/gtest.h>

#include "unit/store/store_fixture.hpp"

namespace hub::store::testing {
namespace {

class IdentitiesTest : public DialectStoreTest {};

UserIdentity Ident(const std::string& user_id, const std::string& subject,
                   const std::string& provider = "corp") {
    UserIdentity i;
    i.user_id = user_id;
    i.provider = provider;
    i.subject = subject;
    i.email = subject + "@corp.test";
    return i;
}

TEST_P(IdentitiesTest, LinksAreUniquePerProviderAndSubject) {
    User a = NewUser("ida");
    User b = NewUser("ben");
    ASSERT_OK_AND_ASSIGN(UserIdentity linked, store().Identities().Create(Ident(a.id, "s-1")));
    EXPECT_FALSE(linked.id.empty());
    EXPECT_EQ(linked.created_at, kT0);
    EXPECT_ERROR(store().Identities().Create(Ident(b.id, "s-1")), core::ErrorCode::kConflict,
                 "identity_taken");
    ASSERT_OK(store().Identities().Create(Ident(b.id, "s-1", "other")));  // another provider
    ASSERT_OK_AND_ASSIGN(UserIdentity found, store().Identities().FindBySubject("corp", "s-1"));
    EXPECT_EQ(found.user_id, a.id);
    EXPECT_ERROR(store().Identities().FindBySubject("corp", "s-2"), core::ErrorCode::kNotFound,
                 "identity_not_found");
    Advance(5000);
    ASSERT_OK(store().Identities().TouchLogin(linked.id, kT0 + 5000));
    ASSERT_OK_AND_ASSIGN(auto mine, store().Identities().ListByUser(a.id));
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_EQ(mine[0].last_login_at, kT0 + 5000);
}

TEST_P(IdentitiesTest, TheLastIdentityIsKeptWhenAskedAndOthersAreNotYours) {
    User a = NewUser("ida");
    User b = NewUser("ben");
    ASSERT_OK_AND_ASSIGN(UserIdentity one, store().Identities().Create(Ident(a.id, "s-1")));
    ASSERT_OK_AND_ASSIGN(UserIdentity two, store().Identities().Create(Ident(a.id, "s-2")));
    EXPECT_ERROR(store().Identities().Delete(b.id, one.id, false), core::ErrorCode::kNotFound,
                 "identity_not_found");
    ASSERT_OK(store().Identities().Delete(a.id, one.id, true));  // another one is left
    EXPECT_ERROR(store().Identities().Delete(a.id, two.id, true), core::ErrorCode::kConflict,
                 "last_sign_in_method");
    ASSERT_OK(store().Identities().Delete(a.id, two.id, false));  // e.g. the user has a password
    ASSERT_OK_AND_ASSIGN(auto left, store().Identities().ListByUser(a.id));
    EXPECT_TRUE(left.empty());
}

TEST_P(IdentitiesTest, IdentitiesAndTicketsGoWithTheirUser) {
    User a = NewUser("ida");
    ASSERT_OK(store().Identities().Create(Ident(a.id, "s-1")));
    SsoTicket t;
    t.token_hash = std::string(64, 'a');
    t.user_id = a.id;
    t.provider = "corp";
    t.created_at = kT0;
    t.expires_at = kT0 + 60'000;
    ASSERT_OK(store().Identities().CreateTicket(t));
    ASSERT_OK(store().Users().Erase(a.id, "tomb"));
    EXPECT_ERROR(store().Identities().FindBySubject("corp", "s-1"), core::ErrorCode::kNotFound,
                 "identity_not_found");
    EXPECT_ERROR(store().Identities().ConsumeTicket(t.token_hash, SsoTicketKind::kTicket, kT0),
                 core::ErrorCode::kNotFound, "ticket_not_found");
}

TEST_P(IdentitiesTest, StatesAndTicketsAreConsumedOnce) {
    OidcState s;
    s.state_hash = std::string(64, 'b');
    s.provider = "corp";
    s.nonce = "n";
    s.code_verifier = "v";
    s.created_at = kT0;
    s.expires_at = kT0 + 600'000;
    ASSERT_OK(store().Identities().CreateState(s));
    ASSERT_OK_AND_ASSIGN(OidcState first, store().Identities().ConsumeState(s.state_hash, kT0 + 1));
    EXPECT_FALSE(first.used_at.has_value());
    EXPECT_EQ(first.nonce, "n");
    EXPECT_EQ(first.code_verifier, "v");
    ASSERT_OK_AND_ASSIGN(OidcState second, store().Identities().ConsumeState(s.state_hash, kT0 + 2));
    EXPECT_EQ(second.used_at, kT0 + 1);
    EXPECT_ERROR(store().Identities().ConsumeState(std::string(64, 'c'), kT0),
                 core::ErrorCode::kNotFound, "state_not_found");

    User a = NewUser("ida");
    SsoTicket link;
    link.token_hash = std::string(64, 'd');
    link.kind = SsoTicketKind::kLink;
    link.user_id = a.id;
    link.provider = "corp";
    link.subject = "s-9";
    link.created_at = kT0;
    link.expires_at = kT0 + 60'000;
    ASSERT_OK(store().Identities().CreateTicket(link));
    // A link token is not a sign-in ticket.
    EXPECT_ERROR(store().Identities().ConsumeTicket(link.token_hash, SsoTicketKind::kTicket, kT0),
                 core::ErrorCode::kNotFound, "ticket_not_found");
    ASSERT_OK_AND_ASSIGN(SsoTicket got,
                         store().Identities().ConsumeTicket(link.token_hash, SsoTicketKind::kLink,
                                                            kT0 + 1));
    EXPECT_FALSE(got.used_at.has_value());
    EXPECT_EQ(got.subject, "s-9");
    ASSERT_OK_AND_ASSIGN(SsoTicket again,
                         store().Identities().ConsumeTicket(link.token_hash, SsoTicketKind::kLink,
                                                            kT0 + 2));
    EXPECT_TRUE(again.used_at.has_value());
    // Housekeeping removes what expired.
    ASSERT_OK_AND_ASSIGN(std::int64_t removed,
                         store().Identities().DeleteExpired(kT0 + 700'000));
    EXPECT_EQ(removed, 2);
}


HUB_STORE_DIALECTS(IdentitiesTest);
}  // namespace
}  // namespace hub::store::testing
