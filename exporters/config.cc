#include "exporters/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace vigil::exporters {

std::string sinkTypeName(SinkType t) {
  switch (t) {
    case SinkType::kStdout: return "stdout";
    case SinkType::kFile: return "file";
    case SinkType::kSyslog: return "syslog";
    case SinkType::kSplunkHec: return "splunk_hec";
    case SinkType::kElasticsearch: return "elasticsearch";
    case SinkType::kLoki: return "loki";
    case SinkType::kWebhook: return "webhook";
  }
  return "stdout";
}

namespace {

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  absl::Status err(const YAML::Node& n, const std::string& msg) const {
    const YAML::Mark m = n.Mark();
    if (m.line < 0) return absl::InvalidArgumentError(absl::StrCat(file_, ": ", msg));
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ":", m.line + 1, ":", m.column + 1, ": ", msg));
  }

  absl::Status checkKeys(const YAML::Node& map, const std::string& what,
                         const std::set<std::string>& allowed) const {
    if (!map.IsMap()) return err(map, absl::StrCat(what, " must be a mapping"));
    for (const auto& kv : map) {
      std::string k = kv.first.Scalar();
      if (!allowed.count(k)) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        return err(kv.first, absl::StrCat("unknown key \"", k, "\" in ", what, " (expected one of: ",
                                          absl::StrJoin(names, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> str(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return err(n, absl::StrCat(key, ": expected a string"));
    return n.Scalar();
  }

  absl::StatusOr<bool> boolean(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar()) {
      std::string s = absl::AsciiStrToLower(n.Scalar());
      if (s == "true" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "no" || s == "off") return false;
    }
    return err(n, absl::StrCat(key, ": expected true or false"));
  }

  absl::StatusOr<uint64_t> uinteger(const YAML::Node& n, const std::string& key) const {
    uint64_t v;
    if (n.IsScalar() && absl::SimpleAtoi(n.Scalar(), &v)) return v;
    return err(n, absl::StrCat(key, ": expected a non-negative integer"));
  }

  absl::StatusOr<double> number(const YAML::Node& n, const std::string& key) const {
    double v;
    if (n.IsScalar() && absl::SimpleAtod(n.Scalar(), &v) && v >= 0) return v;
    return err(n, absl::StrCat(key, ": expected a non-negative number"));
  }

  // 1048576, 512KiB, 100MiB, 1GiB, 10MB, 1G
  absl::StatusOr<uint64_t> bytes(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar()) {
      std::string s(absl::StripAsciiWhitespace(n.Scalar()));
      size_t i = 0;
      while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
      uint64_t v;
      if (i > 0 && absl::SimpleAtoi(s.substr(0, i), &v)) {
        std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.substr(i)));
        static const std::pair<const char*, uint64_t> kUnits[] = {
            {"", 1},          {"b", 1},          {"k", 1024},       {"kb", 1000},
            {"kib", 1024},    {"m", 1ull << 20}, {"mb", 1000000},   {"mib", 1ull << 20},
            {"g", 1ull << 30}, {"gb", 1000000000}, {"gib", 1ull << 30}};
        for (const auto& [u, mul] : kUnits)
          if (unit == u) return v * mul;
      }
    }
    return err(n, absl::StrCat(key, ": expected a size (bytes, or with KiB/MiB/GiB)"));
  }

  absl::StatusOr<absl::Duration> duration(const YAML::Node& n, const std::string& key) const {
    absl::Duration d;
    if (n.IsScalar() && absl::ParseDuration(n.Scalar(), &d) && d >= absl::ZeroDuration()) return d;
    return err(n, absl::StrCat(key, ": expected a duration such as 500ms, 10s, 24h"));
  }

  absl::StatusOr<std::vector<std::string>> strings(const YAML::Node& n,
                                                   const std::string& key) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) return err(n, absl::StrCat(key, ": expected a list of strings"));
    for (const auto& item : n) {
      if (!item.IsScalar()) return err(item, absl::StrCat(key, ": expected a string"));
      out.push_back(item.Scalar());
    }
    return out;
  }

  absl::Status filter(const YAML::Node& n, const std::string& what, FilterSpec& f) const {
    if (auto st = checkKeys(n, what, {"event_types", "policies", "binaries", "actions", "namespaces"});
        !st.ok())
      return st;
    static const std::set<std::string> kTypes = {"process_exec", "process_exit", "process_lsm",
                                                 "process_kprobe", "process_tracepoint",
                                                 "process_uprobe", "status", "rule_alert"};
    static const std::set<std::string> kActions = {"post",       "override",   "sigkill",
                                                   "signal",     "posted",     "denied",
                                                   "killed",     "signaled",   "would_deny",
                                                   "would_kill", "would_signal"};
    for (const auto& kv : n) {
      std::string k = kv.first.Scalar();
      auto list = strings(kv.second, k);
      if (!list.ok()) return list.status();
      if (k == "event_types") {
        for (size_t i = 0; i < list->size(); ++i)
          if (!kTypes.count((*list)[i]))
            return err(kv.second.IsSequence() ? kv.second[i] : kv.second,
                       absl::StrCat("unknown event type \"", (*list)[i],
                                    "\" (process_exec | process_exit | process_lsm | process_kprobe | "
                                    "process_tracepoint | process_uprobe | status | rule_alert)"));
        f.event_types = *list;
      } else if (k == "policies") {
        f.policies = *list;
      } else if (k == "binaries") {
        f.binaries = *list;
      } else if (k == "actions") {
        for (size_t i = 0; i < list->size(); ++i)
          if (!kActions.count((*list)[i]))
            return err(kv.second.IsSequence() ? kv.second[i] : kv.second,
                       absl::StrCat("unknown action \"", (*list)[i],
                                    "\" (post | override | sigkill | signal | posted | denied | killed | "
                                    "signaled | would_deny | would_kill | would_signal)"));
        f.actions = *list;
      } else if (k == "namespaces") {
        for (size_t i = 0; i < list->size(); ++i) {
          const std::string& v = (*list)[i];
          if (v != "host" && v != "container" && v.find(':') == std::string::npos)
            return err(kv.second.IsSequence() ? kv.second[i] : kv.second,
                       absl::StrCat("namespace \"", v, "\": expected host, container or KIND:INUM"));
        }
        f.namespaces = *list;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<SinkConfig> sink(const YAML::Node& n) const;

 private:
  std::string file_;
};

absl::StatusOr<int> facilityOf(const std::string& s) {
  static const std::pair<const char*, int> kNames[] = {
      {"kern", 0},    {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
      {"syslog", 5},  {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
      {"authpriv", 10}, {"ftp", 11},  {"local0", 16}, {"local1", 17}, {"local2", 18},
      {"local3", 19}, {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23}};
  for (const auto& [name, v] : kNames)
    if (s == name) return v;
  int v;
  if (absl::SimpleAtoi(s, &v) && v >= 0 && v <= 23) return v;
  return absl::InvalidArgumentError(absl::StrCat("unknown syslog facility \"", s, "\""));
}

#define ASSIGN_OR_RETURN_(lhs, expr)    \
  do {                                  \
    auto r_ = (expr);                   \
    if (!r_.ok()) return r_.status();   \
    lhs = *std::move(r_);               \
  } while (0)

absl::StatusOr<SinkConfig> Parser::sink(const YAML::Node& n) const {
  if (!n.IsMap()) return err(n, "a sink must be a mapping");
  if (auto st = checkKeys(
          n, "sink",
          {"name", "type", "format", "queue_events", "spool", "rate_limit", "filters",
           "exclude_fields", "redact", "path", "max_size", "max_age", "max_backups", "compress",
           "mode", "address", "facility", "app_name", "url", "token_file", "auth_scheme",
           "headers", "gzip", "batch", "retry", "timeout", "index", "op_type", "sourcetype",
           "source", "labels", "body", "tls", "ack"});
      !st.ok())
    return st;
  SinkConfig c;
  if (!n["name"]) return err(n, "sink: missing \"name\"");
  if (!n["type"]) return err(n, "sink: missing \"type\"");
  ASSIGN_OR_RETURN_(c.name, str(n["name"], "name"));
  if (c.name.empty() || c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos ||
      c.name[0] == '.')
    return err(n["name"], absl::StrCat("sink name \"", c.name, "\": use letters, digits, '_', '-', '.'"));
  std::string type;
  ASSIGN_OR_RETURN_(type, str(n["type"], "type"));
  static const std::pair<const char*, SinkType> kTypes[] = {
      {"stdout", SinkType::kStdout}, {"file", SinkType::kFile}, {"syslog", SinkType::kSyslog},
      {"splunk_hec", SinkType::kSplunkHec}, {"elasticsearch", SinkType::kElasticsearch},
      {"opensearch", SinkType::kElasticsearch}, {"loki", SinkType::kLoki},
      {"webhook", SinkType::kWebhook}};
  bool known = false;
  for (const auto& [name, t] : kTypes)
    if (type == name) {
      c.type = t;
      known = true;
    }
  if (!known)
    return err(n["type"], absl::StrCat("unknown sink type \"", type,
                                       "\" (stdout | file | syslog | splunk_hec | elasticsearch | "
                                       "opensearch | loki | webhook)"));
  bool network = c.type == SinkType::kSyslog || isHttpSink(c.type);
  c.spool_on_disk = network;
  c.spool_max_bytes = network ? (256ull << 20) : (64ull << 20);
  if (c.type == SinkType::kElasticsearch) c.format = Format::kEcs;

  if (n["format"]) {
    std::string f;
    ASSIGN_OR_RETURN_(f, str(n["format"], "format"));
    auto fmt = parseFormat(f);
    if (!fmt.ok()) return err(n["format"], std::string(fmt.status().message()));
    c.format = *fmt;
  }
  if (c.type == SinkType::kElasticsearch && !isJsonFormat(c.format))
    return err(n["format"], "elasticsearch needs a JSON format (json | ecs | ocsf), not cef");
  if (n["queue_events"]) {
    uint64_t q;
    ASSIGN_OR_RETURN_(q, uinteger(n["queue_events"], "queue_events"));
    if (q == 0) return err(n["queue_events"], "queue_events must be at least 1");
    c.queue_events = q;
  }
  if (const YAML::Node s = n["spool"]) {
    if (auto st = checkKeys(s, "spool", {"max_bytes", "disk", "fsync", "fsync_interval"}); !st.ok()) return st;
    if (s["max_bytes"]) ASSIGN_OR_RETURN_(c.spool_max_bytes, bytes(s["max_bytes"], "max_bytes"));
    if (s["disk"]) ASSIGN_OR_RETURN_(c.spool_on_disk, boolean(s["disk"], "disk"));
    if (s["fsync"]) {
      std::string f;
      ASSIGN_OR_RETURN_(f, str(s["fsync"], "fsync"));
      if (!parseFsyncPolicy(f, &c.spool_fsync))
        return err(s["fsync"], absl::StrCat("spool.fsync: unknown policy \"", f,
                                            "\" (batch | interval | never)"));
    }
    if (s["fsync_interval"]) {
      ASSIGN_OR_RETURN_(c.spool_fsync_interval, duration(s["fsync_interval"], "fsync_interval"));
      if (c.spool_fsync_interval <= absl::ZeroDuration())
        return err(s["fsync_interval"], "spool.fsync_interval must be more than 0 (or use fsync: batch)");
      if (s["fsync"] && c.spool_fsync != FsyncPolicy::kInterval)
        return err(s["fsync_interval"], absl::StrCat("spool.fsync_interval applies to fsync: interval, not \"",
                                                     fsyncPolicyName(c.spool_fsync), "\""));
    }
  }
  if (const YAML::Node r = n["rate_limit"]) {
    if (auto st = checkKeys(r, "rate_limit", {"events_per_second", "burst"}); !st.ok()) return st;
    if (r["events_per_second"])
      ASSIGN_OR_RETURN_(c.rate_limit_per_sec, number(r["events_per_second"], "events_per_second"));
    if (r["burst"]) ASSIGN_OR_RETURN_(c.rate_limit_burst, number(r["burst"], "burst"));
  }
  if (const YAML::Node f = n["filters"]) {
    if (auto st = checkKeys(f, "filters", {"allow", "deny"}); !st.ok()) return st;
    if (f["allow"])
      if (auto st = filter(f["allow"], "filters.allow", c.allow); !st.ok()) return st;
    if (f["deny"])
      if (auto st = filter(f["deny"], "filters.deny", c.deny); !st.ok()) return st;
  }
  if (n["exclude_fields"]) ASSIGN_OR_RETURN_(c.exclude_fields, strings(n["exclude_fields"], "exclude_fields"));
  if (const YAML::Node r = n["redact"]) {
    if (!r.IsSequence()) return err(r, "redact: expected a list of {pattern, replacement}");
    for (const auto& item : r) {
      if (auto st = checkKeys(item, "redact", {"pattern", "replacement"}); !st.ok()) return st;
      if (!item["pattern"]) return err(item, "redact: missing \"pattern\"");
      RedactRule rule;
      ASSIGN_OR_RETURN_(rule.pattern, str(item["pattern"], "pattern"));
      rule.replacement = "[REDACTED]";
      if (item["replacement"]) ASSIGN_OR_RETURN_(rule.replacement, str(item["replacement"], "replacement"));
      RE2 re(rule.pattern, RE2::Quiet);
      if (!re.ok()) return err(item["pattern"], absl::StrCat("redact pattern: ", re.error()));
      std::string rewrite_err;
      if (!re.CheckRewriteString(rule.replacement, &rewrite_err))
        return err(item["replacement"] ? item["replacement"] : item,
                   absl::StrCat("redact replacement: ", rewrite_err));
      c.redact.push_back(std::move(rule));
    }
  }
  // file
  if (n["path"]) ASSIGN_OR_RETURN_(c.path, str(n["path"], "path"));
  if (n["max_size"]) ASSIGN_OR_RETURN_(c.max_size_bytes, bytes(n["max_size"], "max_size"));
  if (n["max_age"]) ASSIGN_OR_RETURN_(c.max_age, duration(n["max_age"], "max_age"));
  if (n["max_backups"]) {
    uint64_t v;
    ASSIGN_OR_RETURN_(v, uinteger(n["max_backups"], "max_backups"));
    c.max_backups = static_cast<int>(std::min<uint64_t>(v, 1000));
  }
  if (n["compress"]) ASSIGN_OR_RETURN_(c.compress, boolean(n["compress"], "compress"));
  if (n["mode"]) {
    std::string m;
    ASSIGN_OR_RETURN_(m, str(n["mode"], "mode"));
    char* end = nullptr;
    unsigned long v = std::strtoul(m.c_str(), &end, 8);
    if (m.empty() || *end != '\0' || v > 0777) return err(n["mode"], "mode: expected octal such as \"0600\"");
    c.mode = static_cast<uint32_t>(v);
  }
  if (c.type == SinkType::kFile && c.path.empty()) return err(n, "file sink: missing \"path\"");
  // syslog
  if (n["address"]) ASSIGN_OR_RETURN_(c.address, str(n["address"], "address"));
  if (n["facility"]) {
    std::string f;
    ASSIGN_OR_RETURN_(f, str(n["facility"], "facility"));
    auto fac = facilityOf(f);
    if (!fac.ok()) return err(n["facility"], std::string(fac.status().message()));
    c.facility = *fac;
  }
  if (n["app_name"]) ASSIGN_OR_RETURN_(c.app_name, str(n["app_name"], "app_name"));
  if (c.type == SinkType::kSyslog) {
    if (c.address.empty()) c.address = "unix:///dev/log";
    const YAML::Node at = n["address"] ? n["address"] : n;
    if (c.address.rfind("unix://", 0) != 0 && c.address.rfind("udp://", 0) != 0 &&
        c.address.rfind("tcp://", 0) != 0 && c.address.rfind("tls://", 0) != 0 &&
        c.address.rfind("relp://", 0) != 0 && c.address.rfind("relp+tls://", 0) != 0)
      return err(at, absl::StrCat("syslog address \"", c.address,
                                  "\": expected unix:///path, udp://host:port, tcp://host:port, tls://host:port, "
                                  "relp://host:port or relp+tls://host:port"));
    if (c.address.rfind("unix://", 0) != 0 && c.address.rfind(':') <= c.address.find("://") + 2)
      return err(at, absl::StrCat("syslog address \"", c.address, "\": missing :port"));
    c.tls.enabled = c.address.rfind("tls://", 0) == 0 || c.address.rfind("relp+tls://", 0) == 0;
  }
  // HTTP
  if (n["url"]) ASSIGN_OR_RETURN_(c.url, str(n["url"], "url"));
  if (isHttpSink(c.type)) {
    if (c.url.empty()) return err(n, absl::StrCat(sinkTypeName(c.type), " sink: missing \"url\""));
    if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
      return err(n["url"], absl::StrCat("url \"", c.url, "\": expected http:// or https://"));
    c.tls.enabled = c.url.rfind("https://", 0) == 0;
  }
  if (n["token_file"]) {
    ASSIGN_OR_RETURN_(c.token_file, str(n["token_file"], "token_file"));
    std::ifstream in(c.token_file);
    if (!in) return err(n["token_file"], absl::StrCat("cannot read token file ", c.token_file));
    std::stringstream ss;
    ss << in.rdbuf();
    c.token = std::string(absl::StripAsciiWhitespace(ss.str()));
    if (c.token.empty()) return err(n["token_file"], absl::StrCat("token file ", c.token_file, " is empty"));
  }
  switch (c.type) {
    case SinkType::kSplunkHec: c.auth_scheme = "Splunk"; break;
    case SinkType::kElasticsearch: c.auth_scheme = "ApiKey"; break;
    default: c.auth_scheme = "Bearer"; break;
  }
  if (n["auth_scheme"]) ASSIGN_OR_RETURN_(c.auth_scheme, str(n["auth_scheme"], "auth_scheme"));
  if (const YAML::Node h = n["headers"]) {
    if (!h.IsMap()) return err(h, "headers: expected a mapping of header: value");
    for (const auto& kv : h) {
      std::string v;
      ASSIGN_OR_RETURN_(v, str(kv.second, kv.first.Scalar()));
      c.headers.emplace_back(kv.first.Scalar(), v);
    }
  }
  if (n["gzip"]) ASSIGN_OR_RETURN_(c.gzip, boolean(n["gzip"], "gzip"));
  if (const YAML::Node b = n["batch"]) {
    if (auto st = checkKeys(b, "batch", {"max_events", "max_bytes", "max_delay"}); !st.ok()) return st;
    if (b["max_events"]) {
      uint64_t v;
      ASSIGN_OR_RETURN_(v, uinteger(b["max_events"], "max_events"));
      if (v == 0) return err(b["max_events"], "max_events must be at least 1");
      c.batch_max_events = v;
    }
    if (b["max_bytes"]) ASSIGN_OR_RETURN_(c.batch_max_bytes, bytes(b["max_bytes"], "max_bytes"));
    if (b["max_delay"]) ASSIGN_OR_RETURN_(c.batch_max_delay, duration(b["max_delay"], "max_delay"));
  }
  if (const YAML::Node r = n["retry"]) {
    if (auto st = checkKeys(r, "retry", {"initial_backoff", "max_backoff", "on_status"}); !st.ok()) return st;
    if (r["initial_backoff"])
      ASSIGN_OR_RETURN_(c.retry_initial_backoff, duration(r["initial_backoff"], "initial_backoff"));
    if (r["max_backoff"]) ASSIGN_OR_RETURN_(c.retry_max_backoff, duration(r["max_backoff"], "max_backoff"));
    if (c.retry_initial_backoff <= absl::ZeroDuration())
      return err(r, "retry.initial_backoff must be positive");
    if (const YAML::Node os = r["on_status"]) {
      if (!os.IsSequence()) return err(os, "retry.on_status: expected a list of HTTP statuses");
      for (const auto& item : os) {
        uint64_t v;
        ASSIGN_OR_RETURN_(v, uinteger(item, "retry.on_status"));
        if (v < 400 || v > 499) return err(item, "retry.on_status: expected 4xx statuses (5xx, 408 and 429 are always retried)");
        c.retry_on_status.push_back(static_cast<int>(v));
      }
    }
  }
  if (n["timeout"]) ASSIGN_OR_RETURN_(c.timeout, duration(n["timeout"], "timeout"));
  if (n["index"]) ASSIGN_OR_RETURN_(c.index, str(n["index"], "index"));
  if (c.type == SinkType::kElasticsearch && c.index.empty()) c.index = "vigil-events";
  if (n["op_type"]) {
    ASSIGN_OR_RETURN_(c.es_op_type, str(n["op_type"], "op_type"));
    if (c.es_op_type != "create" && c.es_op_type != "index")
      return err(n["op_type"], "op_type: expected create or index");
  }
  if (const YAML::Node a = n["ack"]) {
    if (c.type != SinkType::kSplunkHec) return err(a, "ack: only for splunk_hec (indexer acknowledgement)");
    if (auto st = checkKeys(a, "ack", {"enabled", "timeout"}); !st.ok()) return st;
    if (a["enabled"]) ASSIGN_OR_RETURN_(c.hec_ack, boolean(a["enabled"], "enabled"));
    if (a["timeout"]) ASSIGN_OR_RETURN_(c.hec_ack_timeout, duration(a["timeout"], "timeout"));
    if (c.hec_ack_timeout <= absl::ZeroDuration()) return err(a, "ack.timeout must be positive");
  }
  if (n["sourcetype"]) ASSIGN_OR_RETURN_(c.sourcetype, str(n["sourcetype"], "sourcetype"));
  if (n["source"]) ASSIGN_OR_RETURN_(c.source, str(n["source"], "source"));
  if (const YAML::Node l = n["labels"]) {
    if (!l.IsMap()) return err(l, "labels: expected a mapping of label: value");
    for (const auto& kv : l) {
      std::string v;
      ASSIGN_OR_RETURN_(v, str(kv.second, kv.first.Scalar()));
      c.labels[kv.first.Scalar()] = v;
    }
  }
  if (n["body"]) {
    ASSIGN_OR_RETURN_(c.webhook_body, str(n["body"], "body"));
    if (c.webhook_body != "ndjson" && c.webhook_body != "array")
      return err(n["body"], "body: expected ndjson or array");
  }
  if (const YAML::Node t = n["tls"]) {
    if (auto st = checkKeys(t, "tls", {"ca_file", "cert_file", "key_file", "server_name",
                                       "insecure_skip_verify"});
        !st.ok())
      return st;
    if (t["ca_file"]) ASSIGN_OR_RETURN_(c.tls.ca_file, str(t["ca_file"], "ca_file"));
    if (t["cert_file"]) ASSIGN_OR_RETURN_(c.tls.cert_file, str(t["cert_file"], "cert_file"));
    if (t["key_file"]) ASSIGN_OR_RETURN_(c.tls.key_file, str(t["key_file"], "key_file"));
    if (t["server_name"]) ASSIGN_OR_RETURN_(c.tls.server_name, str(t["server_name"], "server_name"));
    if (t["insecure_skip_verify"])
      ASSIGN_OR_RETURN_(c.tls.insecure_skip_verify, boolean(t["insecure_skip_verify"], "insecure_skip_verify"));
    if (c.tls.cert_file.empty() != c.tls.key_file.empty())
      return err(t, "tls: cert_file and key_file go together");
    for (const auto& [key, path] : {std::pair<const char*, std::string>{"ca_file", c.tls.ca_file},
                                    {"cert_file", c.tls.cert_file}, {"key_file", c.tls.key_file}})
      if (!path.empty() && !std::ifstream(path))
        return err(t[key], absl::StrCat("tls.", key, ": cannot read ", path));
  }
  return c;
}

}  // namespace

absl::StatusOr<ExportersConfig> parseExportersConfig(const YAML::Node& node, const std::string& file) {
  try {
    Parser p(file);
    ExportersConfig cfg;
    if (!node || node.IsNull()) return cfg;
    if (auto st = p.checkKeys(node, "exporters",
                              {"spool_dir", "report_interval", "stop_timeout", "sinks"});
        !st.ok())
      return st;
    if (node["spool_dir"]) ASSIGN_OR_RETURN_(cfg.spool_dir, p.str(node["spool_dir"], "spool_dir"));
    if (node["report_interval"])
      ASSIGN_OR_RETURN_(cfg.report_interval, p.duration(node["report_interval"], "report_interval"));
    if (cfg.report_interval <= absl::ZeroDuration())
      return p.err(node["report_interval"], "report_interval must be positive");
    if (node["stop_timeout"]) ASSIGN_OR_RETURN_(cfg.stop_timeout, p.duration(node["stop_timeout"], "stop_timeout"));
    if (const YAML::Node sinks = node["sinks"]) {
      if (!sinks.IsSequence()) return p.err(sinks, "sinks: expected a list");
      std::set<std::string> names;
      for (const auto& s : sinks) {
        auto sc = p.sink(s);
        if (!sc.ok()) return sc.status();
        if (!names.insert(sc->name).second)
          return p.err(s["name"], absl::StrCat("duplicate sink name \"", sc->name, "\""));
        cfg.sinks.push_back(*std::move(sc));
      }
    }
    return cfg;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
  }
}

absl::StatusOr<ExportersConfig> parseExportersConfigString(const std::string& yaml,
                                                           const std::string& file) {
  try {
    YAML::Node root = YAML::Load(yaml);
    return parseExportersConfig(root["exporters"], file);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
  }
}

}  // namespace vigil::exporters
