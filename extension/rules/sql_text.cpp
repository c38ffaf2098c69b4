#include "rules/pure_cpp.hpp"  // first: this file stays free of PostgreSQL headers

#include "rules/sql_text.hpp"

#include "rules/failure.hpp"

namespace claudable {

std::string quoted_identifier(std::string_view identifier) {
    std::string out = "\"";
    for (char c : identifier) {
        if (c == '\0') fail(sqlstate::internal_error, "identifier contains a NUL byte");
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string quoted_literal(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\\' || c == '\0')
            fail(sqlstate::internal_error, "literal contains a backslash or NUL byte");
        if (c == '\'') out += '\'';
        out += c;
    }
    out += '\'';
    return out;
}

}  // namespace claudable
