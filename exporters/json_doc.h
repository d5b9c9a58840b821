// A small ordered JSON document builder for the ECS and OCSF renderings (and the
// HTTP envelopes). Keys keep insertion order; leaves are stored serialized.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/json.h"

namespace vigil::exporters {

// Strings are escaped by the one escaper of api/json.h.
using api::appendJsonString;
using api::jsonString;

class JsonNode {
 public:
  enum class Kind { kNull, kLeaf, kObject, kArray };

  JsonNode() = default;
  static JsonNode object() { JsonNode n; n.kind_ = Kind::kObject; return n; }
  static JsonNode array() { JsonNode n; n.kind_ = Kind::kArray; return n; }

  // Object members. `key` may be dotted ("process.parent.pid"): each dot opens
  // (or reuses) a nested object, so a key can never be both a leaf and a prefix.
  JsonNode& obj(std::string_view key);
  JsonNode& arr(std::string_view key);
  void set(std::string_view key, std::string_view v);
  void set(std::string_view key, const char* v) { set(key, std::string_view(v)); }
  void set(std::string_view key, const std::string& v) { set(key, std::string_view(v)); }
  void set(std::string_view key, int64_t v);
  void set(std::string_view key, uint64_t v);
  void set(std::string_view key, int32_t v) { set(key, static_cast<int64_t>(v)); }
  void set(std::string_view key, uint32_t v) { set(key, static_cast<uint64_t>(v)); }
  void set(std::string_view key, bool v);
  void set(std::string_view key, double v);
  // Already serialized JSON (an object rendered elsewhere).
  void setRaw(std::string_view key, std::string raw);
  // Only when non-empty.
  void setNonEmpty(std::string_view key, std::string_view v) {
    if (!v.empty()) set(key, v);
  }

  // Array items.
  JsonNode& pushObject();
  void push(std::string_view v);
  void pushRaw(std::string raw);

  bool empty() const { return keys_.empty() && items_.empty(); }
  void dump(std::string& out) const;
  std::string dump() const {
    std::string s;
    dump(s);
    return s;
  }

 private:
  JsonNode& member(std::string_view key);  // creates a null member (or returns the existing one)
  JsonNode& child(std::string_view key);   // direct child, created if missing

  Kind kind_ = Kind::kNull;
  std::string leaf_;                 // serialized scalar
  std::vector<std::string> keys_;    // object keys, in order
  std::vector<JsonNode> items_;      // object values (parallel to keys_) or array items
};

}  // namespace vigil::exporters
