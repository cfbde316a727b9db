#include "crypto/master_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/crypto.hpp"

namespace hub::crypto {
namespace {

namespace fs = std::filesystem;

class MasterKeyFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("hub-master-key-test-" + RandomToken(9));
        ASSERT_TRUE(fs::create_directory(dir_));
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    fs::path Write(const std::string& name, const std::string& content, mode_t mode) {
        fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << content;
        EXPECT_EQ(::chmod(p.c_str(), mode), 0);
        return p;
    }

    static mode_t Mode(const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0);
        return st.st_mode & 07777;
    }

    static std::string Read(const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }

    fs::path dir_;
};

const std::string kB64Key = Base64Encode(std::string(32, '\x07'));

TEST(MasterKey, FromBase64) {
    auto k = MasterKey::FromBase64(kB64Key);
    ASSERT_TRUE(k.ok()) << k.error().public_message;
    EXPECT_EQ(k->key().Reveal(), std::string(32, '\x07'));
    EXPECT_EQ(k->ToBase64().Reveal(), kB64Key);
    // Surrounding whitespace (a trailing newline from a file or `export`) is fine.
    EXPECT_TRUE(MasterKey::FromBase64("  " + kB64Key + "\n").ok());
    // The URL-safe alphabet too.
    const std::string raw = RandomBytes(32);
    auto url = MasterKey::FromBase64(Base64UrlEncode(raw));
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->key().Reveal(), raw);
}

TEST(MasterKey, FromBase64Rejects) {
    for (std::size_t n : {16, 31, 33, 64}) {
        auto k = MasterKey::FromBase64(Base64Encode(RandomBytes(n)));
        ASSERT_FALSE(k.ok()) << n;
        EXPECT_NE(k.error().public_message.find("32 bytes"), std::string::npos);
        EXPECT_NE(k.error().public_message.find(std::to_string(n)), std::string::npos);
    }
    EXPECT_FALSE(MasterKey::FromBase64("").ok());
    EXPECT_FALSE(MasterKey::FromBase64("   \n").ok());
    auto bad = MasterKey::FromBase64("not base64 at all!!");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().public_message.find("base64"), std::string::npos);
}

TEST(MasterKey, SecretNeverPrints) {
    auto k = MasterKey::FromBase64(kB64Key);
    std::ostringstream s;
    s << k->key() << k->ToBase64();
    EXPECT_EQ(s.str(), "******");
}

TEST(MasterKey, CheckValue) {
    MasterKey a = MasterKey::Generate();
    MasterKey b = MasterKey::Generate();
    const std::string kcv = a.CheckValue();
    EXPECT_EQ(kcv.substr(0, 5), "kcv1:");
    EXPECT_EQ(kcv.size(), 5u + 64u);
    EXPECT_EQ(kcv, a.CheckValue());  // stable
    EXPECT_NE(kcv, b.CheckValue());
    EXPECT_EQ(kcv.find(Hex(a.key().Reveal())), std::string::npos);  // not the key itself
    EXPECT_TRUE(a.VerifyCheckValue(kcv).ok());
    EXPECT_TRUE(a.VerifyCheckValue(kcv + "\n").ok());
    auto mismatch = b.VerifyCheckValue(kcv);
    ASSERT_FALSE(mismatch.ok());
    EXPECT_NE(mismatch.error().public_message.find(
                  "does not match the one this database was encrypted with"),
              std::string::npos);
    EXPECT_FALSE(a.VerifyCheckValue("").ok());
    EXPECT_FALSE(a.VerifyCheckValue("something-else").ok());
}

TEST(MasterKey, CheckValueIsDeterministicForAKnownKey) {
    auto k = MasterKey::FromBase64(kB64Key);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->CheckValue(), "kcv1:" + Hex(HmacSha256(std::string(32, '\x07'),
                                                        "bailian-hub master key check v1")));
}

TEST(MasterKey, EncryptDecrypt) {
    MasterKey a = MasterKey::Generate();
    MasterKey b = MasterKey::Generate();
    auto env = a.Encrypt("sk-upstream-key", "upstream_keys:1");
    ASSERT_TRUE(env.ok());
    auto back = a.Decrypt(env.value(), "upstream_keys:1");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), "sk-upstream-key");
    EXPECT_FALSE(b.Decrypt(env.value(), "upstream_keys:1").ok());
    EXPECT_FALSE(a.Decrypt(env.value(), "upstream_keys:2").ok());
}

