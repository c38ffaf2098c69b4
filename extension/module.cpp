// Library entry: PostgreSQL's magic block and the settings.
#include "pg_boundary.hpp"
#include "settings.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace {
void initialize(Datum) { claudable::settings::define(); }
}  // namespace

extern "C" void _PG_init(void) {
    claudable::pg::enter_callback(initialize, 0, ERROR);
}
