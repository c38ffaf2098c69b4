// Quoting for the few utility statements that take no parameters (CREATE ROLE,
// CREATE DATABASE, COMMENT, REVOKE). Every identifier is quoted, always.
#pragma once

#include <string>
#include <string_view>

namespace claudable {

std::string quoted_identifier(std::string_view identifier);
// Single-quoted literal valid whatever standard_conforming_strings says:
// a backslash is refused rather than escaped.
std::string quoted_literal(std::string_view text);

}  // namespace claudable
