// Unit tests of the client library: no server needed.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "claudable/client.hpp"
#include "claudable/env_file.hpp"
#include "claudable/errors.hpp"
#include "claudable/pgbouncer_config.hpp"
#include "claudable/secret.hpp"
#include "faults.hpp"
#include "sync_schedule.hpp"
#include "rules/connection_url.hpp"

using namespace claudable;

TEST(PercentEncode, LeavesUnreservedCharactersAlone) {
    EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
}
TEST(PercentEncode, EncodesReservedAndNonAsciiBytes) {
    EXPECT_EQ(percent_encode("p@ss:w/rd?#%"), "p%40ss%3Aw%2Frd%3F%23%25");
    EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");
}
TEST(DatabaseUrl, IsBuiltFromItsParts) {
    EXPECT_EQ(database_url({"app_u_x", "pw", "db.example", 5433, "app_db_x", ""}),
              "postgresql://app_u_x:pw@db.example:5433/app_db_x");
}
TEST(DatabaseUrl, AppendsSslmode) {
    EXPECT_EQ(database_url({"u", "p", "h", 1, "d", "require"}), "postgresql://u:p@h:1/d?sslmode=require");
}
TEST(DatabaseUrl, BracketsIpv6Hosts) {
    EXPECT_EQ(database_url({"u", "p", "::1", 1, "d", ""}), "postgresql://u:p@[::1]:1/d");
}
TEST(DatabaseUrl, PercentEncodesAPasswordWithReservedCharacters) {
    EXPECT_EQ(database_url({"u", "a@b:c", "h", 1, "d", ""}), "postgresql://u:a%40b%3Ac@h:1/d");
}

TEST(MaskUrl, MasksThePassword) {
    EXPECT_EQ(mask_url("postgresql://u:secret@h:5432/d?sslmode=require"), "postgresql://u:********@h:5432/d?sslmode=require");
}
TEST(MaskUrl, LeavesAUrlWithoutPasswordAlone) {
    EXPECT_EQ(mask_url("postgresql://u@h/d"), "postgresql://u@h/d");
    EXPECT_EQ(mask_url("host=h dbname=d"), "host=h dbname=d");
}
TEST(Secret, StreamsItsMask) {
    std::ostringstream out;
    out << password_secret("hunter2") << " " << url_secret("postgresql://u:hunter2@h/d");
    EXPECT_EQ(out.str(), "******** postgresql://u:********@h/d");
    EXPECT_EQ(out.str().find("hunter2"), std::string::npos);
}
TEST(Secret, FormatsItsMask) {
    EXPECT_EQ(to_string(password_secret("hunter2")), "********");
}
TEST(Secret, RevealsOnlyWhenAsked) {
    EXPECT_EQ(password_secret("hunter2").reveal(), "hunter2");
}

TEST(MergeDatabaseUrl, CreatesTheLineInAMissingFile) {
    EXPECT_EQ(merge_database_url("", "postgresql://x"), "DATABASE_URL=postgresql://x\n");
}
TEST(MergeDatabaseUrl, ReplacesAnExistingLineAndKeepsTheOthers) {
    EXPECT_EQ(merge_database_url("A=1\nDATABASE_URL=old\n# note\nB=2\n", "new"), "A=1\nDATABASE_URL=new\n# note\nB=2\n");
}
TEST(MergeDatabaseUrl, KeepsCrlfLineEnds) {
    EXPECT_EQ(merge_database_url("A=1\r\nDATABASE_URL=old\r\n", "new"), "A=1\r\nDATABASE_URL=new\r\n");
    EXPECT_EQ(merge_database_url("A=1\r\n", "new"), "A=1\r\nDATABASE_URL=new\r\n");
}
TEST(MergeDatabaseUrl, KeepsAnExportPrefix) {
    EXPECT_EQ(merge_database_url("export DATABASE_URL=old\n", "new"), "export DATABASE_URL=new\n");
}
TEST(MergeDatabaseUrl, ReplacesQuotedValues) {
    EXPECT_EQ(merge_database_url("DATABASE_URL=\"old value\"\nDATABASE_URL = 'x'\n", "new"), "DATABASE_URL=new\n");
}
TEST(MergeDatabaseUrl, HandlesAFileWithoutTrailingNewline) {
    EXPECT_EQ(merge_database_url("A=1", "new"), "A=1\nDATABASE_URL=new\n");
    EXPECT_EQ(merge_database_url("DATABASE_URL=old", "new"), "DATABASE_URL=new");
}
TEST(MergeDatabaseUrl, LeavesSimilarNamesAlone) {
    EXPECT_EQ(merge_database_url("DATABASE_URL_RO=x\n#DATABASE_URL=y\n", "new"),
              "DATABASE_URL_RO=x\n#DATABASE_URL=y\nDATABASE_URL=new\n");
}

namespace {
std::filesystem::path fresh_directory(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}
std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
}
// write_env_file's refusal: InvalidInput (exit code 3), and the message says why.
std::string refusal_of(const std::filesystem::path& projects, const std::string& project_id) {
    try {
        write_env_file(projects.string(), project_id, "postgresql://new");
    } catch (const InvalidInput& e) {
        EXPECT_EQ(exit_code_for(e), 3);
        return e.what();
    }
    return "not refused";
}
}  // namespace

