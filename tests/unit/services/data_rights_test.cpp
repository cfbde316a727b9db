// services::DataRights against a real SQLite store: one export at a time, the archive built
// and served to its owner only; deletion behind the password (and the MFA hook), revoking
// every session and the user's access tokens, removing files no one else uses.
#include "services/data_rights.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "auth/rbac.hpp"
#include "crypto/crypto.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;

constexpr const char* kPassword = "Correct-Horse-7-Battery";

class DataRightsTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        auto hasher = auth::PasswordHasher::Create(auth::kMinBcryptCost);
        ASSERT_TRUE(hasher.ok());
        hasher_.emplace(std::move(hasher.value()));
        auto roles = auth::RolePermissions::FromRows(auth::DefaultRolePermissionRows());
        ASSERT_TRUE(roles.ok());
        roles_ = std::move(roles.value());
        files_ = std::make_unique<store::FileStore>(dir_.File("files"));
        DataRightsConfig cfg;
        cfg.exports_dir = dir_.File("exports");
        fs::create_directories(cfg.exports_dir);
        cfg.conversation_json = [](const ConversationExport& e) {
            return "{\"title\":\"" + e.conversation.title + "\"}";
        };
        // Not started: jobs stay pending, so "one at a time" is deterministic here.
        rights_ = std::make_unique<DataRights>(store(), db_, crypto_, *hasher_, revocations_,
                                               *files_, clock_, cfg);
    }

    store::User UserWithPassword(const std::string& name, std::string role = "user") {
        store::User u;
        u.username = name;
        u.email = name + "@example.com";
        u.password_hash = hasher_->Hash(kPassword).value();
        u.role = std::move(role);
        return store().Users().Create(u).value();
    }

    auth::Principal Who(const store::User& u, const std::string& session = "s1") {
        auth::Principal p;
        p.user_id = u.id;
        p.role = u.role;
        p.session_id = session;
        p.permissions = roles_.For(u.role);
        return p;
    }

    // A finished generation of `u` with one image stored under the bytes `content`.
    std::string ImageOf(const store::User& u, const std::string& content) {
        auto put = files_->Put(content, crypto::Sha256Hex(content), "png");
        EXPECT_TRUE(put.ok());
        store::ImageGeneration g;
        g.user_id = u.id;
        g.endpoint = "images";
        g.model = "wan2.2-t2i-flash";
        g.prompt = "p";
        g.size = "1024*1024";
        auto gen = store().Images().Create(g).value();
        store::GeneratedImage img;
        img.ok = true;
        img.file_path = put->path;
        store::GenerationPatch done;
        done.status = store::GenerationStatus::kSucceeded;
        done.finished_at = store::testing::kT0;
        EXPECT_TRUE(store().Images().Finish(gen.id, done, {img}).ok());
        return put->path;
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

    RequestMeta Meta() { return {"127.0.0.1", "test", "rid"}; }

    async::WorkerPool db_{"db", 1};
    async::WorkerPool crypto_{"crypto", 1};
    std::optional<auth::PasswordHasher> hasher_;
    auth::RevocationCache revocations_{clock_};
    auth::RolePermissions roles_;
    std::unique_ptr<store::FileStore> files_;
    std::unique_ptr<DataRights> rights_;
};

TEST_F(DataRightsTest, OneExportAtATimeThenTheArchiveForItsOwnerOnly) {
    auto ann = UserWithPassword("ann");
    auto bob = UserWithPassword("bob");
    store::Conversation c;
    c.user_id = ann.id;
    c.title = "Hello";
    ASSERT_TRUE(store().Conversations().Create(c).ok());
    auto first = Await(rights_->StartExport(Who(ann), Meta()));
    ASSERT_TRUE(first.ok());
    auto second = Await(rights_->StartExport(Who(ann), Meta()));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, ErrorCode::kConflict);
    EXPECT_EQ(second.error().api_code, "export_in_progress");
    auto not_ready = Await(rights_->OpenExport(Who(ann), first->id, Meta()));
    ASSERT_FALSE(not_ready.ok());
    EXPECT_EQ(not_ready.error().api_code, "export_not_ready");

    ASSERT_TRUE(rights_->BuildExport(*first).ok());
    store::ExportPatch ready;
    ready.status = store::ExportStatus::kReady;
    ready.file_path = first->id + ".zip";
    ready.expires_at = store::testing::kT0 + 1000;
    ASSERT_TRUE(store().DataExports().Update(first->id, ready).ok());
    auto file = Await(rights_->OpenExport(Who(ann), first->id, Meta()));
    ASSERT_TRUE(file.ok()) << file.error().detail;
    EXPECT_EQ(file->bytes.substr(0, 4), std::string("PK\x03\x04", 4));
    EXPECT_NE(file->bytes.find("conversations/"), std::string::npos);
    auto stolen = Await(rights_->OpenExport(Who(bob), first->id, Meta()));
    ASSERT_FALSE(stolen.ok());
    EXPECT_EQ(stolen.error().code, ErrorCode::kNotFound);
    // Past its time it is gone for its owner too.
    Advance(1000);
    auto late = Await(rights_->OpenExport(Who(ann), first->id, Meta()));
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, ErrorCode::kNotFound);
}

