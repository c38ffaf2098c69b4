// Library entry: PostgreSQL's magic block and the settings.
#include "testing/fault_injection.hpp"
#include "pg/boundary.hpp"
#include "pg/setting_provenance.hpp"
#include "pg/settings.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace {
void initialize(Datum) {
    claudable::settings::note_placeholders();
    claudable::settings::define();
    claudable::define_fault_injection_setting();  // a no-op in production builds
    claudable::settings::reserve_prefix();
    claudable::settings::note_refused_placeholders();
}
}  // namespace

extern "C" void _PG_init(void) {
    claudable::pg::enter_callback(initialize, 0, ERROR);
}
