#pragma once
// Shared set-up for the repository tests, which run once per dialect (SQLite, MariaDB): a
// fresh temp dir per test, a migrated store (a file in that dir, or an emptied database on the
// test MariaDB server), and a manual clock.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace hub::store::testing {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "hub-store-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string File(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// Expects a Result to be ok, printing its error otherwise; yields the value.
#define ASSERT_OK_AND_ASSIGN(decl, expr) \
    ASSERT_OK_AND_ASSIGN_IMPL(HUB_TEST_CONCAT(hub_test_r_, __LINE__), decl, expr)
#define HUB_TEST_CONCAT_INNER(a, b) a##b
#define HUB_TEST_CONCAT(a, b) HUB_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, decl, expr)                                               \
    auto tmp = (expr);                                                                           \
    ASSERT_TRUE(tmp.ok()) << tmp.error().api_code << ": " << tmp.error().public_message << " / " \
                          << tmp.error().detail;                                                 \
    decl = std::move(tmp).value()

#define EXPECT_OK(expr)                                                              \
    do {                                                                             \
        auto hub_test_ok_ = (expr);                                                  \
        EXPECT_TRUE(hub_test_ok_.ok())                                               \
            << hub_test_ok_.error().api_code << ": " << hub_test_ok_.error().detail; \
    } while (0)

#define ASSERT_OK(expr)                                                              \
    do {                                                                             \
        auto hub_test_ok_ = (expr);                                                  \
        ASSERT_TRUE(hub_test_ok_.ok())                                               \
            << hub_test_ok_.error().api_code << ": " << hub_test_ok_.error().detail; \
    } while (0)

// Expects a failed Result with this code and api code.
#define EXPECT_ERROR(expr, err_code, err_api_code)                                               \
    do {                                                                                         \
        auto hub_test_err_ = (expr);                                                             \
        ASSERT_FALSE(hub_test_err_.ok());                                                        \
        EXPECT_EQ(hub_test_err_.error().code, err_code) << hub_test_err_.error().detail;         \
        EXPECT_EQ(hub_test_err_.error().api_code, err_api_code) << hub_test_err_.error().detail; \
    } while (0)

inline constexpr std::int64_t kT0 = 1'700'000'000'000;

// The dialects the repository tests run on ("sqlite", "mysql").
std::vector<std::string> StoreDialects();
// A migrated, empty store of `dialect` (MariaDB: the test server's database, emptied).
core::Result<std::unique_ptr<Store>> OpenTestStore(const std::string& dialect,
                                                   const std::string& dir,
                                                   const core::Clock& clock);

// The store, the clock and helpers of the store-backed tests.
class StoreFixture {
protected:
    void Open(const std::string& dialect) {
        auto r = OpenTestStore(dialect, dir_.path().string(), clock_);
        ASSERT_TRUE(r.ok()) << r.error().api_code << ": " << r.error().detail;
        store_ = std::move(r).value();
    }

    Store& store() { return *store_; }

    // A user with unique name and email derived from `name`.
    User NewUser(const std::string& name, std::string role = "user") {
        User u;
        u.username = name;
        u.email = name + "@example.com";
        u.password_hash = "$2b$12$hash";
        u.display_name = name;
        u.role = std::move(role);
        auto r = store_->Users().Create(u);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        return r.ok() ? r.value() : User{};
    }

    void Advance(std::int64_t ms) { clock_.Advance(std::chrono::milliseconds(ms)); }

    TempDir dir_;
    core::ManualClock clock_{kT0};
    std::unique_ptr<Store> store_;
};

// A test on a SQLite store (tests of the layers above the store).
class StoreTest : public ::testing::Test, public StoreFixture {
protected:
    void SetUp() override { Open("sqlite"); }
};

// A repository test: TEST_P, run on every dialect by HUB_STORE_DIALECTS(fixture).
class DialectStoreTest : public ::testing::TestWithParam<std::string>, public StoreFixture {
protected:
    void SetUp() override { Open(GetParam()); }
    bool mysql() const { return GetParam() == "mysql"; }
};

}  // namespace hub::store::testing

// Runs the TEST_Ps of a StoreTest fixture on every dialect.
#define HUB_STORE_DIALECTS(fixture)                                                  \
    INSTANTIATE_TEST_SUITE_P(Dialects, fixture,                                      \
                             ::testing::ValuesIn(::hub::store::testing::StoreDialects()), \
                             [](const auto& info) { return info.param; })