TEST(WriteEnvFile, CreatesTheDirectoryAndAFileOfMode0600) {
    const auto dir = fresh_directory("claudable-unit");
    write_env_file(dir.string(), "shop", "postgresql://a");
    struct stat st {};
    ASSERT_EQ(::stat((dir / "shop/.env.production").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(slurp(dir / "shop/.env.production"), "DATABASE_URL=postgresql://a\nDIRECT_URL=postgresql://a\n");
    std::filesystem::remove_all(dir);
}
TEST(WriteEnvFile, MergesIntoTheFileAndLeavesNoTemporaryFile) {
    const auto dir = fresh_directory("claudable-unit2");
    std::filesystem::create_directories(dir / "shop");
    { std::ofstream(dir / "shop/.env.production") << "NODE_ENV=production\nDATABASE_URL=old\n"; }
    write_env_file(dir.string(), "shop", "postgresql://b");
    EXPECT_EQ(slurp(dir / "shop/.env.production"),
              "NODE_ENV=production\nDATABASE_URL=postgresql://b\nDIRECT_URL=postgresql://b\n");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "shop"), std::filesystem::directory_iterator()), 1);
    std::filesystem::remove_all(dir);
}
TEST(WriteEnvFile, RefusesAnEnvFileThatIsASymlinkAndLeavesItsTargetAlone) {
    const auto dir = fresh_directory("claudable-unit-link");
    std::filesystem::create_directories(dir / "shop");
    { std::ofstream(dir / "secret") << "root:x:0:0\n"; }
    std::filesystem::create_symlink(dir / "secret", dir / "shop/.env.production");
    EXPECT_NE(refusal_of(dir, "shop").find("symbolic link"), std::string::npos);
    EXPECT_EQ(slurp(dir / "secret"), "root:x:0:0\n") << "the target is neither read into the app nor rewritten";
    EXPECT_TRUE(std::filesystem::is_symlink(dir / "shop/.env.production"));
    std::filesystem::remove_all(dir);
}
TEST(WriteEnvFile, RefusesAProjectDirectoryThatIsASymlink) {
    const auto dir = fresh_directory("claudable-unit-dirlink");
    std::filesystem::create_directories(dir / "other-project");
    { std::ofstream(dir / "other-project/.env.production") << "DATABASE_URL=theirs\n"; }
    std::filesystem::create_directory_symlink(dir / "other-project", dir / "shop");
    EXPECT_NE(refusal_of(dir, "shop").find("symbolic link"), std::string::npos);
    EXPECT_EQ(slurp(dir / "other-project/.env.production"), "DATABASE_URL=theirs\n") << "another project's file is untouched";
    std::filesystem::remove_all(dir);
}
TEST(WriteEnvFile, RefusesAFifoWithoutBlocking) {
    const auto dir = fresh_directory("claudable-unit-fifo");
    std::filesystem::create_directories(dir / "shop");
    ASSERT_EQ(::mkfifo((dir / "shop/.env.production").c_str(), 0600), 0);
    EXPECT_NE(refusal_of(dir, "shop").find("not a regular file"), std::string::npos);
    std::filesystem::remove_all(dir);
}
TEST(WriteEnvFile, RefusesAFileOverTheSizeCap) {
    const auto dir = fresh_directory("claudable-unit-big");
    std::filesystem::create_directories(dir / "shop");
    { std::ofstream(dir / "shop/.env.production") << std::string(max_env_file_bytes + 1, 'x'); }
    EXPECT_NE(refusal_of(dir, "shop").find("larger than"), std::string::npos);
    EXPECT_EQ(std::filesystem::file_size(dir / "shop/.env.production"), max_env_file_bytes + 1) << "nothing was written";
    std::filesystem::remove_all(dir);
}
TEST(WriteEnvFile, RefusesAProjectIdThatIsNotOnePathComponent) {
    const auto dir = fresh_directory("claudable-unit-path");
    for (const std::string id : {"..", ".", "a/b", ""}) {
        EXPECT_EQ(refusal_of(dir, id), "project_id \"" + id + "\" cannot name a directory") << id;
        EXPECT_TRUE(std::filesystem::is_empty(dir)) << id << ": nothing was written in the projects directory";
        EXPECT_FALSE(std::filesystem::exists(dir.parent_path() / ".env.production")) << id << ": nor above it";
    }
    std::filesystem::remove_all(dir);
}

namespace {
// "SQLSTATE: message" of the claudable::Error `action` throws, or "no error".
template <typename Action>
std::string error_of(Action action) {
    try {
        action();
    } catch (const Error& e) {
        return e.sqlstate() + ": " + e.what();
    }
    return "no error";
}
const std::string verifier = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";
PoolerEntry entry(std::string server, std::string database, std::string user) {
    return PoolerEntry{std::move(server), std::move(database), std::move(user), "10.0.0.5", 5432, verifier};
}
}  // namespace