TEST_F(DataRightsTest, DeletionNeedsThePasswordRevokesEverythingAndKeepsSharedFiles) {
    auto ann = UserWithPassword("ann");
    auto bob = UserWithPassword("bob");
    const std::string own = ImageOf(ann, "only ann's bytes");
    const std::string shared = ImageOf(ann, "the same bytes");
    ImageOf(bob, "the same bytes");
    store::Session s;
    s.user_id = ann.id;
    s.refresh_hash = "h1";
    s.expires_at = store::testing::kT0 + 1'000'000;
    auto session = store().Sessions().Create(s).value();

    auto wrong = Await(rights_->DeleteOwnAccount(Who(ann, session.id), "not-the-password", {}, Meta()));
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().api_code, "invalid_credentials");
    EXPECT_TRUE(store().Users().Get(ann.id).ok());
    EXPECT_TRUE(revocations_.IsAllowed(ann.id, session.id));

    auto ok = Await(rights_->DeleteOwnAccount(Who(ann, session.id), kPassword, {}, Meta()));
    ASSERT_TRUE(ok.ok()) << ok.error().detail;
    EXPECT_FALSE(store().Users().Get(ann.id).ok());
    EXPECT_FALSE(revocations_.IsAllowed(ann.id, session.id));
    EXPECT_FALSE(revocations_.IsAllowed(ann.id, "any-other-session"));
    EXPECT_FALSE(fs::exists(fs::path(files_->root()) / own));
    EXPECT_TRUE(fs::exists(fs::path(files_->root()) / shared));
    EXPECT_TRUE(revocations_.IsAllowed(bob.id, "s1"));
    store::AuditFilter f;
    f.action = "user.deleted";
    auto audit = store().Audit().List(f, store::PageRequest{});
    ASSERT_TRUE(audit.ok());
    ASSERT_EQ(audit->items.size(), 1u);
    EXPECT_EQ(audit->items[0].target, "user:" + ann.id);
}

TEST_F(DataRightsTest, MfaIsAskedForWhenEnrolledAndTheLastAdminStays) {
    auto root = UserWithPassword("root", "admin");
    auto mfa = UserWithPassword("mfa");
    store::UserPatch p;
    p.mfa_secret_enc = std::optional<std::string>("v1:secret");
    ASSERT_TRUE(store().Users().Update(mfa.id, p).ok());
    auto refused = Await(rights_->DeleteOwnAccount(Who(mfa), kPassword, {}, Meta()));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().api_code, "mfa_required");
    rights_->SetMfaCheck([](const store::User&, const std::optional<std::string>& code,
                            const RequestMeta&) {
        if (code == std::optional<std::string>("123456")) return core::Result<void>(core::Ok());
        return core::Result<void>(core::Error::Make(ErrorCode::kForbidden, "invalid_mfa_code", "Wrong code."));
    });
    EXPECT_EQ(Await(rights_->DeleteOwnAccount(Who(mfa), kPassword, std::string("000000"), Meta()))
                  .error()
                  .api_code,
              "invalid_mfa_code");
    EXPECT_TRUE(Await(rights_->DeleteOwnAccount(Who(mfa), kPassword, std::string("123456"), Meta())).ok());

    auto last = Await(rights_->AdminDeleteUser(Who(root), root.id, Meta()));
    ASSERT_FALSE(last.ok());
    EXPECT_EQ(last.error().api_code, "last_admin");
    auto user = UserWithPassword("plain");
    auto by_user = Await(rights_->AdminDeleteUser(Who(user), root.id, Meta()));
    ASSERT_FALSE(by_user.ok());
    EXPECT_EQ(by_user.error().code, ErrorCode::kForbidden);
}

}  // namespace
}  // namespace hub::services
