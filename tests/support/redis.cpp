#include "support/redis.hpp"
#include "support/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hub::test {

namespace fs = std::filesystem;

namespace {

bool Accepts(unsigned port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
}

// fork + exec with output into `log`; waits for it when `wait`; the child dies with us.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log, bool wait) {
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        FILE* f = std::fopen(log.c_str(), "a");
        if (f) {
            dup2(fileno(f), 1);
            dup2(fileno(f), 2);
        }
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    if (pid < 0) throw std::runtime_error("fork failed");
    if (wait) {
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error(argv[0] + " failed; see " + log);
    }
    return pid;
}

std::string Tail(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

}  // namespace

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(std::move(options)) {
    char tmpl[] = "/tmp/hub-redis-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = FreeLoopbackPort();
    if (options_.tls) MakeCertificates();
}

RedisServer::~RedisServer() {
    Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void RedisServer::MakeCertificates() {
    const std::string log = dir_ + "/openssl.log";
    ca_ = dir_ + "/ca.pem";
    Spawn({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
           "/CN=hub test CA", "-keyout", dir_ + "/ca.key", "-out", ca_},
          log, true);
    Spawn({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
           dir_ + "/server.key", "-out", dir_ + "/server.csr"},
          log, true);
    {
        std::ofstream ext(dir_ + "/san.ext");
        ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    }
    Spawn({"openssl", "x509", "-req", "-in", dir_ + "/server.csr", "-CA", ca_, "-CAkey",
           dir_ + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", dir_ + "/san.ext", "-out",
           dir_ + "/server.pem"},
          log, true);
}

std::string RedisServer::OtherCaFile() {
    const std::string other = dir_ + "/other-ca.pem";
    Spawn({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
           "/CN=another CA", "-keyout", dir_ + "/other-ca.key", "-out", other},
          dir_ + "/openssl.log", true);
    return other;
}

void RedisServer::Start() {
    if (pid_ > 0) return;
    const std::string log = dir_ + "/redis.log";
    std::vector<std::string> argv{"redis-server", "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", dir_, "--daemonize", "no",
                                  "--protected-mode", "no"};
    if (options_.tls) {
        for (const char* a : {"--port", "0", "--tls-port"}) argv.emplace_back(a);
        argv.push_back(std::to_string(port_));
        for (const auto& a : {std::string("--tls-cert-file"), dir_ + "/server.pem",
                              std::string("--tls-key-file"), dir_ + "/server.key",
                              std::string("--tls-ca-cert-file"), ca_,
                              std::string("--tls-auth-clients"), std::string("no")})
            argv.push_back(a);
    } else {
        argv.emplace_back("--port");
        argv.push_back(std::to_string(port_));
    }
    if (!options_.password.empty()) {
        argv.emplace_back("--requirepass");
        argv.push_back(options_.password);
    }
    pid_ = Spawn(argv, log, false);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!Accepts(port_)) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("redis-server exited: " + Tail(log));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            Stop();
            throw std::runtime_error("redis-server did not start: " + Tail(log));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
    }
}

void RedisServer::Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGCONT);
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    // The port is free again once nothing listens (the next Start binds it).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (Accepts(port_) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
}

void RedisServer::Pause() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
    if (pid_ > 0) kill(pid_, SIGCONT);
}

std::string RedisServer::Url(int db) const { return Url(options_.password, db); }

std::string RedisServer::Url(const std::string& password, int db) const {
    std::string u = options_.tls ? "rediss://" : "redis://";
    if (!password.empty()) u += ":" + password + "@";
    u += "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
    if (options_.tls) u += "?tls_ca=" + ca_;
    return u;
}

std::string RedisServer::Cli(const std::string& args) const {
    std::string cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(port_);
    if (options_.tls) cmd += " --tls --cacert " + ca_;
    if (!options_.password.empty()) cmd += " --no-auth-warning -a '" + options_.password + "'";
    cmd += " " + args + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    pclose(p);
    return out;
}

}  // namespace hub::test
