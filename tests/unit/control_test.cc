// The control API's pure parts: what `policy add` / `policy delete` make of
// the running set, where --persist writes, and a request/response over a real
// unix socket between ControlServer and controlCall.
#include "daemon/control.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

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
  std::atomic<bool> done{false};
  std::thread serve([&] {
    while (!done) {
      (*server)->poll();
      usleep(1000);
    }
  });
  api::Request req;
  req.mutable_add_policy()->set_file_name("p.yaml");
  req.mutable_add_policy()->set_yaml("kind: TracingPolicy\n");
  req.mutable_add_policy()->set_replace(true);
  auto resp = controlCall(path, req);
  done = true;
  serve.join();
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->error(), "p.yaml:3:5: bad");
  EXPECT_EQ(seen.file_name(), "p.yaml");
  EXPECT_EQ(seen.yaml(), "kind: TracingPolicy\n");
  EXPECT_TRUE(seen.replace());
  EXPECT_FALSE(seen.persist());
}

}  // namespace
}  // namespace vigil
