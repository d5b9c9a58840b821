// UTF-8 and JSON strings: the one escaper every renderer uses (events,
// ECS/OCSF envelopes, vigilctl, the policy compiler's dump). No dependencies,
// so any module may use it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil::api {

// Length of the valid UTF-8 sequence that starts at s[i] (1..4), or 0 when the
// bytes there are not valid UTF-8 (overlong forms, surrogates, > U+10FFFF,
// truncated sequences and stray continuation bytes included).
size_t utf8SequenceLength(std::string_view s, size_t i);
bool isValidUtf8(std::string_view s);
// s with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string toValidUtf8(std::string_view s);

// Appends s as a JSON string literal, quotes included. The output is always
// valid UTF-8 and valid JSON whatever the input bytes: '"' and '\' escaped,
// \n \r \t \b \f as such, other bytes below 0x20 and DEL as \u00XX, and each
// byte that is not part of valid UTF-8 as U+FFFD (the original bytes of event
// strings are kept beside them, see sanitizeStrings in api/event_view.h).
void appendJsonString(std::string& out, std::string_view s);
std::string jsonString(std::string_view s);

}  // namespace vigil::api
