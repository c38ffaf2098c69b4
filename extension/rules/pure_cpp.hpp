// Included first by every translation unit outside pg/ (make test checks it): no
// PostgreSQL header may reach those files, so they can be unit-tested alone or linked into
// the client, and no longjmp ever crosses their frames; they reach PostgreSQL only through
// the pure declarations of pg/*.hpp. pg/headers.hpp refuses
// to compile after this file, and this file refuses to compile after postgres.h.
#pragma once

#ifdef PG_VERSION_NUM
#error "a PostgreSQL header was included before rules/pure_cpp.hpp: this file must stay pure C++"
#endif

#define CLAUDABLE_PURE_CPP_FILE 1
