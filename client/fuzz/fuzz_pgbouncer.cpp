// libFuzzer: whatever a server returns as pooler entries, PgBouncer's files get exactly one
// line per entry (plus the header) or nothing at all: no value starts a line of its own, with
// or without an auth_user on each entry (pooler-sync). The
// entries pgbouncer-config keeps (sort_pooler_entries) always render, one line each, no
// database or role name among them twice, and no report of a skipped one breaks a line.
#include <cstdint>
#include <cstdlib>
#include <set>
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
        entries.push_back({"s", fields[i], fields[i + 1], fields[i + 2], std::atoi(fields[i + 3].c_str()), fields[i + 4],
                           fields[i]});  // the project id: whatever the database name is
    auto lines = [](const std::string& text) {
        size_t n = 0;
        for (char c : text) n += c == '\n' || c == '\r';
        return n;
    };
    try {
        const claudable::PgbouncerConfigResult sorted = claudable::sort_pooler_entries(entries);
        if (sorted.written.size() + sorted.skipped.size() != entries.size()) std::abort();
        if (lines(claudable::render_pgbouncer_databases(sorted.written, "transaction")) != sorted.written.size() + 3)
            std::abort();
        if (lines(claudable::render_pgbouncer_auth_file(sorted.written)) != sorted.written.size()) std::abort();
        std::set<std::string> databases, roles;
        for (const auto& kept : sorted.written)
            if (!databases.insert(kept.database_name).second || !roles.insert(kept.username).second) std::abort();
        for (const auto& skipped : sorted.skipped)
            if (lines(skipped.server + skipped.database_name + skipped.project_id + skipped.reason) != 0) std::abort();
    } catch (const claudable::Error&) {
        std::abort();  // sorting never refuses (a name two entries have is skipped), nor does rendering what it kept
    }
    try {
        // pooler-sync's entries, each naming PgBouncer's auth_user: no verifier is looked at, and
        // still one line per kept entry.
        const claudable::PgbouncerFiles files =
            claudable::render_pgbouncer_files(entries, "transaction", "claudable_pgbouncer");
        if (files.result.written.size() + files.result.skipped.size() != entries.size()) std::abort();
        if (lines(files.databases) != files.result.written.size() + 3 || !files.auth.empty()) std::abort();
    } catch (const claudable::Error&) {
        std::abort();
    }
    try {
        if (lines(claudable::render_pgbouncer_databases(entries, "transaction")) != entries.size() + 3) std::abort();
        if (lines(claudable::render_pgbouncer_auth_file(entries)) != entries.size()) std::abort();
    } catch (const claudable::Error&) {
        // refused: nothing would be written
    }
    return 0;
}
