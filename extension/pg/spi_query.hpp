// Parameterized SQL through SPI: the only way the extension reads or writes tables.
// Values always travel as parameters; the statement text is a constant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace claudable::pg {

struct Param {
    unsigned int type;  // a type OID: text, bytea or int4
    std::string value;  // text, raw bytes, or a decimal number
};
Param text_param(std::string_view value);
Param bytea_param(std::string_view bytes);
Param int4_param(int value);
Param int8_param(long long value);

// A column's value: text as is, bytea as raw bytes, integers, oids and
// timestamptz (microseconds since 2000-01-01) in decimal, booleans as "t"/"f".
using Cell = std::optional<std::string>;
using Row = std::vector<Cell>;

// `sql` must be a string constant: its address keys the backend's plan cache.
std::vector<Row> query(const char* sql, const std::vector<Param>& params = {});

// Runs a utility statement (CREATE ROLE, CREATE DATABASE, ...) as a top-level
// command, as psql would: this is what lets CREATE DATABASE run in the worker.
// Only for the worker, outside any transaction block.
void run_top_level(const std::string& sql);

std::int64_t as_int64(const Cell& cell);

}  // namespace claudable::pg
