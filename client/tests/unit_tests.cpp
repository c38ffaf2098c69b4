// Unit tests of the client library: no server needed.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "claudable/env_file.hpp"
#include "claudable/errors.hpp"
#include "claudable/secret.hpp"
#include "connection_url.hpp"

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

TEST(WriteEnvFile, CreatesTheDirectoryAndAFileOfMode0600) {
    const auto dir = std::filesystem::temp_directory_path() / ("claudable-unit-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    write_env_file((dir / "shop").string(), "postgresql://a");
    struct stat st {};
    ASSERT_EQ(::stat((dir / "shop/.env.production").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::ifstream in(dir / "shop/.env.production");
    std::stringstream content;
    content << in.rdbuf();
    EXPECT_EQ(content.str(), "DATABASE_URL=postgresql://a\n");
    std::filesystem::remove_all(dir);
}
TEST(WriteEnvFile, MergesIntoTheFileAndLeavesNoTemporaryFile) {
    const auto dir = std::filesystem::temp_directory_path() / ("claudable-unit2-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    { std::ofstream(dir / ".env.production") << "NODE_ENV=production\nDATABASE_URL=old\n"; }
    write_env_file(dir.string(), "postgresql://b");
    std::ifstream in(dir / ".env.production");
    std::stringstream content;
    content << in.rdbuf();
    EXPECT_EQ(content.str(), "NODE_ENV=production\nDATABASE_URL=postgresql://b\n");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
    std::filesystem::remove_all(dir);
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
    EXPECT_EQ(exit_code_of("XX000"), 1);
}
