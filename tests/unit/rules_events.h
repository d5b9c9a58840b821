// Test helper: reads a JSON-lines file of Vigil events (vigild's output, or
// `vigilctl rules test --events` input), failing the test on a bad line.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "vigil/events.pb.h"

namespace vigil::rules {

inline std::vector<api::Event> readEventsJsonl(const std::string& path) {
  std::vector<api::Event> out;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    n++;
    api::Event ev;
    auto st = google::protobuf::util::JsonStringToMessage(line, &ev);
    EXPECT_TRUE(st.ok()) << path << ":" << n << ": " << st.ToString();
    out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace vigil::rules
