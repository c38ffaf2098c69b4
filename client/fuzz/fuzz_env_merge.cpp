// libFuzzer: merge_database_url keeps every other line and leaves exactly one DATABASE_URL.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "claudable/env_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string existing(reinterpret_cast<const char*>(data), size);
    const std::string url = "postgresql://u:p@h:5432/d";
    const std::string merged = claudable::merge_database_url(existing, url);
    // Exactly one line sets DATABASE_URL, to the new value.
    std::size_t count = 0, start = 0;
    while (start <= merged.size()) {
        std::size_t end = merged.find('\n', start);
        std::string line = merged.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::size_t i = line.find_first_not_of(" \t");
        if (i != std::string::npos && line.compare(i, 7, "export ") == 0) i = line.find_first_not_of(" \t", i + 7);
        if (i != std::string::npos && line.compare(i, 12, "DATABASE_URL") == 0) {
            std::size_t eq = line.find_first_not_of(" \t", i + 12);
            if (eq != std::string::npos && line[eq] == '=') {
                if (line.substr(i) != "DATABASE_URL=" + url) std::abort();
                ++count;
            }
        }
        if (end == std::string::npos) break;
        start = end + 1;
    }
    if (count != 1) std::abort();
    // Merging again changes nothing.
    if (claudable::merge_database_url(merged, url) != merged) std::abort();
    return 0;
}
