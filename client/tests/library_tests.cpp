// The library (claudable::Client) against the throwaway cluster test/client/client_suite.sh
// starts; fails (not skips) without it: CLAUDABLE_TEST_ADMIN_URL (README's deploy role, over
// TCP, with its password), CLAUDABLE_TEST_SERVER_STOP / _START and
// CLAUDABLE_TEST_SUPERUSER_PSQL (to look at what a call changed, never to make it).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "claudable/client.hpp"

namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// The output of one query as the superuser, or "(no superuser)".
std::string as_superuser(const std::string& sql) {
    const std::string psql = env("CLAUDABLE_TEST_SUPERUSER_PSQL");
    if (psql.empty()) return "(no superuser)";
    const auto out = std::filesystem::temp_directory_path() / ("claudable-library-tests-" + std::to_string(::getpid()));
    (void)std::system((psql + " -c " + quote(sql) + " >" + out.string() + " 2>&1").c_str());
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(out);
    std::string result = text.str();
    while (!result.empty() && result.back() == '\n') result.pop_back();
    return result;
}

class KeptConnection : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(env("CLAUDABLE_TEST_ADMIN_URL").empty()) << "CLAUDABLE_TEST_ADMIN_URL is not set: run test/client/client_suite.sh";
        ASSERT_FALSE(env("CLAUDABLE_TEST_SERVER_STOP").empty() || env("CLAUDABLE_TEST_SERVER_START").empty())
            << "CLAUDABLE_TEST_SERVER_STOP/START are not set";
        ASSERT_FALSE(env("CLAUDABLE_TEST_SUPERUSER_PSQL").empty()) << "CLAUDABLE_TEST_SUPERUSER_PSQL is not set";
        options.on_retry = [this](int, const claudable::Error&) { ++retries; };
        client = std::make_unique<claudable::Client>(env("CLAUDABLE_TEST_ADMIN_URL"), options);
    }

    // The client's connection is open and idle on the server; then the server is stopped
    // (fast: its idle session ends with FATAL 57P01) and started again.
    void restart_under_the_kept_connection() {
        // (A connection an earlier test closed may take a moment to leave pg_stat_activity.)
        std::string idle;
        for (int i = 0; i < 50; ++i) {
            idle = as_superuser("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'claudable client'"
                                " AND usename = 'deploy_service' AND state = 'idle'");
            if (idle == "1") break;
            ::usleep(100 * 1000);
        }
        ASSERT_EQ(idle, "1") << "the client keeps one connection, idle between calls";
        const std::string started = as_superuser("SELECT pg_postmaster_start_time()");
        ASSERT_EQ(std::system(env("CLAUDABLE_TEST_SERVER_STOP").c_str()), 0);
        ASSERT_EQ(std::system(env("CLAUDABLE_TEST_SERVER_START").c_str()), 0);
        ASSERT_NE(as_superuser("SELECT pg_postmaster_start_time()"), started) << "the server really restarted";
    }

    claudable::ClientOptions options;
    int retries = 0;
    std::unique_ptr<claudable::Client> client;
};

}  // namespace

// The server ended the kept session before the deprovision was written: the call goes out on
// a new connection, runs once, and returns its own result, not OutcomeUnknown.
TEST_F(KeptConnection, ADeprovisionAfterARestartReturnsItsResult) {
    client->provision("lib-kept-depro", "team-lib");
    restart_under_the_kept_connection();
    bool removed = false;
    try {
        removed = client->deprovision("lib-kept-depro", "team-lib");
    } catch (const claudable::Error& e) {
        FAIL() << "SQLSTATE " << e.sqlstate() << ": " << e.what();
    }
    EXPECT_TRUE(removed);
    EXPECT_EQ(retries, 0) << "nothing failed that needed a retry: the ended session was seen before sending";
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.events WHERE action = 'deprovision'"
                           " AND project_id = 'lib-kept-depro' AND outcome = 'succeeded'"),
              "1")
        << "the server saw exactly one deprovisioning";
}

// The same for a rotation: sent once, on the new connection, and its new password returned.
TEST_F(KeptConnection, ARotateAfterARestartReturnsTheNewPassword) {
    const claudable::ProvisionedProject before = client->provision("lib-kept-rotate", "team-lib");
    restart_under_the_kept_connection();
    std::string rotated;
    try {
        rotated = client->rotate_password("lib-kept-rotate", "team-lib").password.reveal();
    } catch (const claudable::Error& e) {
        FAIL() << "SQLSTATE " << e.sqlstate() << ": " << e.what();
    }
    // Compared, never printed: a failure shows no password.
    EXPECT_TRUE(!rotated.empty() && rotated != before.password.reveal()) << "a new password";
    EXPECT_TRUE(client->provision("lib-kept-rotate", "team-lib").password.reveal() == rotated) << "it is the current one";
    EXPECT_EQ(as_superuser("SELECT count(*) FROM claudable.events WHERE action = 'rotate'"
                           " AND project_id = 'lib-kept-rotate' AND outcome = 'succeeded'"),
              "1");
}
