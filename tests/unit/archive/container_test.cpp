#include "archive/container.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "crypto/crypto.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::archive {
namespace {

namespace fs = std::filesystem;
using store::testing::TempDir;

const KdfParams kFastKdf{10, 8, 1};  // tests only: the default costs ~0.1 s per derivation

std::string Pattern(std::size_t n, char seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + (i * 31 + i / 7) % 251);
    return s;
}

std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

// Three entries; the second crosses several 1 MiB chunks.
std::map<std::string, std::string> Sample() {
    return {{"a.txt", "hello"}, {"files/ab/big.bin", Pattern(2'500'000, 'x')}, {"z/empty", ""}};
}

void WriteSample(const std::string& out, const std::string& passphrase) {
    auto w = ContainerWriter::Create(out, core::Secret<std::string>(passphrase), kFastKdf);
    ASSERT_TRUE(w.ok()) << w.error().detail;
    for (const auto& [name, bytes] : Sample()) {
        auto e = (*w)->Add(name, bytes);
        ASSERT_TRUE(e.ok()) << e.error().detail;
        EXPECT_EQ(e->sha256, crypto::Sha256Hex(bytes));
    }
    ASSERT_TRUE((*w)->Finish().ok());
}

core::Result<std::map<std::string, std::string>> ReadBack(const std::string& path,
                                                          const std::string& passphrase) {
    std::map<std::string, std::string> got;
    auto r = ReadContainer(path, core::Secret<std::string>(passphrase),
                           [&](const std::string& name, std::string_view piece, bool first) {
                               if (first) got[name].clear();
                               got[name].append(piece);
                               return core::Ok();
                           });
    if (!r.ok()) return r.error();
    return got;
}

class ContainerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ContainerTest, RoundTripKeepsEveryEntryAndItsChecksum) {
    TempDir dir;
    const std::string out = dir.File("b.bhbk");
    WriteSample(out, GetParam());
    auto got = ReadBack(out, GetParam());
    ASSERT_TRUE(got.ok()) << got.error().api_code << " " << got.error().detail;
    EXPECT_EQ(*got, Sample());
    // Nothing but the final file is left behind.
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 1);
    EXPECT_EQ(fs::status(out).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    if (!GetParam().empty()) {
        // Encrypted: none of the content shows in the file.
        EXPECT_EQ(ReadAll(out).find("hello"), std::string::npos);
        EXPECT_EQ(ReadAll(out).find("files/ab/big.bin"), std::string::npos);
    }
}

TEST_P(ContainerTest, AnyChangedByteIsRefused) {
    TempDir dir;
    const std::string out = dir.File("b.bhbk");
    WriteSample(out, GetParam());
    const std::string good = ReadAll(out);
    // Past the header: in the first entry, inside the big one, and in the trailer.
    for (std::size_t at : {good.size() / 3, good.size() / 2, good.size() - 5}) {
        std::string bad = good;
        bad[at] = static_cast<char>(bad[at] ^ 0x01);
        WriteAll(out, bad);
        auto r = ReadContainer(out, core::Secret<std::string>(GetParam()));
        ASSERT_FALSE(r.ok()) << "byte " << at;
        EXPECT_TRUE(r.error().api_code == "backup_corrupt" ||
                    r.error().api_code == "backup_truncated")
            << r.error().api_code;
    }
}

TEST_P(ContainerTest, TruncatedOrExtendedFilesAreRefused) {
    TempDir dir;
    const std::string out = dir.File("b.bhbk");
    WriteSample(out, GetParam());
    const std::string good = ReadAll(out);
    for (std::size_t keep : {good.size() - 1, good.size() - 33, good.size() / 2, std::size_t{60}}) {
        WriteAll(out, good.substr(0, keep));
        auto r = ReadContainer(out, core::Secret<std::string>(GetParam()));
        ASSERT_FALSE(r.ok()) << "kept " << keep;
        EXPECT_TRUE(r.error().api_code == "backup_truncated" ||
                    r.error().api_code == "backup_corrupt")
            << r.error().api_code;
    }
    WriteAll(out, good + "x");
    auto r = ReadContainer(out, core::Secret<std::string>(GetParam()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "backup_corrupt");
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, ContainerTest,
                         ::testing::Values(std::string(), std::string("correct horse battery")));

TEST(Container, WrongOrMissingPassphraseIsAClearError) {
    TempDir dir;
    const std::string out = dir.File("b.bhbk");
    WriteSample(out, "correct horse battery");
    auto wrong = ReadContainer(out, core::Secret<std::string>("wrong horse battery"));
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().api_code, "wrong_passphrase");
    EXPECT_EQ(wrong.error().public_message.find("correct"), std::string::npos);
    auto none = ReadContainer(out, core::Secret<std::string>(""));
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().api_code, "passphrase_required");
}

TEST(Container, OtherFilesAreNotBackups) {
    TempDir dir;
    WriteAll(dir.File("x"), "PK\x03\x04 not ours");
    auto r = ReadContainer(dir.File("x"), core::Secret<std::string>(""));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "not_a_backup");
    auto missing = ReadContainer(dir.File("none"), core::Secret<std::string>(""));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
}

TEST(Container, AnUnfinishedWriterLeavesNothing) {
    TempDir dir;
    const std::string out = dir.File("b.bhbk");
    {
        auto w = ContainerWriter::Create(out, core::Secret<std::string>(""));
        ASSERT_TRUE(w.ok());
        ASSERT_TRUE((*w)->Add("a", "b").ok());
        EXPECT_TRUE(fs::exists((*w)->partial_path()));
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

// A write error half-way (here the file-size limit, as a full disk would): the writer
// reports it and the partial file is gone. In a child process, where the limit applies.
TEST(Container, AWriteErrorRemovesThePartialFile) {
    TempDir dir;
    const std::string out = dir.File("b.bhbk");
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit lim{200'000, 200'000};
        setrlimit(RLIMIT_FSIZE, &lim);
        auto w = ContainerWriter::Create(out, core::Secret<std::string>(""));
        if (!w.ok()) _exit(10);
        auto big = (*w)->Add("big", Pattern(3'000'000, 'a'));
        core::Result<void> fin = big.ok() ? (*w)->Finish() : core::Result<void>(big.error());
        if (fin.ok()) _exit(11);
        if (fin.error().api_code != "backup_write_failed") _exit(12);
        w.value().reset();
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Container, EntryNamesStayInsideTheirFolder) {
    EXPECT_TRUE(ValidEntryName("files/ab/0123.png"));
    EXPECT_TRUE(ValidEntryName("manifest.json"));
    for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/", "./a", "a b",
                            "a\\b"}) {
        EXPECT_FALSE(ValidEntryName(bad)) << bad;
    }
}

}  // namespace
}  // namespace hub::archive
