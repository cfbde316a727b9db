#include "services/backups.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/crypto.hpp"
#include "store/file_store.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

namespace fs = std::filesystem;
using store::testing::StoreTest;
using store::testing::TempDir;

std::string ReadAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int Latest() {
    int v = 0;
    for (const auto& m : store::sqliteMigrations()) v = std::max(v, m.version);
    return v;
}

class BackupsTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        files_root_ = dir_.File("files");
        store::FileStore files(files_root_);
        const std::string png = "\x89PNG fake image bytes";
        auto put = files.Put(png, crypto::Sha256Hex(png), "png");
        ASSERT_TRUE(put.ok());
        file_path_ = put->path;
        auto u = NewUser("ann");
        store::Conversation c;
        c.user_id = u.id;
        c.title = "first";
        ASSERT_TRUE(store().Conversations().Create(c).ok());
    }

    BackupRequest Request(const std::string& out, const std::string& pass = "") {
        BackupRequest r;
        r.out_path = out;
        r.passphrase = core::Secret<std::string>(pass);
        r.files_root = files_root_;
        r.hub_version = "test";
        r.kdf = archive::KdfParams{10, 8, 1};
        return r;
    }

    RestoreRequest Restore(const TempDir& target, const std::string& from,
                           const std::string& pass = "") {
        RestoreRequest r;
        r.from = from;
        r.passphrase = core::Secret<std::string>(pass);
        r.files_root = target.File("files");
        r.master_key_path = target.File("master.key");
        r.work_dir = target.path().string();
        r.latest_schema = Latest();
        return r;
    }

    std::string files_root_;
    std::string file_path_;
};

TEST_F(BackupsTest, RestoreGivesBackTheDatabaseAndTheFilesAsTheManifestSays) {
    const std::string out = dir_.File("b.bhbk");
    auto b = WriteBackup(store(), Request(out, "a long passphrase"), clock_);
    ASSERT_TRUE(b.ok()) << b.error().detail;
    const auto& m = b->manifest;
    EXPECT_EQ(m["schema_version"], Latest());
    EXPECT_EQ(m["row_counts"]["users"], 1);
    EXPECT_EQ(m["row_counts"]["conversations"], 1);
    EXPECT_EQ(m["master_key_included"], false);
    EXPECT_EQ(m["encrypted"], true);
    EXPECT_EQ(m["file_count"], 1);

    TempDir target;
    auto t = store::MakeSqliteRestoreTarget(target.File("hub.db"));
    auto restored = RestoreBackup(*t, Restore(target, out, "a long passphrase"));
    ASSERT_TRUE(restored.ok()) << restored.error().api_code << " " << restored.error().detail;
    auto info = store::InspectSqliteFile(target.File("hub.db"));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(nlohmann::json(info->row_counts), m["row_counts"]);
    EXPECT_EQ(ReadAll(fs::path(target.File("files")) / file_path_),
              ReadAll(fs::path(files_root_) / file_path_));
    EXPECT_FALSE(fs::exists(target.File("master.key")));
    // Only the database and the files: no snapshot left over.
    int n = 0;
    for (const auto& e : fs::directory_iterator(target.path())) {
        (void)e;
        ++n;
    }
    EXPECT_EQ(n, 2);
}

TEST_F(BackupsTest, TheMasterKeyIsOnlyInABackupThatAsksForIt) {
    const std::string out = dir_.File("b.bhbk");
    auto req = Request(out);
    req.master_key = core::Secret<std::string>("bWFzdGVyIGtleSB0ZXh0");
    auto b = WriteBackup(store(), req, clock_);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->manifest["master_key_included"], true);
    TempDir target;
    auto t = store::MakeSqliteRestoreTarget(target.File("hub.db"));
    ASSERT_TRUE(RestoreBackup(*t, Restore(target, out)).ok());
    EXPECT_EQ(ReadAll(target.File("master.key")), "bWFzdGVyIGtleSB0ZXh0\n");

    const std::string plain = dir_.File("p.bhbk");
    ASSERT_TRUE(WriteBackup(store(), Request(plain), clock_).ok());
    EXPECT_EQ(ReadAll(plain).find("bWFzdGVyIGtleSB0ZXh0"), std::string::npos);
}

TEST_F(BackupsTest, ATamperedBackupIsRefusedBeforeAnythingIsWritten) {
    const std::string out = dir_.File("b.bhbk");
    ASSERT_TRUE(WriteBackup(store(), Request(out), clock_).ok());
    std::string bytes = ReadAll(out);
    // A byte of the stored image, near the end of the file (before the manifest).
    auto at = bytes.find("fake image");
    ASSERT_NE(at, std::string::npos);
    bytes[at] = 'F';
    std::ofstream(out, std::ios::binary | std::ios::trunc) << bytes;
    TempDir target;
    auto t = store::MakeSqliteRestoreTarget(target.File("hub.db"));
    auto r = RestoreBackup(*t, Restore(target, out));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "backup_corrupt");
    EXPECT_TRUE(fs::is_empty(target.path()));
}

TEST_F(BackupsTest, ANewerSchemaIsRefusedAndAWrongPassphraseToo) {
    const std::string out = dir_.File("b.bhbk");
    ASSERT_TRUE(WriteBackup(store(), Request(out, "a long passphrase"), clock_).ok());
    auto older_binary = VerifyBackup(out, core::Secret<std::string>("a long passphrase"),
                                     Latest() - 1, "sqlite");
    ASSERT_FALSE(older_binary.ok());
    EXPECT_EQ(older_binary.error().api_code, "backup_schema_too_new");
    auto wrong = VerifyBackup(out, core::Secret<std::string>("not the passphrase"), Latest(),
                              "sqlite");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().api_code, "wrong_passphrase");
    auto other = VerifyBackup(out, core::Secret<std::string>("a long passphrase"), Latest(),
                              "mysql");
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().api_code, "backup_dialect_mismatch");
}

TEST_F(BackupsTest, RestoreGoesOnlyIntoAnEmptyDatabase) {
    const std::string out = dir_.File("b.bhbk");
    ASSERT_TRUE(WriteBackup(store(), Request(out), clock_).ok());
    // The live database of this test is not empty.
    auto t = store::MakeSqliteRestoreTarget(dir_.File("hub.db"));
    TempDir target;
    auto req = Restore(target, out);
    auto r = RestoreBackup(*t, req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "restore_target_not_empty");
    EXPECT_TRUE(fs::is_empty(target.path()));
}

TEST(BackupRetention, KeepsTheNewestScheduledBackupsAndNothingElse) {
    std::vector<std::string> names;
    for (std::int64_t i = 0; i < 5; ++i) names.push_back(ScheduledBackupName(3'600'000 * i + 1'796'000'000'000));
    names.push_back("notes.txt");
    names.push_back("bailian-hub-manual.bhbk");
    auto gone = BackupsToRemove(names, 2);
    ASSERT_EQ(gone.size(), 3u);
    EXPECT_EQ(gone[0], names[2]);
    EXPECT_EQ(gone[2], names[0]);
    EXPECT_TRUE(BackupsToRemove(names, 5).empty());
    EXPECT_TRUE(IsScheduledBackupName(ScheduledBackupName(0)));
    EXPECT_FALSE(IsScheduledBackupName("bailian-hub-2026.bhbk"));
}

}  // namespace
}  // namespace hub::services
