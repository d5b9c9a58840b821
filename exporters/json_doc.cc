#include "exporters/json_doc.h"

#include <cmath>
#include <cstdio>

namespace vigil::exporters {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t utf8Len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
      continue;
    }
    size_t n = utf8Len(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out.push_back('"');
}

std::string jsonString(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

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
