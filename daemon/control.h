// The control socket: a root-only unix socket, one length-framed protobuf
// Request per connection, answered with a Response, or (EventsRequest) kept
// open as an event stream. Served from the event loop between ring buffer
// polls, so handlers see the pipeline without locks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/policy/policy_ir.h"
#include "vigil/control.pb.h"
#include "vigil/events.pb.h"

namespace vigil {

// Framing shared by vigild and vigilctl: 4-byte big-endian length + message.
bool writeFrame(int fd, const google::protobuf::Message& m);
bool readFrame(int fd, google::protobuf::Message* m, int timeout_ms);

// An event passes a stream's filter (type, policy): the server's and vigilctl's
// reading of recorded events use the same rule.
bool eventMatches(const api::EventsRequest& filter, const api::Event& ev);

class ControlServer {
 public:
  using Handler = std::function<api::Response(const api::Request&)>;

  // Creates the socket (mode 0600, its directory 0700 if created).
  static absl::StatusOr<std::unique_ptr<ControlServer>> start(const std::string& path,
                                                              Handler handler);
  ~ControlServer();
  // Accepts connections and answers each request once it has fully arrived;
  // never waits for a client (a client that trickles its request keeps only
  // its own connection, for at most kRequestDeadline).
  void poll();
  // Sends an event to every stream client whose filter matches; a client that
  // cannot keep up is disconnected (never blocks the pipeline).
  void publish(const api::Event& ev);
  size_t streams() const { return streams_.size(); }

 private:
  static constexpr size_t kMaxPending = 32;
  static constexpr std::chrono::seconds kRequestDeadline{5};
  struct Stream {
    int fd;
    api::EventsRequest filter;
  };
  // A connection whose request has not fully arrived yet.
  struct Pending {
    int fd;
    std::string buf;
    std::chrono::steady_clock::time_point deadline;
  };
  ControlServer() = default;
  std::string path_;
  int fd_ = -1;
  Handler handler_;
  std::vector<Stream> streams_;
  std::vector<Pending> pending_;
};

// Client side (vigilctl): one request, one response.
absl::StatusOr<api::Response> controlCall(const std::string& path, const api::Request& req);
// Client side: sends an EventsRequest and calls on_event for each event until
// the daemon goes away or on_event returns false.
absl::Status controlStream(const std::string& path, const api::EventsRequest& req,
                           const std::function<bool(const api::Event&)>& on_event);

// The policy lists `vigilctl policy add` and `policy delete` lead to; vigild
// applies them as one transaction, as a reload. Pure, so unit-tested.
// add: the running set plus `added`, at the end, or in place of the loaded
// policy of the same name when replace (else that clash is an error).
absl::StatusOr<std::vector<policy::Policy>> withPolicyAdded(
    const std::vector<policy::Policy>& running, policy::Policy added, bool replace);
// delete: the running set minus the policy called name (an error if none is).
absl::StatusOr<std::vector<policy::Policy>> withPolicyDeleted(
    const std::vector<policy::Policy>& running, const std::string& name);
// Where `policy add --persist` writes a file: the first policy directory plus
// the file's base name, which must end in .yaml or .yml (as vigild reads
// only those). An existing file is an error unless replace.
absl::StatusOr<std::string> persistPath(const std::vector<std::string>& policy_dirs,
                                        const std::string& file_name, bool replace);

}  // namespace vigil
