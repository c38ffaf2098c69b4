// How the client tells a call that provably never ran from one that may have run: private to
// the library (unit_tests includes it to test the classification without a server).
//
// A session the server ended (57P01 admin_shutdown: a restart, a fast or smart shutdown,
// pg_terminate_backend; 57P02 crash_shutdown: another backend crashed) is a transient fault
// wherever it shows:
// - at login, or on a kept connection before the request was written (the server's FATAL and
//   its end of the connection were already waiting on the socket): the call never reached the
//   server, so any call may be sent again;
// - as the answer to a request (the session ended while the call ran, the provisioning worker
//   was terminated, or PL/Proxy forwarded a remote server's FATAL with its SQLSTATE): the call
//   was sent and the server, or its worker, may have committed some of it. Only idempotent
//   calls are sent again; a deprovision or rotate is OutcomeUnknown.
#pragma once

#include <string>

#include "claudable/errors.hpp"

namespace claudable::detail {

// Sent, then lost: the connection broke, or the server ended the session while the call ran.
struct LostAfterSending : TransientError { using TransientError::TransientError; };

// 57P01 or 57P02: the server ended the session.
bool ends_session(const std::string& sqlstate) noexcept;

// The Error for a server's answer to a request that was sent: LostAfterSending for a session
// the server ended, or for a fleet directory's 08006 (its connection to the project's server
// broke during the call), else what throw_for_sqlstate throws.
[[noreturn]] void throw_for_answer(const std::string& sqlstate, const std::string& message);

// libpq gives a failed login no SQLSTATE, only the server's FATAL inside its message. True
// when that message is worth a retry: no FATAL at all (refused, unreachable, timed out), or a
// FATAL sent while the server starts, stops, is full or ends sessions (57P03, 53300, 57P01,
// 57P02). Any other FATAL is the server refusing this login (password, role, database,
// CONNECT, pg_hba.conf), which no retry changes.
bool login_failure_is_transient(const std::string& libpq_message);

}  // namespace claudable::detail
