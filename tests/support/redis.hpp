#pragma once
// A throwaway redis-server for the unit tests: a free loopback port, a temporary folder, no
// persistence; optionally a password (requirepass) and TLS (a self-signed CA and a server
// certificate for 127.0.0.1/localhost made with openssl). It can be stopped and started again on
// the same port (reconnect tests) and paused (SIGSTOP/SIGCONT: a slow Redis). Readiness is
// polled, never a fixed sleep; it dies with the test process (PR_SET_PDEATHSIG).
#include <string>
#include <sys/types.h>

namespace hub::test {

class RedisServer {
public:
    struct Options {
        std::string password;  // empty = none
        bool tls = false;
    };
    RedisServer();
    explicit RedisServer(Options options);
    ~RedisServer();  // Stop() and remove the folder
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    void Start();   // throws std::runtime_error with the log's tail on failure
    void Stop();    // SIGKILL (nothing to save), wait
    void Pause();   // SIGSTOP
    void Resume();  // SIGCONT
    bool running() const { return pid_ > 0; }
    unsigned port() const { return port_; }

    // redis://[:password@]127.0.0.1:port/db, or rediss://...?tls_ca=<the CA> with TLS.
    std::string Url(int db = 0) const;
    std::string Url(const std::string& password, int db) const;
    const std::string& ca_file() const { return ca_; }
    // A second self-signed CA that did not sign the server's certificate.
    std::string OtherCaFile();

    // redis-cli against the server (for checks from tests); its stdout.
    std::string Cli(const std::string& args) const;

private:
    void MakeCertificates();

    Options options_;
    std::string dir_;
    std::string ca_;
    unsigned port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace hub::test
