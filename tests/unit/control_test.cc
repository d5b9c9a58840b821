// The control API's pure parts: what `policy add` / `policy delete` make of
// the running set, where --persist writes, and a request/response over a real
// unix socket between ControlServer and controlCall.
#include "daemon/control.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/event_view.h"
#include "tests/lib/temp_dir.h"

namespace vigil {
namespace {

policy::Policy named(const std::string& name, const std::string& file) {
  policy::Policy p;
  p.name = name;
  p.file = file;
  return p;
}

std::vector<std::string> names(const std::vector<policy::Policy>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.name + "@" + p.file);
  return out;
}

TEST(PolicyAdd, AppendsToTheRunningSet) {
  auto r = withPolicyAdded({named("a", "a.yaml"), named("b", "b.yaml")}, named("c", "c.yaml"), false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a@a.yaml", "b@b.yaml", "c@c.yaml"}));
}

TEST(PolicyAdd, NameClashIsAnErrorNamingBothFiles) {
  auto r = withPolicyAdded({named("a", "/etc/vigil/policies.d/a.yaml")}, named("a", "new.yaml"), false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(r.status()));
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("new.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/etc/vigil/policies.d/a.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--replace"), std::string::npos) << msg;
}

TEST(PolicyAdd, ReplaceKeepsThePlace) {
  auto r = withPolicyAdded({named("a", "a.yaml"), named("b", "b.yaml"), named("c", "c.yaml")},
                           named("b", "b2.yaml"), true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a@a.yaml", "b@b2.yaml", "c@c.yaml"}));
}

TEST(PolicyDelete, RemovesOnlyThatPolicy) {
  auto r = withPolicyDeleted({named("a", "a.yaml"), named("b", "b.yaml"), named("c", "c.yaml")}, "b");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a@a.yaml", "c@c.yaml"}));
  auto last = withPolicyDeleted({named("a", "a.yaml")}, "a");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->empty());
}

TEST(PolicyDelete, UnknownNameIsAnError) {
  auto r = withPolicyDeleted({named("a", "a.yaml")}, "zz");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsNotFound(r.status()));
  EXPECT_NE(std::string(r.status().message()).find("zz"), std::string::npos);
}

class PersistPath : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vigil-persist-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(PersistPath, FirstDirectoryAndBaseName) {
  auto r = persistPath({dir_.string(), "/nonexistent"}, "/home/op/deny-curl.yaml", false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (dir_ / "deny-curl.yaml").string());
}

TEST_F(PersistPath, NeedsADirectoryAndAYamlName) {
  EXPECT_TRUE(absl::IsFailedPrecondition(persistPath({}, "a.yaml", false).status()));
  auto r = persistPath({dir_.string()}, "policy.txt", false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("policy.txt"), std::string::npos);
  EXPECT_TRUE(persistPath({dir_.string()}, "p.yml", false).ok());
}

TEST_F(PersistPath, ExistingFileOnlyWithReplace) {
  std::ofstream(dir_ / "a.yaml") << "x";
  EXPECT_TRUE(absl::IsAlreadyExists(persistPath({dir_.string()}, "a.yaml", false).status()));
  EXPECT_TRUE(persistPath({dir_.string()}, "a.yaml", true).ok());
}