TEST(PgbouncerConfig, RendersOneDatabaseEntryPerProjectPointingAtItsServer) {
    EXPECT_EQ(render_pgbouncer_databases({entry("a", "app_db_x", "app_u_x")}, "transaction"),
              "; Written by `claudable pgbouncer-config`: one entry per project. Do not edit;\n"
              "; run it again, then RELOAD PgBouncer.\n[databases]\n"
              "app_db_x = host=10.0.0.5 port=5432 dbname=app_db_x pool_mode=transaction\n");
}
TEST(PgbouncerConfig, RendersTheAuthFileWithVerifiersOnly) {
    EXPECT_EQ(render_pgbouncer_auth_file({entry("a", "app_db_x", "app_u_x"), entry("b", "app_db_y", "app_u_y")}),
              "\"app_u_x\" \"" + verifier + "\"\n\"app_u_y\" \"" + verifier + "\"\n");
}
TEST(PgbouncerConfig, RefusesAHostThatCouldStartANewSetting) {
    PoolerEntry hostile = entry("a", "app_db_x", "app_u_x");
    hostile.host = "10.0.0.5\nauth_type = trust";
    EXPECT_EQ(error_of([&] { render_pgbouncer_databases({hostile}, "transaction"); }),
              "22023: pooler entry for database \"app_db_x\" has an unusable host; nothing was written");
}
TEST(PgbouncerConfig, RefusesARoleNameWithAQuote) {
    EXPECT_EQ(error_of([] { render_pgbouncer_auth_file({entry("a", "app_db_x", "app_u\" \"x")}); }),
              "22023: pooler entry for database \"app_db_x\" has an unusable role name; nothing was written");
}
TEST(PgbouncerConfig, RefusesAPlainPasswordOrMd5HashInsteadOfAScramVerifier) {
    PoolerEntry plain = entry("a", "app_db_x", "app_u_x");
    plain.scram_verifier = "md5e10adc3949ba59abbe56e057f20f883e";
    try {
        render_pgbouncer_auth_file({plain});
        ADD_FAILURE() << "not refused";
    } catch (const InvalidInput& e) {
        EXPECT_EQ(std::string(e.what()).find("md5"), std::string::npos) << "the message shows the secret";
    }
}
TEST(PgbouncerConfig, RefusesToRenderOneDatabaseOnTwoServers) {
    EXPECT_EQ(error_of([] {
                  render_pgbouncer_databases({entry("a", "app_db_x", "app_u_x"), entry("b", "app_db_x", "app_u_x")},
                                             "transaction");
              }),
              "22023: pooler entry for database \"app_db_x\" has a database name that server \"b\" also has (one "
              "project on two servers: run claudable_fleet_check() on the directory); nothing was written");
}
TEST(PgbouncerConfig, WritesBothFilesMode0600AndReplacesASymlinkWithoutFollowingIt) {
    const auto dir = fresh_directory("claudable-unit-pgb");
    std::filesystem::create_directories(dir);
    { std::ofstream(dir / "target") << "keep\n"; }
    std::filesystem::create_symlink(dir / "target", dir / pgbouncer_auth_file);
    write_pgbouncer_config(dir.string(), {entry("a", "app_db_x", "app_u_x")}, "session");
    struct stat st {};
    for (const char* name : {pgbouncer_auth_file, pgbouncer_databases_file}) {
        ASSERT_EQ(::lstat((dir / name).c_str(), &st), 0);
        EXPECT_TRUE(S_ISREG(st.st_mode)) << name;
        EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
    }
    EXPECT_EQ(slurp(dir / "target"), "keep\n");
    EXPECT_NE(slurp(dir / pgbouncer_databases_file).find("pool_mode=session"), std::string::npos);
    std::filesystem::remove_all(dir);
}
namespace {
// A verifier PostgreSQL accepts from ALTER ROLE ... PASSWORD (its salt may be any length)
// but PgBouncer's auth file cannot take: a salt of 200 base64 characters.
const std::string long_salt(200, 'A');
const std::string overlong_salt_verifier = "SCRAM-SHA-256$4096:" + long_salt + "$c3RvcmVk:c2VydmVy";
}  // namespace

