// soundtrackd as a systemd service: the sd_notify messages it sends (caught on a test
// NOTIFY_SOCKET), the unit file as systemd-analyze judges it in an installed tree, and the
// Debian package cpack builds.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "daemon_setup.hpp"

using namespace soundtrackd;
using namespace soundtrackd::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A datagram socket standing in for systemd's notification socket. Each datagram may carry
// several newline-separated assignments; messages() keeps them one per entry, in order.
class notify_socket {
 public:
  explicit notify_socket(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      throw std::runtime_error("cannot bind the test NOTIFY_SOCKET " + path_);
  }
  ~notify_socket() { ::close(fd_); }
  notify_socket(const notify_socket&) = delete;
  notify_socket& operator=(const notify_socket&) = delete;

  std::string env() const { return "NOTIFY_SOCKET=" + path_; }

  // Reads datagrams until one assignment satisfies `match`, for up to `timeout_seconds`.
  bool wait_for(const std::function<bool(const std::string&)>& match, double timeout_seconds) {
    auto already = std::find_if(messages_.begin() + static_cast<std::ptrdiff_t>(seen_), messages_.end(), match);
    if (already != messages_.end()) {
      seen_ = static_cast<std::size_t>(already - messages_.begin()) + 1;
      return true;
    }
    return wait_until(
        [&] {
          pollfd p{fd_, POLLIN, 0};
          while (::poll(&p, 1, 0) > 0) {
            char buffer[4096];
            auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
            if (n <= 0) break;
            std::string datagram(buffer, static_cast<std::size_t>(n));
            std::size_t start = 0;
            while (start < datagram.size()) {
              auto end = datagram.find('\n', start);
              if (end == std::string::npos) end = datagram.size();
              messages_.push_back(datagram.substr(start, end - start));
              start = end + 1;
            }
          }
          for (; seen_ < messages_.size(); ++seen_)
            if (match(messages_[seen_])) {
              ++seen_;
              return true;
            }
          return false;
        },
        timeout_seconds);
  }
  bool wait_for(const std::string& exact, double timeout_seconds) {
    return wait_for([&](const std::string& m) { return m == exact; }, timeout_seconds);
  }

  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
  std::size_t seen_ = 0;  // messages before this one were matched or passed over
};

std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  return all;
}

// `cmake --install` of this build into a fresh tree under `root`, as a package would lay it out.
void install_into(const std::filesystem::path& root) {
  auto r = run({"cmake", "--install", BUILD_DIR, "--prefix", "/usr"}, {"DESTDIR=" + root.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace

TEST(Service, TellsSystemdReadyStatusWatchdogReloadAndStop) {
  daemon_setup stage;
  stage.insert_rows(3);
  notify_socket notify(stage.dir() / "notify.sock");
  // WATCHDOG_USEC as systemd sets it for WatchdogSec=: pings come every third of it.
  auto daemon = stage.start({notify.env(), "WATCHDOG_USEC=900000"});

  EXPECT_TRUE(notify.wait_for("READY=1", 20)) << joined(notify.messages()) << read_file(stage.dir() / "daemon.log");
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 5)) << joined(notify.messages());
  // The STATUS= line counts the rows in the database, in the words `systemctl status` shows.
  EXPECT_TRUE(notify.wait_for("STATUS=running 0, queued 0, succeeded 3, failed 0", 30))
      << joined(notify.messages()) << read_file(stage.dir() / "daemon.log");

  daemon->signal(SIGHUP);
  EXPECT_TRUE(notify.wait_for("RELOADING=1", 10)) << joined(notify.messages());
  EXPECT_TRUE(notify.wait_for("READY=1", 10)) << joined(notify.messages());

  daemon->signal(SIGTERM);
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 10)) << joined(notify.messages());
  EXPECT_EQ(daemon->wait(15), 0) << read_file(stage.dir() / "daemon.log");
}

TEST(Service, StatusNamesWhyTheQueueIsPaused) {
  daemon_setup stage;
  stage.insert_rows(2);
  // Credential files as LoadCredential= provides them win over the environment: wrong ones.
  std::filesystem::create_directory(stage.dir() / "credentials");
  write_file(stage.dir() / "credentials/scenario_api_key", "wrong-key\n");
  write_file(stage.dir() / "credentials/scenario_api_secret", "wrong-secret\n");
  notify_socket notify(stage.dir() / "notify.sock");
  auto daemon = stage.start({notify.env(), "CREDENTIALS_DIRECTORY=" + (stage.dir() / "credentials").string()});

  EXPECT_TRUE(notify.wait_for(
      [](const std::string& m) { return m.starts_with("STATUS=paused: ") && contains(m, "queued 2, succeeded 0"); },
      30))
      << joined(notify.messages()) << read_file(stage.dir() / "daemon.log");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(15), 0);
}

