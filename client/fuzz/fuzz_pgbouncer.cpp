// libFuzzer: whatever a server returns as pooler entries, PgBouncer's files get exactly one
// line per entry (plus the header) or nothing at all: no value starts a line of its own.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "claudable/errors.hpp"
#include "claudable/pgbouncer_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Fields are separated by NUL bytes, five per entry: database, user, host, port, verifier.
    std::vector<std::string> fields(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == '\0') fields.emplace_back();
        else fields.back() += static_cast<char>(data[i]);
    }
    std::vector<claudable::PoolerEntry> entries;
    for (size_t i = 0; i + 5 <= fields.size(); i += 5)
        entries.push_back({"s", fields[i], fields[i + 1], fields[i + 2], std::atoi(fields[i + 3].c_str()), fields[i + 4]});
    auto lines = [](const std::string& text) {
        size_t n = 0;
        for (char c : text) n += c == '\n' || c == '\r';
        return n;
    };
    try {
        if (lines(claudable::render_pgbouncer_databases(entries, "transaction")) != entries.size() + 3) std::abort();
        if (lines(claudable::render_pgbouncer_auth_file(entries)) != entries.size()) std::abort();
    } catch (const claudable::Error&) {
        // refused: nothing would be written
    }
    return 0;
}