TEST(PgbouncerConfig, SkipsAnEntryWithAnOverlongSaltAndWritesEveryOtherOne) {
    const auto dir = fresh_directory("claudable-unit-pgb-skip");
    PoolerEntry tenant = entry("a", "app_db_y", "app_u_y");
    tenant.scram_verifier = overlong_salt_verifier;
    const PgbouncerConfigResult result =
        write_pgbouncer_config(dir.string(), {entry("a", "app_db_x", "app_u_x"), tenant, entry("b", "app_db_z", "app_u_z")},
                               "transaction");
    EXPECT_EQ(slurp(dir / pgbouncer_auth_file), "\"app_u_x\" \"" + verifier + "\"\n\"app_u_z\" \"" + verifier + "\"\n");
    EXPECT_EQ(slurp(dir / pgbouncer_databases_file),
              render_pgbouncer_databases({entry("a", "app_db_x", "app_u_x"), entry("b", "app_db_z", "app_u_z")},
                                         "transaction"));
    ASSERT_EQ(result.written.size(), 2u);
    EXPECT_EQ(result.written[0].database_name, "app_db_x");
    EXPECT_EQ(result.written[1].database_name, "app_db_z");
    std::filesystem::remove_all(dir);
}
TEST(PgbouncerConfig, ReportsASkippedEntryByItsNamesAndReasonWithoutItsVerifier) {
    PoolerEntry tenant = entry("b", "app_db_y", "app_u_y");
    tenant.scram_verifier = overlong_salt_verifier;
    tenant.project_id = "y";
    const PgbouncerConfigResult result = sort_pooler_entries({entry("a", "app_db_x", "app_u_x"), tenant});
    ASSERT_EQ(result.skipped.size(), 1u);
    const SkippedPoolerEntry& skipped = result.skipped[0];
    EXPECT_EQ(skipped.server + " " + skipped.database_name + " " + skipped.project_id + ": " + skipped.reason,
              "b app_db_y y: no SCRAM-SHA-256 verifier PgBouncer can use");
    EXPECT_EQ(skipped.reason.find("AAAA"), std::string::npos) << "the reason shows the verifier's salt";
}
TEST(PgbouncerConfig, SkipsAnEntryWithAnUnusablePort) {
    const auto dir = fresh_directory("claudable-unit-pgb2");
    PoolerEntry hostile = entry("a", "app_db_x", "app_u_x");
    hostile.port = 0;
    const PgbouncerConfigResult result =
        write_pgbouncer_config(dir.string(), {hostile, entry("a", "app_db_y", "app_u_y")}, "transaction");
    ASSERT_EQ(result.skipped.size(), 1u);
    EXPECT_EQ(result.skipped[0].database_name + ": " + result.skipped[0].reason, "app_db_x: an unusable port");
    EXPECT_EQ(slurp(dir / pgbouncer_auth_file), "\"app_u_y\" \"" + verifier + "\"\n");
    std::filesystem::remove_all(dir);
}
TEST(PgbouncerConfig, ShowsAnUnusableNameInAReportAsAQuestionMark) {
    PoolerEntry hostile = entry("a", "app_db_x\nauth_type = trust", "app_u_x");
    hostile.project_id = "x\ny";
    const PgbouncerConfigResult result = sort_pooler_entries({hostile});
    ASSERT_EQ(result.skipped.size(), 1u);
    EXPECT_EQ(result.skipped[0].database_name + " " + result.skipped[0].project_id + ": " + result.skipped[0].reason,
              "? ?: an unusable database name");
}
TEST(PgbouncerConfig, LeavesBothCopiesOfOneDatabaseOnTwoServersOutAndWritesEveryOtherEntry) {
    const auto dir = fresh_directory("claudable-unit-pgb3");
    const PgbouncerConfigResult result =
        write_pgbouncer_config(dir.string(),
                               {entry("a", "app_db_x", "app_u_x"), entry("a", "app_db_y", "app_u_y"),
                                entry("b", "app_db_x", "app_u_x"), entry("b", "app_db_z", "app_u_z")},
                               "transaction");
    EXPECT_EQ(slurp(dir / pgbouncer_databases_file),
              render_pgbouncer_databases({entry("a", "app_db_y", "app_u_y"), entry("b", "app_db_z", "app_u_z")},
                                         "transaction"));
    EXPECT_EQ(slurp(dir / pgbouncer_auth_file), "\"app_u_y\" \"" + verifier + "\"\n\"app_u_z\" \"" + verifier + "\"\n");
    ASSERT_EQ(result.written.size(), 2u);
    std::filesystem::remove_all(dir);
}
TEST(PgbouncerConfig, NamesEachCopyOfADatabaseOnTwoServersWithTheOtherServer) {
    const PgbouncerConfigResult result = sort_pooler_entries(
        {entry("a", "app_db_x", "app_u_x"), entry("a", "app_db_y", "app_u_y"), entry("b", "app_db_x", "app_u_x")});
    ASSERT_EQ(result.skipped.size(), 2u);
    EXPECT_EQ(result.skipped[0].server + " " + result.skipped[0].database_name + ": " + result.skipped[0].reason,
              "a app_db_x: a database name that server \"b\" also has (one project on two servers: run "
              "claudable_fleet_check() on the directory)");
    EXPECT_EQ(result.skipped[1].server + " " + result.skipped[1].database_name + ": " + result.skipped[1].reason,
              "b app_db_x: a database name that server \"a\" also has (one project on two servers: run "
              "claudable_fleet_check() on the directory)");
    ASSERT_EQ(result.written.size(), 1u);
    EXPECT_EQ(result.written[0].database_name, "app_db_y");
}
TEST(PgbouncerConfig, LeavesOutEveryEntryOfARoleNameTwoEntriesHave) {
    // Two verifiers for one role in the auth file: PgBouncer would check every login of that
    // role against one of them.
    const PgbouncerConfigResult result =
        sort_pooler_entries({entry("a", "app_db_x", "app_u_x"), entry("b", "app_db_w", "app_u_x"),
                             entry("b", "app_db_y", "app_u_y")});
    ASSERT_EQ(result.skipped.size(), 2u);
    EXPECT_EQ(result.skipped[0].database_name + ": " + result.skipped[0].reason,
              "app_db_x: a role name that server \"b\" also has (one project on two servers: run "
              "claudable_fleet_check() on the directory)");
    EXPECT_EQ(result.skipped[1].database_name, "app_db_w");
    ASSERT_EQ(result.written.size(), 1u);
    EXPECT_EQ(result.written[0].database_name, "app_db_y");
}