TEST(Service, UnderJournaldLinesCarryPrioritiesAndNoTimestamps) {
  daemon_setup stage;
  stage.insert_rows(2);
  // journald hands the service a stream whose device:inode is in $JOURNAL_STREAM; here the
  // daemon's stderr is daemon.log, so that file's identity stands in for it.
  const auto log_path = stage.dir() / "daemon.log";
  write_file(log_path, "");
  struct stat st {};
  ASSERT_EQ(::stat(log_path.c_str(), &st), 0);
  auto daemon = stage.start({"JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)});
  ASSERT_TRUE(wait_until([&] { return stage.count("status = 'succeeded'") == "2"; }, 30)) << read_file(log_path);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(15), 0);

  std::istringstream lines(read_file(log_path));
  std::string line;
  int job_lines = 0;
  while (std::getline(lines, line)) {
    // "<6>job 1 remote job_...: submitted ...": a syslog priority, then the message itself.
    EXPECT_TRUE(std::regex_match(line, std::regex(R"(<[0-7]>\S.*)"))) << line;
    EXPECT_FALSE(std::regex_search(line, std::regex(R"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d)"))) << "timestamp in " << line;
    if (std::regex_search(line, std::regex(R"(^<6>job \d+ remote \S+: )"))) ++job_lines;
  }
  EXPECT_GE(job_lines, 4) << read_file(log_path);  // submitted and succeeded, for each row
}

TEST(Service, InstalledUnitVerifiesCleanAndIsRatedOkBySystemdAnalyze) {
  temp_dir root;
  install_into(root.path());
  const auto unit = root / "usr/lib/systemd/system/soundtrackd.service";
  ASSERT_TRUE(std::filesystem::exists(unit));
  auto text = read_file(unit);
  EXPECT_TRUE(contains(text, "ExecStart=/usr/bin/soundtrackd --config /etc/soundtrackd/soundtrackd.toml")) << text;
  EXPECT_TRUE(std::filesystem::exists(root / "usr/bin/soundtrackd"));
  EXPECT_TRUE(std::filesystem::exists(root / "usr/lib/sysusers.d/soundtrackd.conf"));
  EXPECT_TRUE(std::filesystem::exists(root / "usr/lib/tmpfiles.d/soundtrackd.conf"));
  EXPECT_TRUE(std::filesystem::exists(root / "etc/soundtrackd/soundtrackd.toml"));

  // verify resolves dependencies (sysinit.target, /bin/kill) on this machine's systemd, so the
  // unit is checked here with ExecStart= pointing into the installed tree.
  temp_dir units;
  auto here = std::regex_replace(text, std::regex("ExecStart=/usr/bin/"), "ExecStart=" + (root / "usr/bin/").string());
  write_file(units / "soundtrackd.service", here);
  auto verify = run({"systemd-analyze", "verify", "--man=no", (units / "soundtrackd.service").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_EQ(verify.output, "") << "systemd-analyze verify should have nothing to say";

  auto security = run({"systemd-analyze", "security", "--offline=true", "--root=" + root.path().string(),
                       "--threshold=20", unit.string()});
  EXPECT_EQ(security.exit_code, 0) << security.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(security.output, m, std::regex(R"(Overall exposure level for \S+: (\d+\.\d))")))
      << security.output;
  EXPECT_LE(std::stod(m[1].str()), 2.0) << security.output;
}

TEST(Service, DebianPackageHoldsEverythingAServiceNeeds) {
  temp_dir out;
  auto pack =
      run({"cpack", "-G", "DEB", "-B", out.path().string(), "--config", std::string(BUILD_DIR) + "/CPackConfig.cmake"});
  ASSERT_EQ(pack.exit_code, 0) << pack.output;
  std::filesystem::path deb;
  for (const auto& entry : std::filesystem::directory_iterator(out.path()))
    if (entry.path().extension() == ".deb") deb = entry.path();
  ASSERT_FALSE(deb.empty()) << pack.output;

  auto contents = run({"dpkg-deb", "--contents", deb.string()});
  ASSERT_EQ(contents.exit_code, 0) << contents.output;
  for (const char* path : {"./usr/bin/soundtrackd", "./usr/bin/soundtrackctl",
                           "./usr/lib/systemd/system/soundtrackd.service", "./usr/lib/sysusers.d/soundtrackd.conf",
                           "./usr/lib/tmpfiles.d/soundtrackd.conf", "./etc/soundtrackd/soundtrackd.toml",
                           "./usr/share/doc/soundtrackd/README.md", "./usr/share/soundtrackd/migrations/0001_init.sql"})
    EXPECT_TRUE(contains(contents.output, path)) << path << " missing from\n" << contents.output;

  auto control = run({"dpkg-deb", "--field", deb.string(), "Depends"});
  EXPECT_TRUE(contains(control.output, "libsqlite3-0")) << control.output;
  EXPECT_TRUE(contains(control.output, "libssl3")) << control.output;
  EXPECT_TRUE(contains(control.output, "systemd")) << control.output;
  auto conffiles = run({"sh", "-c", "dpkg-deb --ctrl-tarfile '" + deb.string() + "' | tar -xO ./conffiles"});
  EXPECT_TRUE(contains(conffiles.output, "/etc/soundtrackd/soundtrackd.toml")) << conffiles.output;

  // The packaged unit names the packaged binary.
  temp_dir tree;
  ASSERT_EQ(run({"dpkg-deb", "-x", deb.string(), tree.path().string()}).exit_code, 0);
  auto unit = read_file(tree / "usr/lib/systemd/system/soundtrackd.service");
  EXPECT_TRUE(contains(unit, "ExecStart=/usr/bin/soundtrackd ")) << unit;
}
