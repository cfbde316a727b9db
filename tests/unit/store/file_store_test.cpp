#include "store/file_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace hub::store {
namespace {

namespace fs = std::filesystem;

class FileStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() /
                ("hub-files-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
    }
    void TearDown() override { fs::remove_all(root_); }
    fs::path root_;
};

const std::string kSha(64, 'c');

TEST_F(FileStoreTest, PutReadRemovePrivately) {
    FileStore files(root_.string());
    auto put = files.Put("png bytes", kSha, "png");
    ASSERT_TRUE(put.ok()) << put.error().detail;
    EXPECT_EQ(put->path, "cc/" + kSha + ".png");
    EXPECT_EQ(put->bytes, 9);
    struct stat st {};
    ASSERT_EQ(::stat((root_ / put->path).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((root_ / "cc").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // The same bytes again: the same file.
    auto again = files.Put("png bytes", kSha, "png");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->path, put->path);
    EXPECT_EQ(files.Read(put->path).value(), "png bytes");
    ASSERT_TRUE(files.Remove(put->path).ok());
    EXPECT_EQ(files.Read(put->path).error().code, core::ErrorCode::kNotFound);
    EXPECT_TRUE(files.Remove(put->path).ok());  // already gone
    // No temp files left behind.
    for (const auto& e : fs::recursive_directory_iterator(root_))
        EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos);
}

TEST_F(FileStoreTest, RefusesPathsOutsideItsFolder) {
    FileStore files(root_.string());
    EXPECT_FALSE(files.Put("x", "short", "png").ok());
    EXPECT_FALSE(files.Put("x", kSha, "../png").ok());
    EXPECT_EQ(files.Read("../etc/passwd").error().code, core::ErrorCode::kNotFound);
    EXPECT_EQ(files.Read("/etc/passwd").error().code, core::ErrorCode::kNotFound);
    EXPECT_TRUE(files.Remove("../../x").ok());  // a no-op, not an escape
}

}  // namespace
}  // namespace hub::store
