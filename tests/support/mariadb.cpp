#include "support/mariadb.hpp"
#include "support/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/mysql/url.hpp"

namespace hub::test {

namespace fs = std::filesystem;

namespace {

std::string FindProgram(const std::string& name) {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    path += ":/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin";
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) continue;
        fs::path p = fs::path(dir) / name;
        if (access(p.c_str(), X_OK) == 0) return p.string();
    }
    throw std::runtime_error(name + " not found (apt-get install mariadb-server)");
}

std::string Tail(const std::string& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
}

// fork + exec with stdout/stderr into `log`; the child dies with this process.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + log);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        execv(args[0], args.data());
        _exit(127);
    }
    close(fd);
    if (pid < 0) throw std::runtime_error("fork failed");
    return pid;
}

struct Conn {
    MYSQL* m = nullptr;
    ~Conn() {
        if (m != nullptr) mysql_close(m);
    }
};

// Connects as root over the socket; nullptr-holding Conn when it cannot (yet).
std::unique_ptr<Conn> RootConnect(const std::string& socket) {
    auto c = std::make_unique<Conn>();
    c->m = mysql_init(nullptr);
    unsigned timeout = 2;
    mysql_options(c->m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (mysql_real_connect(c->m, nullptr, "root", nullptr, nullptr, 0, socket.c_str(), 0) ==
        nullptr) {
        return nullptr;
    }
    return c;
}

void RunSql(MYSQL* m, const std::string& sql) {
    if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
        throw std::runtime_error("admin sql failed: " + std::string(mysql_error(m)) + " in: " + sql);
    }
    if (MYSQL_RES* r = mysql_store_result(m)) mysql_free_result(r);
}

class SharedServerEnvironment : public ::testing::Environment {
public:
    void TearDown() override;
};

std::mutex g_shared_mu;
std::unique_ptr<MariaDbServer> g_shared;

void SharedServerEnvironment::TearDown() {
    std::lock_guard lock(g_shared_mu);
    g_shared.reset();
}

// Registered at start-up; stops the shared server after the last test, whatever happened.
[[maybe_unused]] ::testing::Environment* const g_env =
    ::testing::AddGlobalTestEnvironment(new SharedServerEnvironment);

}  // namespace

MariaDbServer::MariaDbServer() : MariaDbServer(Options{}) {}

MariaDbServer::MariaDbServer(Options options) : options_(options) {
    char tmpl[] = "/tmp/hub-mariadb-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    socket_ = dir_ + "/sock";
    std::string datadir = dir_ + "/data";
    // A tmpdir of its own: a starting server deletes every #sql* file in its tmpdir, which in a
    // shared /tmp are the temporary tables of other servers (mariadb-install-db then fails).
    fs::create_directory(dir_ + "/tmp");
    std::vector<std::string> install = {FindProgram("mariadb-install-db"),
                                        "--no-defaults",
                                        "--auth-root-authentication-method=normal",
                                        "--datadir=" + datadir,
                                        "--user=root",
                                        "--skip-test-db",
                                        "--skip-name-resolve",
                                        "--tmpdir=" + dir_ + "/tmp"};
    pid_t pid = Spawn(install, dir_ + "/install.log");
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string tail = Tail(dir_ + "/install.log");
        fs::remove_all(dir_);
        throw std::runtime_error("mariadb-install-db failed: " + tail);
    }
    port_ = FreeLoopbackPort();
    try {
        Start();
        auto c = RootConnect(socket_);
        if (!c) throw std::runtime_error("cannot connect as root");
        RunSql(c->m, std::string("CREATE USER '") + kUser + "'@'%' IDENTIFIED BY '" + kPassword + "'");
        RunSql(c->m, std::string("CREATE USER '") + kUser + "'@'localhost' IDENTIFIED BY '" + kPassword + "'");
    } catch (...) {
        Stop();
        fs::remove_all(dir_);
        throw;
    }
}

MariaDbServer::MariaDbServer(External, std::string url)
    : external_(true), external_url_(std::move(url)) {
    Admin(std::string("CREATE USER IF NOT EXISTS '") + kUser + "'@'%' IDENTIFIED BY '" +
          kPassword + "'");
}

