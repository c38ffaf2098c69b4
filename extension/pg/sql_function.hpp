// What a SQL-callable function of this library sees and returns, without PostgreSQL
// headers: api/ implements each function as `Result f(const Arguments&)`, and
// pg/sql_functions.cpp, the one place that knows fmgr, makes them callable from SQL.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace claudable::pg {

// The call's arguments: text, or an integer.
class Arguments {
public:
    explicit Arguments(void* call_info) : call_info_(call_info) {}
    // std::nullopt for SQL NULL.
    std::optional<std::string> string(int index) const;
    std::optional<int> integer(int index) const;
    // A timestamptz, in microseconds since 2000-01-01.
    std::optional<long long> timestamp(int index) const;

private:
    void* call_info_;  // FunctionCallInfo
};

// A timestamptz's 'infinity' (DT_NOEND); '-infinity' is -infinity_us - 1 (DT_NOBEGIN).
inline constexpr long long infinity_us = 0x7FFFFFFFFFFFFFFFLL;

struct Timestamp {  // a timestamptz: microseconds since 2000-01-01
    long long value;
};
struct Bigint {
    long long value;
};
// One column of a row: NULL, text, integer, bigint, boolean or timestamptz.
using ResultCell = std::variant<std::monostate, std::string, int, Bigint, bool, Timestamp>;
struct ResultRow {
    std::vector<ResultCell> cells;
    bool holds_secrets = false;  // its text is overwritten once the row is handed to PostgreSQL
};
struct ResultRows {
    std::vector<ResultRow> rows;
};
struct Null {};
using Result = std::variant<Null, bool, int, std::string, ResultRow, ResultRows>;

using Implementation = Result (*)(const Arguments&);

}  // namespace claudable::pg
