// Whose value a claudable.* setting holds. When the library is loaded after a session has
// started (it is not in shared_preload_libraries), a value that session gave a claudable.*
// name before the load (a startup option, `options=-c ...`, PGOPTIONS) sits in a
// placeholder and has masked the value of postgresql.conf, ALTER SYSTEM and ALTER
// DATABASE/ROLE SET. At the load PostgreSQL re-applies it under the rights of the role that
// gave it: for a role that may not set the setting that fails with a WARNING and the setting
// falls back to its built-in default, not to the server's value. Such a session cannot know
// the server's value, so every claudable call in it is refused instead (42501).
#pragma once

namespace claudable::settings {

// From _PG_init: before the settings are defined, and after.
void note_placeholders();
void note_refused_placeholders();

// Fails with 42501 in a session whose claudable.* values are not the server's.
void require_server_values();

}  // namespace claudable::settings