MariaDbServer::~MariaDbServer() {
    if (external_) return;
    Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

MariaDbServer& MariaDbServer::Shared() {
    std::lock_guard lock(g_shared_mu);
    if (!g_shared) {
        if (const char* url = std::getenv("HUB_TEST_MYSQL_URL"); url != nullptr && *url != '\0') {
            auto parsed = store::mysql::ParseUrl(url);
            if (!parsed.ok()) throw std::runtime_error("HUB_TEST_MYSQL_URL: " + parsed.error().public_message);
            g_shared = std::make_unique<MariaDbServer>(External{}, url);
        } else {
            g_shared = std::make_unique<MariaDbServer>();
        }
    }
    return *g_shared;
}

void MariaDbServer::Start() {
    if (external_ || pid_ > 0) return;
    std::vector<std::string> argv = {FindProgram("mariadbd"),
                                     "--no-defaults",
                                     "--datadir=" + dir_ + "/data",
                                     "--socket=" + socket_,
                                     "--port=" + std::to_string(port_),
                                     "--bind-address=127.0.0.1",
                                     "--user=root",
                                     "--pid-file=" + dir_ + "/mariadbd.pid",
                                     "--tmpdir=" + dir_ + "/tmp",
                                     "--skip-name-resolve",
                                     "--innodb-buffer-pool-size=64M",
                                     "--innodb-log-file-size=16M",
                                     "--character-set-server=utf8mb4",
                                     "--collation-server=utf8mb4_unicode_ci",
                                     "--server-id=" + std::to_string(options_.server_id)};
    if (options_.log_bin) {
        argv.push_back("--log-bin=" + dir_ + "/binlog");
    } else {
        argv.push_back("--skip-log-bin");
    }
    pid_ = Spawn(argv, dir_ + "/server.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
        if (RootConnect(socket_)) return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("mariadbd exited at start: " + Tail(dir_ + "/server.log"));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            Stop();
            throw std::runtime_error("mariadbd not ready within 60 s: " + Tail(dir_ + "/server.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval
    }
}

void MariaDbServer::Stop() {
    if (external_ || pid_ <= 0) return;
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
    }
    pid_ = -1;
}

void MariaDbServer::Admin(const std::string& sql) {
    if (external_) {
        auto o = store::mysql::ParseUrl(external_url_).value();
        Conn c;
        c.m = mysql_init(nullptr);
        const char* host = o.socket.empty() ? o.host.c_str() : nullptr;
        if (mysql_real_connect(c.m, host, o.user.c_str(), o.password.c_str(), nullptr, o.port,
                               o.socket.empty() ? nullptr : o.socket.c_str(), 0) == nullptr) {
            throw std::runtime_error("HUB_TEST_MYSQL_URL: cannot connect: " +
                                     std::string(mysql_error(c.m)));
        }
        RunSql(c.m, sql);
        return;
    }
    auto c = RootConnect(socket_);
    if (!c) throw std::runtime_error("cannot connect to the test server as root");
    RunSql(c->m, sql);
}

std::string MariaDbServer::FreshDatabase(const std::string& query) {
    std::string name = "hub_t" + std::to_string(getpid()) + "_" + std::to_string(++next_db_);
    Admin("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    Admin("GRANT ALL ON " + name + ".* TO '" + kUser + "'@'%'");
    Admin("GRANT ALL ON " + name + ".* TO '" + kUser + "'@'localhost'");
    return Url(kUser, kPassword, name, query);
}

std::string MariaDbServer::Url(const std::string& user, const std::string& password,
                               const std::string& db, const std::string& query) const {
    std::string host = "127.0.0.1";
    unsigned port = port_;
    if (external_) {
        auto o = store::mysql::ParseUrl(external_url_).value();
        host = o.host;
        port = o.port;
    }
    std::string url = "mysql://" + user + ":" + password + "@" + host + ":" +
                      std::to_string(port) + "/" + db;
    if (!query.empty()) url += "?" + query;
    return url;
}

}  // namespace hub::test
