#pragma once
// A throwaway MariaDB server for the unit tests: mariadb-install-db into a temporary folder,
// mariadbd on a free loopback port and a Unix socket, a user `hub` with a password, one fresh
// database per test. Readiness is polled (never a fixed sleep); the server is stopped (SIGTERM,
// then SIGKILL if it hangs) and its folder removed at the end, also when a test fails; it dies
// with the test process too (PR_SET_PDEATHSIG).
//
// MariaDbServer::Shared() starts one server lazily for the whole unit_tests run, or uses the
// server of HUB_TEST_MYSQL_URL when set (its user must be allowed to create databases and
// users, e.g. root).
#include <string>
#include <sys/types.h>

namespace hub::test {

class MariaDbServer {
public:
    struct Options {
        bool log_bin = false;
        int server_id = 1;
    };
    MariaDbServer();
    explicit MariaDbServer(Options options);
    struct External {};
    MariaDbServer(External, std::string url);  // a server someone else runs
    ~MariaDbServer();  // Stop() and remove the folder
    MariaDbServer(const MariaDbServer&) = delete;
    MariaDbServer& operator=(const MariaDbServer&) = delete;

    // The server every test shares (started on first use).
    static MariaDbServer& Shared();

    void Start();    // throws std::runtime_error with the server log's tail on failure
    void Stop();     // SIGTERM, wait; SIGKILL after 30 s
    bool running() const { return pid_ > 0; }
    unsigned port() const { return port_; }
    const std::string& socket() const { return socket_; }

    // A new empty database that `hub` may use fully; returns its mysql:// URL (TCP).
    std::string FreshDatabase(const std::string& query = {});
    // A URL for `user`/`password` (TCP) and `db`.
    std::string Url(const std::string& user, const std::string& password, const std::string& db,
                    const std::string& query = {}) const;
    // Runs SQL as the administrator (root over the socket, or the external URL's user).
    void Admin(const std::string& sql);
    static constexpr const char* kUser = "hub";
    static constexpr const char* kPassword = "hub-Test-pw-5d1e";

private:
    Options options_;
    bool external_ = false;
    std::string external_url_;
    std::string dir_;
    std::string socket_;
    unsigned port_ = 0;
    pid_t pid_ = -1;
    int next_db_ = 0;
};

}  // namespace hub::test
