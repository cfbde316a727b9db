#pragma once
// Shared set-up for the SQLite store tests: a fresh temp dir per test, a migrated store on a
// file in it, and a manual clock.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

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

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        SqliteOptions options;
        options.path = dir_.File("hub.db");
        options.readers = 2;
        options.clock = &clock_;
        auto r = OpenSqliteStore(options);
        ASSERT_TRUE(r.ok()) << r.error().detail;
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

}  // namespace hub::store::testing