TEST_F(MasterKeyFileTest, CreatesMissingFileWithMode0600) {
    const fs::path p = dir_ / "sub" / "dir" / "master.key";
    bool created = false;
    auto k = MasterKey::LoadOrCreateFile(p, &created);
    ASSERT_TRUE(k.ok()) << k.error().public_message;
    EXPECT_TRUE(created);
    EXPECT_EQ(Mode(p), 0600u);
    EXPECT_EQ(Mode(dir_ / "sub"), 0700u);
    EXPECT_EQ(Mode(dir_ / "sub" / "dir"), 0700u);
    EXPECT_EQ(Read(p), k->ToBase64().Reveal() + "\n");

    // Loading again gives the same key.
    auto again = MasterKey::LoadOrCreateFile(p, &created);
    ASSERT_TRUE(again.ok()) << again.error().public_message;
    EXPECT_FALSE(created);
    EXPECT_EQ(again->CheckValue(), k->CheckValue());
}

TEST_F(MasterKeyFileTest, LoadsExistingKey) {
    for (mode_t mode : {0600, 0400}) {
        const fs::path p = Write("k" + std::to_string(mode), kB64Key + "\n", mode);
        auto k = MasterKey::LoadOrCreateFile(p);
        ASSERT_TRUE(k.ok()) << k.error().public_message;
        EXPECT_EQ(k->key().Reveal(), std::string(32, '\x07'));
        EXPECT_EQ(Read(p), kB64Key + "\n");  // untouched
    }
}

TEST_F(MasterKeyFileTest, RefusesFilesOthersCanAccess) {
    for (mode_t mode : {0644, 0640, 0604, 0660, 0606, 0610, 0601, 0666}) {
        const fs::path p = Write("k", kB64Key, mode);
        auto k = MasterKey::LoadOrCreateFile(p);
        ASSERT_FALSE(k.ok()) << std::oct << mode;
        EXPECT_NE(k.error().public_message.find("chmod 600"), std::string::npos);
        EXPECT_EQ(k.error().public_message.find(kB64Key), std::string::npos);
        EXPECT_EQ(Read(p), kB64Key);  // never rewritten
    }
}

TEST_F(MasterKeyFileTest, RefusesWrongLengthOrGarbage) {
    const fs::path short_key = Write("short", Base64Encode(RandomBytes(16)) + "\n", 0600);
    auto a = MasterKey::LoadOrCreateFile(short_key);
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().public_message.find("32 bytes"), std::string::npos);

    EXPECT_FALSE(MasterKey::LoadOrCreateFile(Write("empty", "", 0600)).ok());
    EXPECT_FALSE(MasterKey::LoadOrCreateFile(Write("raw", RandomBytes(32), 0600)).ok());
    EXPECT_FALSE(MasterKey::LoadOrCreateFile(Write("big", std::string(10000, 'A'), 0600)).ok());
}

TEST_F(MasterKeyFileTest, RefusesNonRegularFiles) {
    const fs::path d = dir_ / "a-directory";
    ASSERT_TRUE(fs::create_directory(d));
    ASSERT_EQ(::chmod(d.c_str(), 0700), 0);
    auto k = MasterKey::LoadOrCreateFile(d);
    ASSERT_FALSE(k.ok());
    EXPECT_NE(k.error().public_message.find("regular file"), std::string::npos);
}

TEST_F(MasterKeyFileTest, FollowsSymlinkToAPrivateFile) {
    // Mounted secrets (e.g. Kubernetes) are symlinks to the real file.
    const fs::path target = Write("real", kB64Key, 0600);
    const fs::path link = dir_ / "link";
    fs::create_symlink(target, link);
    auto k = MasterKey::LoadOrCreateFile(link);
    ASSERT_TRUE(k.ok()) << k.error().public_message;
    ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
    EXPECT_FALSE(MasterKey::LoadOrCreateFile(link).ok());  // the target's mode counts
}

TEST_F(MasterKeyFileTest, UnusablePathIsAnError) {
    const fs::path file = Write("plain", "x", 0600);
    auto k = MasterKey::LoadOrCreateFile(file / "below-a-file");
    EXPECT_FALSE(k.ok());
}

}  // namespace
}  // namespace hub::crypto