TEST(WriteEnvFile, WritesThePooledUrlAsDatabaseUrlAndTheDirectOneAsDirectUrl) {
    const auto dir = fresh_directory("claudable-unit-bundle");
    std::filesystem::create_directories(dir / "shop");
    { std::ofstream(dir / "shop/.env.production") << "export DIRECT_URL=old\r\nA=1\r\n"; }
    write_env_file(dir.string(), "shop", app_database_variables("postgresql://direct", "postgresql://pooled"));
    EXPECT_EQ(slurp(dir / "shop/.env.production"), "export DIRECT_URL=postgresql://direct\r\nA=1\r\nDATABASE_URL=postgresql://pooled\r\n");
    std::filesystem::remove_all(dir);
}

TEST(AppDatabaseVariables, DatabaseUrlIsThePooledUrlWhenThereIsOneAndDirectUrlAlwaysTheDirectOne) {
    const AppDatabaseVariables pooled = app_database_variables("postgresql://direct", "postgresql://pooled");
    EXPECT_EQ(pooled.database_url, "postgresql://pooled");
    EXPECT_EQ(pooled.direct_url, "postgresql://direct");
    const AppDatabaseVariables direct = app_database_variables("postgresql://direct", "");
    EXPECT_EQ(direct.database_url, "postgresql://direct");
    EXPECT_EQ(direct.direct_url, "postgresql://direct");
}
TEST(AppDatabaseVariables, RefuseAUrlWithALineBreak) {
    EXPECT_THROW(app_database_variables("postgresql://a\nPGPASSWORD=x", ""), InvalidInput);
    EXPECT_THROW(app_database_variables("postgresql://a", "postgresql://b\r"), InvalidInput);
    EXPECT_THROW(merge_env_variables("", {{"DATABASE_URL", "a\nb"}}), InvalidInput);
}

TEST(MergeEnvVariables, ReplacesEachLineInPlaceAddsTheMissingOnesAndDropsDuplicates) {
    EXPECT_EQ(merge_env_variables("A=1\r\nexport DIRECT_URL=old\r\nDATABASE_URL=old\r\nDATABASE_URL=dup\r\n",
                                  {{"DATABASE_URL", "p"}, {"DIRECT_URL", "d"}}),
              "A=1\r\nexport DIRECT_URL=d\r\nDATABASE_URL=p\r\n");
    EXPECT_EQ(merge_env_variables("A=1", {{"DATABASE_URL", "p"}, {"DIRECT_URL", "d"}}), "A=1\nDATABASE_URL=p\nDIRECT_URL=d\n");
    EXPECT_EQ(merge_env_variables("DIRECT_URL_X=1\n#DIRECT_URL=y\n", {{"DIRECT_URL", "d"}}),
              "DIRECT_URL_X=1\n#DIRECT_URL=y\nDIRECT_URL=d\n");
}

namespace {
// The platform's process as an attacker would like it: its own secrets, the deploy service's
// credentials and variables that change how Node or a Next.js build runs.
const std::vector<std::string> platform_environment = {
    "PATH=/usr/bin",          "HOME=/home/app",
    "NODE_ENV=production",    "PORT=3000",
    "TZ=UTC",                 "LANG=C.UTF-8",
    "NEXTAUTH_SECRET=nextauth-secret", "AWS_SECRET_ACCESS_KEY=aws-secret",
    "POSTGRES_URL=postgresql://platform:platform-secret@db/platform", "NODE_OPTIONS=--require /tmp/evil.js",
    "__NEXT_PRIVATE_PREBUNDLED_REACT=next", "__NEXT_PRIVATE_ORIGIN=http://internal-origin",
    "PGPASSWORD=pg-secret",   "PGPASSFILE=/root/.pgpass", "PGSERVICE=admin", "PGHOST=h", "PGUSER=postgres",
    "DB_ADMIN_URL=postgresql://deploy:admin-secret@db/meta", "DATABASE_URL=stale", "DIRECT_URL=stale-direct",
    "STRIPE_SECRET_KEY=sk_live_x"};
}  // namespace