// Runs the server's poll loop on a thread until stop() or the end of scope.
class ServeInBackground {
 public:
  explicit ServeInBackground(ControlServer* server)
      : thread_([this, server] {
          while (!done_) {
            server->poll();
            usleep(1000);
          }
        }) {}
  ~ServeInBackground() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// One add request through the real socket: the server sees what the client
// sent (file name, content, flags) and the client gets the handler's answer.
TEST(ControlSocket, AddRequestRoundTrip) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("vigil-ctl-" + std::to_string(getpid()) + ".sock"))
          .string();
  api::AddPolicyRequest seen;
  auto server = ControlServer::start(path, [&](const api::Request& req) {
    api::Response resp;
    if (!req.has_add_policy()) {
      resp.set_error("not an add");
    } else {
      seen = req.add_policy();
      resp.set_error("p.yaml:3:5: bad");
    }
    return resp;
  });
  ASSERT_TRUE(server.ok()) << server.status();
  ServeInBackground serving(server->get());
  api::Request req;
  req.mutable_add_policy()->set_file_name("p.yaml");
  req.mutable_add_policy()->set_yaml("kind: TracingPolicy\n");
  req.mutable_add_policy()->set_replace(true);
  auto resp = controlCall(path, req);
  serving.stop();
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->error(), "p.yaml:3:5: bad");
  EXPECT_EQ(seen.file_name(), "p.yaml");
  EXPECT_EQ(seen.yaml(), "kind: TracingPolicy\n");
  EXPECT_TRUE(seen.replace());
  EXPECT_FALSE(seen.persist());
}

// `vigilctl events`: the stream filters by policy on every policy-event kind,
// and a frame the client cannot parse ends it with an error, not silently.
TEST(ControlSocket, EventStreamFiltersByPolicyAndReportsUnreadableFrames) {
  vigil::test::TempDir tmp("vigil-ctl");
  const std::string path = tmp.file("control.sock");
  auto server = ControlServer::start(path, [](const api::Request&) { return api::Response(); });
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::string> seen;
  absl::Status stream_status;
  std::thread client([&] {
    api::EventsRequest req;
    req.set_policy("p");
    stream_status = controlStream(path, req, [&](const api::Event& ev) {
      seen.push_back(std::string(api::eventTypeName(ev)));
      return true;
    });
  });
  for (int i = 0; i < 10000 && (*server)->streams() == 0; i++) {
    (*server)->poll();
    usleep(1000);
  }
  ASSERT_EQ((*server)->streams(), 1u);
  auto policyEv = [](const std::string& policy, auto set) {
    api::Event ev;
    set(ev)->set_policy_name(policy);
    return ev;
  };
  (*server)->publish(policyEv("other", [](api::Event& e) { return e.mutable_process_kprobe(); }));
  (*server)->publish(policyEv("p", [](api::Event& e) { return e.mutable_process_tracepoint(); }));
  (*server)->publish(policyEv("p", [](api::Event& e) { return e.mutable_process_uprobe(); }));
  // Not sanitized (api::sanitizeStrings): protobuf's parser refuses it.
  api::Event bad = policyEv("p", [](api::Event& e) { return e.mutable_process_lsm(); });
  bad.mutable_process_lsm()->mutable_process()->set_binary("/tmp/\xff/x");
  (*server)->publish(bad);
  server->reset();  // closes the stream: the client ends even if it read everything
  client.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"process_tracepoint", "process_uprobe"}));
  EXPECT_EQ(stream_status.code(), absl::StatusCode::kDataLoss) << stream_status;
}

// Clients that send a few bytes and stall (a trickle) do not hold the loop:
// before, each one held poll() for a second, so twenty of them made every
// other client's call time out (controlCall waits 10 s).
TEST(ControlSocket, TricklingClientsDoNotDelayOthers) {
  vigil::test::TempDir tmp("vigil-ctl");
  const std::string path = tmp.file("control.sock");
  int answered = 0;
  auto server = ControlServer::start(path, [&](const api::Request&) {
    answered++;
    api::Response resp;
    resp.set_error("pong");
    return resp;
  });
  ASSERT_TRUE(server.ok()) << server.status();
  ServeInBackground serving(server->get());
  std::vector<int> tricklers;
  for (int i = 0; i < 20; i++) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(send(fd, "\0", 1, MSG_NOSIGNAL), 1);  // one byte of the length, then nothing
    tricklers.push_back(fd);
  }
  api::Request req;
  req.mutable_status();
  auto resp = controlCall(path, req);
  serving.stop();
  for (int fd : tricklers) close(fd);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->error(), "pong");
  EXPECT_EQ(answered, 1);
}

}  // namespace
}  // namespace vigil
