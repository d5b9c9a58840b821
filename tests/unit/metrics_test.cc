// The metrics endpoint: IPv4 and IPv6 literals, /metrics and /healthz, and
// scrapes that idle clients cannot delay (the hand-written server before
// cpp-httplib served one connection at a time, 2 s each: eight idle
// connections held a scrape for 16 s; now each holds one of 16 workers).
#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

TEST(MetricsListen, AddressLiteralsOnly) {
  EXPECT_EQ(parseListenAddress("127.0.0.1:9464")->first, "127.0.0.1");
  EXPECT_EQ(parseListenAddress("127.0.0.1:9464")->second, 9464);
  EXPECT_EQ(parseListenAddress("[::1]:0")->first, "::1");
  EXPECT_EQ(parseListenAddress("[::]:9464")->first, "::");
  for (const char* bad : {"localhost:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000",
                          "::1:9464", "[::1]", "[nope]:1", ":9464", "127.0.0.1:12x"}) {
    auto r = parseListenAddress(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << bad;
  }
}

// One connection to host:port that says nothing.
int idleConnection(int family, const std::string& host, int port) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
  return fd;
}

void scrapeWhileIdleClientsWait(const std::string& listen, int family, const std::string& host) {
  auto s = MetricsServer::start(listen);
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->publish("vigil_up 1\n");
  std::vector<int> idle;
  for (int i = 0; i < 8; i++) idle.push_back(idleConnection(family, host, (*s)->port()));
  httplib::Client cli(host, (*s)->port());
  // Below the 2 s one idle client used to cost on its own.
  cli.set_connection_timeout(1, 500'000);
  cli.set_read_timeout(1, 500'000);
  auto m = cli.Get("/metrics");
  ASSERT_TRUE(m) << httplib::to_string(m.error());
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->body, "vigil_up 1\n");
  EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  auto h = cli.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, "ok\n");
  auto other = cli.Get("/other");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  for (int fd : idle) close(fd);
}

TEST(MetricsServer, ServesIpv4WhileIdleClientsWait) {
  scrapeWhileIdleClientsWait("127.0.0.1:0", AF_INET, "127.0.0.1");
}

TEST(MetricsServer, ServesIpv6) {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool have_v6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (probe >= 0) close(probe);
  if (!have_v6) GTEST_SKIP() << "no IPv6 loopback on this machine";
  scrapeWhileIdleClientsWait("[::1]:0", AF_INET6, "::1");
}

TEST(MetricsServer, PortInUseIsUnavailable) {
  auto first = MetricsServer::start("127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsServer::start("127.0.0.1:" + std::to_string((*first)->port()));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
}

}  // namespace
}  // namespace vigil