TEST(EnvironmentForApp, IsTheBaseListAndTheDatabaseVariablesAndNothingElse) {
    EXPECT_EQ(environment_for_app(platform_environment, app_database_variables("postgresql://direct", "postgresql://pooled")),
              (std::vector<std::string>{"PATH=/usr/bin", "HOME=/home/app", "NODE_ENV=production", "PORT=3000", "TZ=UTC",
                                        "LANG=C.UTF-8", "DATABASE_URL=postgresql://pooled",
                                        "DIRECT_URL=postgresql://direct"}));
}
TEST(EnvironmentForApp, NoneOfThePlatformsSecretsReachesTheApp) {
    std::string all;
    for (const auto& entry : environment_for_app(platform_environment, app_database_variables("postgresql://app", ""),
                                                 {"STRIPE_SECRET_KEY"}))
        all += entry + "\n";
    for (const char* leaked : {"NEXTAUTH_SECRET", "AWS_SECRET_ACCESS_KEY", "POSTGRES_URL", "NODE_OPTIONS", "__NEXT_PRIVATE",
                               "PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGHOST", "PGUSER", "DB_ADMIN_URL", "nextauth-secret",
                               "aws-secret", "platform-secret", "evil.js", "pg-secret", "admin-secret", "stale"})
        EXPECT_EQ(all.find(leaked), std::string::npos) << leaked << " reached the app";
    EXPECT_NE(all.find("STRIPE_SECRET_KEY=sk_live_x\n"), std::string::npos) << "a name passed explicitly reaches it";
}
TEST(EnvironmentForApp, PassesANamedVariableAndLeavesOutOneTheParentDoesNotHave) {
    const auto env = environment_for_app({"PATH=/bin", "KEEP_ME=yes", "DROP_ME=no", "EMPTY="},
                                         app_database_variables("postgresql://app", ""), {"KEEP_ME", "EMPTY", "NOT_SET"});
    EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "KEEP_ME=yes", "EMPTY=", "DATABASE_URL=postgresql://app",
                                             "DIRECT_URL=postgresql://app"}));
}
TEST(EnvironmentForApp, RefusesToPassDbAdminUrlAnyPgVariableOrTheDatabaseVariables) {
    for (const std::string name : {"DB_ADMIN_URL", "PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGHOST", "pgpassword",
                                   "db_admin_url", "DATABASE_URL", "DIRECT_URL"}) {
        try {
            environment_for_app(platform_environment, app_database_variables("postgresql://app", ""), {name});
            ADD_FAILURE() << name << " was passed";
        } catch (const InvalidInput& e) {
            EXPECT_NE(std::string(e.what()).find(name + " may not be passed to the app"), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).find("admin-secret"), std::string::npos);
            EXPECT_EQ(exit_code_for(e), 3);
        }
    }
    EXPECT_THROW(check_app_variable_names({"A=B"}), InvalidInput);
    EXPECT_THROW(check_app_variable_names({""}), InvalidInput);
    EXPECT_NO_THROW(check_app_variable_names({"STRIPE_SECRET_KEY", "_X1"}));
}

int exit_code_of(const std::string& sqlstate) {
    try {
        throw_for_sqlstate(sqlstate, "m");
    } catch (const Error& e) {
        return exit_code_for(e);
    }
    return -1;
}
TEST(Errors, MapSqlstateToTypeAndExitCode) {
    EXPECT_THROW(throw_for_sqlstate("22023", "m"), InvalidInput);
    EXPECT_THROW(throw_for_sqlstate("42501", "m"), PermissionDenied);
    EXPECT_THROW(throw_for_sqlstate("42710", "m"), Conflict);
    EXPECT_THROW(throw_for_sqlstate("53000", "m"), TransientError);
    EXPECT_EQ(exit_code_of("22023"), 3);
    EXPECT_EQ(exit_code_of("42501"), 4);
    EXPECT_EQ(exit_code_of("42710"), 5);
    for (const char* transient : {"53000", "57P03", "40001", "08006", "08001"}) EXPECT_EQ(exit_code_of(transient), 6) << transient;
    EXPECT_EQ(exit_code_for(OutcomeUnknown("08006", "m")), 7);
    EXPECT_EQ(exit_code_of("XX000"), 1);
}

TEST(Errors, ASessionTheServerEndedIsTransient) {
    for (const char* ended : {"57P01", "57P02"}) {
        EXPECT_THROW(throw_for_sqlstate(ended, "m"), TransientError) << ended;
        EXPECT_EQ(exit_code_of(ended), 6) << ended;
    }
}
TEST(Errors, ABranchOfABranchIsInvalidInput) {
    EXPECT_THROW(throw_for_sqlstate("0A000", "m"), InvalidInput);
    EXPECT_EQ(exit_code_of("0A000"), 3);
}
TEST(Errors, SessionsThatDidNotEndInTimeAreTransient) {
    EXPECT_THROW(throw_for_sqlstate("55006", "m"), TransientError);
    EXPECT_EQ(exit_code_of("55006"), 6);
}
TEST(Faults, ASessionTheServerEndedAsTheAnswerToACallMayHaveRunIt) {
    for (const char* ended : {"57P01", "57P02"})
        EXPECT_THROW(detail::throw_for_answer(ended, "terminating connection due to administrator command"),
                     detail::LostAfterSending)
            << ended;
}
TEST(Faults, ADirectorysBrokenConnectionToItsServerAsTheAnswerMayHaveRunTheCall) {
    EXPECT_THROW(detail::throw_for_answer("08006", "claudable fleet: the connection to server \"a\" broke during the call"),
                 detail::LostAfterSending);
}
TEST(Faults, AnotherTransientAnswerMeansNothingRan) {
    for (const char* refused : {"53000", "57P03", "40001", "08001"}) {
        try {
            detail::throw_for_answer(refused, "m");
        } catch (const detail::LostAfterSending&) {
            ADD_FAILURE() << refused << " is taken for a call that may have run";
        } catch (const TransientError&) {
            continue;
        }
        ADD_FAILURE() << refused << " is not transient";
    }
}
TEST(Faults, ALoginEndedByARestartOrACrashIsWorthARetry) {
    for (const char* ended : {"FATAL:  terminating connection due to administrator command",
                              "FATAL:  terminating connection because of crash of another server process",
                              "FATAL:  the database system is shutting down",
                              "could not connect to server: Connection refused"})
        EXPECT_TRUE(detail::login_failure_is_transient(
            std::string("connection to server at \"127.0.0.1\", port 5432 failed: ") + ended))
            << ended;
}
TEST(Faults, ALoginTheServerRefusedIsNotRetried) {
    EXPECT_FALSE(detail::login_failure_is_transient(
        "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"d\""));
}

