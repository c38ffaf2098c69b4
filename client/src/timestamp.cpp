// RFC 3339 times for claudable_branch's expires_at: read with their offset, written in UTC.
#include <cstdio>

#include "claudable/client.hpp"

namespace claudable {
namespace {

using namespace std::chrono;

// The refusal names the rule, never the text: it may be anything a caller pasted.
[[noreturn]] void refuse() {
    throw InvalidInput("22023", "invalid expires_at: it must be an RFC 3339 time with its offset, such as "
                                "2026-12-31T00:00:00Z or 2027-01-01T02:00:00+02:00");
}

// Reads exactly `count` digits at `at` (and moves past them), else refuses.
int digits(std::string_view text, std::size_t& at, std::size_t count) {
    if (at + count > text.size()) refuse();
    int value = 0;
    for (std::size_t end = at + count; at < end; ++at) {
        if (text[at] < '0' || text[at] > '9') refuse();
        value = value * 10 + (text[at] - '0');
    }
    return value;
}

void expect(std::string_view text, std::size_t& at, std::string_view one_of) {
    if (at >= text.size() || one_of.find(text[at]) == std::string_view::npos) refuse();
    ++at;
}

}  // namespace

Timestamp parse_timestamp(std::string_view text) {
    std::size_t at = 0;
    const int y = digits(text, at, 4);
    expect(text, at, "-");
    const int mo = digits(text, at, 2);
    expect(text, at, "-");
    const int d = digits(text, at, 2);
    expect(text, at, "Tt ");
    const int h = digits(text, at, 2);
    expect(text, at, ":");
    const int mi = digits(text, at, 2);
    expect(text, at, ":");
    const int s = digits(text, at, 2);
    nanoseconds fraction{0};
    if (at < text.size() && text[at] == '.') {
        ++at;
        const std::size_t first = at;
        long long nanos = 0, scale = 100000000;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            if (scale > 0) nanos += (text[at] - '0') * scale;  // past nanoseconds: cut
            scale /= 10;
            ++at;
        }
        if (at == first) refuse();
        fraction = nanoseconds(nanos);
    }
    minutes offset{0};
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        const int sign = text[at] == '-' ? -1 : 1;
        ++at;
        const int oh = digits(text, at, 2);
        expect(text, at, ":");
        const int om = digits(text, at, 2);
        if (oh > 23 || om > 59) refuse();
        offset = minutes(sign * (oh * 60 + om));
    } else {
        refuse();  // no offset: which time it is would depend on the server's TimeZone
    }
    if (at != text.size()) refuse();
    const year_month_day date{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
    if (y < 1 || !date.ok() || h > 23 || mi > 59 || s > 59) refuse();
    const auto local = sys_days(date) + hours(h) + minutes(mi) + seconds(s) + fraction;
    return time_point_cast<Timestamp::duration>(floor<microseconds>(local - offset));
}

std::string format_timestamp(Timestamp time) {
    const auto micros = floor<microseconds>(time);
    const auto day_start = floor<days>(micros);
    const year_month_day date{day_start};
    const hh_mm_ss<microseconds> clock{micros - day_start};
    char text[40];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                  static_cast<int>(clock.seconds().count()), static_cast<long long>(clock.subseconds().count()));
    return text;
}

}  // namespace claudable
