#include "exporters/json_doc.h"

#include <cmath>
#include <cstdio>

namespace vigil::exporters {

JsonNode& JsonNode::child(std::string_view key) {
  if (kind_ != Kind::kObject) {
    kind_ = Kind::kObject;
    keys_.clear();
    items_.clear();
    leaf_.clear();
  }
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return items_[i];
  keys_.emplace_back(key);
  items_.emplace_back();
  return items_.back();
}

JsonNode& JsonNode::member(std::string_view key) {
  JsonNode* node = this;
  size_t start = 0;
  for (;;) {
    size_t dot = key.find('.', start);
    if (dot == std::string_view::npos) return node->child(key.substr(start));
    JsonNode& next = node->child(key.substr(start, dot - start));
    if (next.kind_ != Kind::kObject) next = object();
    node = &next;
    start = dot + 1;
  }
}

JsonNode& JsonNode::obj(std::string_view key) {
  JsonNode& m = member(key);
  if (m.kind_ != Kind::kObject) m = object();
  return m;
}

JsonNode& JsonNode::arr(std::string_view key) {
  JsonNode& m = member(key);
  if (m.kind_ != Kind::kArray) m = array();
  return m;
}

void JsonNode::set(std::string_view key, std::string_view v) {
  JsonNode& m = member(key);
  m = JsonNode();
  m.kind_ = Kind::kLeaf;
  appendJsonString(m.leaf_, v);
}

void JsonNode::set(std::string_view key, int64_t v) {
  JsonNode& m = member(key);
  m = JsonNode();
  m.kind_ = Kind::kLeaf;
  m.leaf_ = std::to_string(v);
}

void JsonNode::set(std::string_view key, uint64_t v) {
  JsonNode& m = member(key);
  m = JsonNode();
  m.kind_ = Kind::kLeaf;
  m.leaf_ = std::to_string(v);
}

void JsonNode::set(std::string_view key, bool v) {
  JsonNode& m = member(key);
  m = JsonNode();
  m.kind_ = Kind::kLeaf;
  m.leaf_ = v ? "true" : "false";
}

void JsonNode::set(std::string_view key, double v) {
  JsonNode& m = member(key);
  m = JsonNode();
  m.kind_ = Kind::kLeaf;
  if (!std::isfinite(v)) {
    m.leaf_ = "null";
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  m.leaf_ = buf;
}

void JsonNode::setRaw(std::string_view key, std::string raw) {
  JsonNode& m = member(key);
  m = JsonNode();
  m.kind_ = Kind::kLeaf;
  m.leaf_ = std::move(raw);
}

JsonNode& JsonNode::pushObject() {
  if (kind_ != Kind::kArray) *this = array();
  items_.push_back(object());
  return items_.back();
}

void JsonNode::push(std::string_view v) {
  if (kind_ != Kind::kArray) *this = array();
  JsonNode n;
  n.kind_ = Kind::kLeaf;
  appendJsonString(n.leaf_, v);
  items_.push_back(std::move(n));
}

void JsonNode::pushRaw(std::string raw) {
  if (kind_ != Kind::kArray) *this = array();
  JsonNode n;
  n.kind_ = Kind::kLeaf;
  n.leaf_ = std::move(raw);
  items_.push_back(std::move(n));
}

void JsonNode::dump(std::string& out) const {
  switch (kind_) {
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kLeaf:
      out += leaf_;
      return;
    case Kind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out.push_back(',');
        items_[i].dump(out);
      }
      out.push_back(']');
      return;
    case Kind::kObject:
      out.push_back('{');
      for (size_t i = 0; i < keys_.size(); ++i) {
        if (i) out.push_back(',');
        appendJsonString(out, keys_[i]);
        out.push_back(':');
        items_[i].dump(out);
      }
      out.push_back('}');
      return;
  }
}

}  // namespace vigil::exporters
