// What the example programs' option parsing shares: one way to refuse a usage error (exit status 2) and to
// read whole numbers and sizes, so that animegan2 and animegan2-server word their errors alike.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace command_line {

// The name usage errors start with; main sets it before parsing.
inline std::string program = "animegan2";

[[noreturn]] inline void usage_error(const std::string& message) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program.c_str(), message.c_str());
    std::exit(2);
}

inline long long parse_whole(const std::string& option, const std::string& text, long long min,
                             long long max) {
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end || v < min || v > max) {
        usage_error(option + " needs a whole number in [" + std::to_string(min) + ", " + std::to_string(max) +
                    "], got '" + text + "'");
    }
    return v;
}

inline int parse_int(const std::string& option, const std::string& text, int min, int max) {
    return int(parse_whole(option, text, min, max));
}

// SIZE: a number of bytes with an optional K, M or G (powers of 1024, "MB" and "MiB" alike), e.g. 1.5G.
inline size_t parse_size(const std::string& option, const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    std::string unit = end ? end : "";
    for (const char* suffix : {"iB", "B"}) {
        if (unit.size() > 1 && unit.size() >= std::strlen(suffix) &&
            unit.compare(unit.size() - std::strlen(suffix), std::string::npos, suffix) == 0) {
            unit.resize(unit.size() - std::strlen(suffix));
            break;
        }
    }
    double scale = 0;
    if (unit.empty()) scale = 1;
    if (unit == "K" || unit == "k") scale = 1024.0;
    if (unit == "M" || unit == "m") scale = 1024.0 * 1024;
    if (unit == "G" || unit == "g") scale = 1024.0 * 1024 * 1024;
    if (text.empty() || scale == 0 || !(value > 0) || value * scale > 1e15)
        usage_error(option + " needs a size such as 600M or 1.5G, got '" + text + "'");
    return size_t(value * scale);
}

// A duration as m:ss, or h:mm:ss from an hour up (progress lines' time left).
inline std::string clock_text(double seconds) {
    const long s = long(seconds + 0.5);
    char t[32];
    if (s >= 3600) {
        std::snprintf(t, sizeof t, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    } else {
        std::snprintf(t, sizeof t, "%ld:%02ld", s / 60, s % 60);
    }
    return t;
}

}  // namespace command_line
