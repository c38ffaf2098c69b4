// Included first by every translation unit that must stay pure C++ (rules/*.cpp,
// crypto/secret_box.cpp, worker/wire.cpp): no PostgreSQL header may reach it, so it can
// be unit-tested alone, linked into the client, and never longjmp. pg/headers.hpp refuses
// to compile after this file, and this file refuses to compile after postgres.h.
#pragma once

#ifdef PG_VERSION_NUM
#error "a PostgreSQL header was included before rules/pure_cpp.hpp: this file must stay pure C++"
#endif

#define CLAUDABLE_PURE_CPP_FILE 1