// ---- pooler-sync: entries with PgBouncer's auth_user, and when it syncs ----------------------
TEST(PgbouncerConfig, AnAuthUserEntryNamesItAndNeedsNoVerifier) {
    PoolerEntry without = entry("a", "app_db_x", "app_u_x");
    without.scram_verifier.clear();  // pooler-sync does not read verifiers with an auth_user
    EXPECT_EQ(render_pgbouncer_databases({without}, "transaction", "claudable_pgbouncer", "; mine\n"),
              "; mine\n[databases]\n"
              "app_db_x = host=10.0.0.5 port=5432 dbname=app_db_x auth_user=claudable_pgbouncer pool_mode=transaction\n");
    EXPECT_TRUE(sort_pooler_entries({without}, false).skipped.empty());
    EXPECT_EQ(sort_pooler_entries({without}).skipped.size(), 1u) << "without an auth_user a verifier is needed";
}
TEST(PgbouncerConfig, AnAuthUserEntryIsStillSkippedForAnythingThatCouldBreakALine) {
    PoolerEntry host = entry("b", "app_db_y", "app_u_y");
    host.host = "10.0.0.5 auth_user=postgres";
    PoolerEntry name = entry("b", "app_db_z = host=10.6.6.6", "app_u_z");
    const PgbouncerFiles files =
        render_pgbouncer_files({entry("a", "app_db_x", "app_u_x"), host, name}, "transaction", "claudable_pgbouncer");
    ASSERT_EQ(files.result.skipped.size(), 2u);
    EXPECT_EQ(files.result.skipped[0].database_name + ": " + files.result.skipped[0].reason, "app_db_y: an unusable host");
    EXPECT_EQ(files.result.skipped[1].database_name + ": " + files.result.skipped[1].reason,
              "?: an unusable database name");
    EXPECT_EQ(files.databases.find("10.6.6.6"), std::string::npos);
    EXPECT_EQ(files.databases.find("auth_user=postgres"), std::string::npos);
    EXPECT_FALSE(files.with_auth_file);
    EXPECT_EQ(files.auth, "");
}
TEST(PgbouncerConfig, RefusesAnAuthUserThatCouldBreakALine) {
    for (const char* hostile : {"", "claudable pgbouncer", "x\nauth_type=trust", "a=b"})
        EXPECT_EQ(error_of([&] { render_pgbouncer_files({}, "transaction", hostile); }).substr(0, 7),
                  std::string(hostile).empty() ? "no erro" : "22023: ")
            << hostile;
}
TEST(PgbouncerConfig, WithAnAuthUserOnlyTheDatabasesFileIsWrittenAndTheAuthFileIsLeftAlone) {
    const auto dir = fresh_directory("claudable-unit-pgb-auth-user");
    { std::ofstream(dir / pgbouncer_auth_file) << "\"pgbouncer_admin\" \"kept\"\n"; }
    write_pgbouncer_files(dir.string(),
                          render_pgbouncer_files({entry("a", "app_db_x", "app_u_x")}, "session", "claudable_pgbouncer"));
    EXPECT_EQ(slurp(dir / pgbouncer_auth_file), "\"pgbouncer_admin\" \"kept\"\n");
    const std::string databases = slurp(dir / pgbouncer_databases_file);
    EXPECT_NE(databases.find("auth_user=claudable_pgbouncer pool_mode=session"), std::string::npos) << databases;
    EXPECT_EQ(databases.find("SCRAM"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::lstat((dir / pgbouncer_databases_file).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::filesystem::remove_all(dir);
}

namespace {
using detail::SyncSchedule;
using std::chrono::milliseconds;
const SyncSchedule::TimePoint t0 = SyncSchedule::Clock::now();
SyncSchedule::TimePoint at(long ms) { return t0 + milliseconds(ms); }
}  // namespace

TEST(PoolerSyncSchedule, TheFirstSyncIsDueAtOnce) {
    SyncSchedule schedule(milliseconds(30000), milliseconds(200), milliseconds(5000));
    EXPECT_LE(schedule.due(), t0);
}
TEST(PoolerSyncSchedule, WithoutANotificationTheIntervalIsTheSafetyNet) {
    SyncSchedule schedule(milliseconds(30000), milliseconds(200), milliseconds(5000));
    schedule.starting();
    schedule.succeeded(at(0));
    EXPECT_EQ(schedule.due(), at(30000));
}
TEST(PoolerSyncSchedule, ANotificationLongAfterTheLastSyncIsSyncedAtOnce) {
    SyncSchedule schedule(milliseconds(30000), milliseconds(200), milliseconds(5000));
    schedule.starting();
    schedule.succeeded(at(0));
    schedule.wanted();  // at 5 s
    EXPECT_LE(schedule.due(), at(5000));
}
TEST(PoolerSyncSchedule, AFloodOfNotificationsCostsOneSyncPerCoalescingInterval) {
    SyncSchedule schedule(milliseconds(30000), milliseconds(200), milliseconds(5000));
    // 10,000 notifications over 2 s, a sync whenever one is due (each taking 10 ms).
    int syncs = 0;
    long next = 0;
    for (long ms = 0; ms < 2000; ++ms) {
        for (int i = 0; i < 5; ++i) schedule.wanted();
        if (schedule.due() <= at(ms) && ms >= next) {
            schedule.starting();
            schedule.succeeded(at(ms + 10));
            next = ms + 10;
            ++syncs;
        }
    }
    EXPECT_LE(syncs, 2000 / 200 + 1) << syncs << " syncs";
    EXPECT_GE(syncs, 2000 / 210 - 1) << "the flood still gets synced: " << syncs;
}
TEST(PoolerSyncSchedule, ANotificationDuringASyncMakesAnotherOneAfterTheCoalescingInterval) {
    SyncSchedule schedule(milliseconds(30000), milliseconds(200), milliseconds(5000));
    schedule.starting();
    schedule.wanted();  // a project committed while the entries were being read
    schedule.succeeded(at(40));
    EXPECT_TRUE(schedule.is_wanted());
    EXPECT_EQ(schedule.due(), at(240));
}
TEST(PoolerSyncSchedule, FailuresBackOffDoublingUpToTheMaximumAndASuccessResetsIt) {
    SyncSchedule schedule(milliseconds(30000), milliseconds(200), milliseconds(1000));
    std::vector<long> waits;
    for (int i = 0; i < 5; ++i) {
        schedule.starting();
        waits.push_back(schedule.failed(at(0)).count());
        EXPECT_TRUE(schedule.is_wanted()) << "a failed sync is tried again";
    }
    EXPECT_EQ(waits, (std::vector<long>{250, 500, 1000, 1000, 1000}));
    EXPECT_EQ(schedule.due(), at(1000));
    schedule.starting();
    schedule.succeeded(at(0));
    EXPECT_EQ(schedule.failed(at(0)).count(), 250);
}

// ---- expires_at: RFC 3339 in, UTC out ------------------------------------------------------
namespace {
// The refusal of `text` as a message, or "" when it was taken.
std::string refusal_of(const std::string& text) {
    try {
        parse_timestamp(text);
    } catch (const InvalidInput& e) {
        return e.what();
    }
    return "";
}
}  // namespace
TEST(Timestamp, ReadsUtcAndWritesItBackWithMicroseconds) {
    EXPECT_EQ(format_timestamp(parse_timestamp("2026-12-31T23:59:58Z")), "2026-12-31T23:59:58.000000Z");
    EXPECT_EQ(format_timestamp(parse_timestamp("2026-12-31t23:59:58.5z")), "2026-12-31T23:59:58.500000Z");
    EXPECT_EQ(format_timestamp(parse_timestamp("2026-12-31 23:59:58.123456789Z")), "2026-12-31T23:59:58.123456Z")
        << "past microseconds the fraction is cut";
}
TEST(Timestamp, AppliesTheOffset) {
    EXPECT_EQ(format_timestamp(parse_timestamp("2027-01-01T02:00:00+02:00")), "2027-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_timestamp(parse_timestamp("2026-12-31T19:30:00-04:30")), "2027-01-01T00:00:00.000000Z");
    EXPECT_EQ(parse_timestamp("2026-02-28T23:00:00-01:00"), parse_timestamp("2026-03-01T00:00:00Z"));
}
TEST(Timestamp, IsTheSameInstantAsTheSystemClocks) {
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:01Z").time_since_epoch(), std::chrono::seconds(1));
    const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    EXPECT_EQ(parse_timestamp(format_timestamp(now)), now);
}
TEST(Timestamp, RefusesATimeWithoutAnOffset) {
    // The server would read it in its session's TimeZone: which instant it is would depend on it.
    EXPECT_NE(refusal_of("2026-12-31T00:00:00"), "");
    EXPECT_NE(refusal_of("2026-12-31"), "");
}
TEST(Timestamp, RefusesWhatIsNotATime) {
    for (const char* text : {"", "tomorrow", "now", "infinity", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
                             "2026-12-31T24:00:00Z", "2026-12-31T00:60:00Z", "2026-12-31T00:00:60Z", "0000-01-01T00:00:00Z",
                             "2026-12-31T00:00:00+24:00", "2026-12-31T00:00:00+0200", "2026-12-31T00:00:00.Z",
                             "2026-12-31T00:00:00Z ", " 2026-12-31T00:00:00Z", "2026-12-31T00:00:00Z; DROP TABLE x",
                             "+2026-12-31T00:00:00Z", "2026-1-31T00:00:00Z", "1767139200"})
        EXPECT_NE(refusal_of(text), "") << "taken: " << text;
}
TEST(Timestamp, ARefusalNamesTheRuleAndNeverEchoesTheText) {
    const std::string pasted = "postgresql://deploy:s3cret@db/meta";
    const std::string message = refusal_of(pasted);
    EXPECT_NE(message.find("RFC 3339"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
    EXPECT_EQ(message.find("postgresql://"), std::string::npos) << message;
}
