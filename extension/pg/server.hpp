// What the extension asks of the PostgreSQL server it runs in, declared without any
// PostgreSQL header: files outside pg/ call these and stay pure C++. Each is defined in
// pg/ behind the error boundary, so a PostgreSQL ERROR arrives as a claudable::Failure.
#pragma once

#include <cstddef>
#include <string>

#include "rules/failure.hpp"

namespace claudable::pg {

// A LOG line in the server log.
void log(const std::string& message);
// Reports `report` as an ERROR to the server log and to the client (in a worker: through
// its queue, to the caller) without ending the process.
void send_error(const ErrorReport& report);

// What pg_stat_activity shows as this process's query.
void report_activity(const std::string& what);

// Bytes from the server's strong random source (pg_strong_random).
void strong_random(unsigned char* buffer, std::size_t size);
// Raises the pending cancel or statement_timeout, if any: every loop whose length a caller
// or tenant sets calls it once per round.
void check_for_interrupts();

bool recovery_in_progress();
bool transaction_active();
bool is_superuser();
std::string session_user_name();
std::string data_directory();
unsigned int current_database_id();
double now_unix_seconds();
// A worker, between transactions: reads postgresql.conf and postgresql.auto.conf again,
// as on SIGHUP, so a setting changed and reloaded a moment ago is in force even if the
// signal has not arrived yet.
void reload_configuration();
// Sleeps until `ms` pass or the process latch is set (a worker started or stopped, a
// message arrived); a cancel, a termination or statement_timeout ends it with an error.
void pause_ms(long ms);

}  // namespace claudable::pg
