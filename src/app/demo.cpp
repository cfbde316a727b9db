#include "app/demo.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace hub::app {

namespace fs = std::filesystem;

std::string DefaultSimPath() {
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return "bailian-sim";
    return (self.parent_path() / "bailian-sim").string();
}

core::Result<SimChild> StartSim(const std::string& sim_path, const std::string& data_dir) {
    auto fail = [](std::string msg) {
        return core::Error::Make(core::ErrorCode::kUnavailable, "demo_mode_failed",
                                 "demo mode: " + std::move(msg));
    };
    if (::access(sim_path.c_str(), X_OK) != 0) return fail("cannot run " + sim_path);
    std::string port_file = data_dir + "/bailian-sim.port";
    std::error_code ec;
    fs::remove(port_file, ec);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return fail("fork failed");
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the hub
        if (::getppid() != parent) ::_exit(1);
        // The simulator's own log goes to a file: the hub's output stays the hub's.
        std::string log = data_dir + "/bailian-sim.log";
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
        }
        const char* argv[] = {sim_path.c_str(), "--listen", "127.0.0.1:0", "--port-file",
                              port_file.c_str(), "--log-level", "warn", "--tokens-per-second",
                              "40", "--first-token-ms", "150", nullptr};
        ::execv(sim_path.c_str(), const_cast<char* const*>(argv));
        ::_exit(127);
    }
    SimChild child{pid, 0};
    for (int i = 0; i < 200; ++i) {  // up to 10 s
        std::ifstream in(port_file);
        int port = 0;
        if (in >> port && port > 0 && port < 65536) {
            child.port = static_cast<std::uint16_t>(port);
            return child;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return fail("bailian-sim exited at start");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    StopSim(child);
    return fail("bailian-sim did not start within 10 s");
}

void StopSim(SimChild& child) {
    if (child.pid <= 0) return;
    ::kill(child.pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
        int status = 0;
        if (::waitpid(child.pid, &status, WNOHANG) == child.pid) {
            child.pid = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
    child.pid = -1;
}

}  // namespace hub::app
