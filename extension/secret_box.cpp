#include "secret_box.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "failure.hpp"

namespace claudable {
namespace {

constexpr unsigned char box_version = 1;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr std::size_t key_file_chars = SecretKey::size * 2;

[[noreturn]] void key_file_failure(const std::string& what, const std::string& path, int err) {
    fail(sqlstate::config_file_error, "claudable: " + what + " key file \"" + path + "\": " + std::strerror(err),
         {}, "Check claudable.key_file and the file's owner and permissions (it must be readable by the server only).");
}

struct FileDescriptor {
    int fd = -1;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Returns false when the file does not exist.
bool read_key_file(const std::string& path, SecretKey& key) {
    FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (file.fd < 0) {
        if (errno == ENOENT) return false;
        key_file_failure("cannot open", path, errno);
    }
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) key_file_failure("cannot stat", path, errno);
    if (!S_ISREG(st.st_mode))
        fail(sqlstate::config_file_error, "claudable: key file \"" + path + "\" is not a regular file");
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        fail(sqlstate::config_file_error, "claudable: key file \"" + path + "\" has group or world access",
             {}, "Run chmod 600 on it.");
    char text[key_file_chars + 2] = {};
    ssize_t got = ::read(file.fd, text, sizeof text);
    if (got < 0) key_file_failure("cannot read", path, errno);
    std::size_t length = static_cast<std::size_t>(got);
    if (length > 0 && text[length - 1] == '\n') --length;
    bool well_formed = length == key_file_chars;
    for (std::size_t i = 0; well_formed && i < SecretKey::size; ++i) {
        int high = hex_value(text[2 * i]), low = hex_value(text[2 * i + 1]);
        well_formed = high >= 0 && low >= 0;
        if (well_formed) key.data()[i] = static_cast<unsigned char>(high << 4 | low);
    }
    OPENSSL_cleanse(text, sizeof text);
    if (!well_formed)
        fail(sqlstate::config_file_error, "claudable: key file \"" + path + "\" is not 64 hexadecimal characters",
             {}, "Restore the key file from backup; without it stored passwords cannot be read.");
    return true;
}

// Writes a fresh key beside `path` and links it into place, so that two backends
// creating it at once agree on one key: link() fails for the loser, which then reads.
void create_key_file(const std::string& path) {
    unsigned char raw[SecretKey::size];
    if (RAND_bytes(raw, sizeof raw) != 1)
        fail(sqlstate::internal_error, "claudable: could not generate a random key");
    static constexpr char hex[] = "0123456789abcdef";
    char text[key_file_chars + 1];
    for (std::size_t i = 0; i < sizeof raw; ++i) {
        text[2 * i] = hex[raw[i] >> 4];
        text[2 * i + 1] = hex[raw[i] & 0x0f];
    }
    text[key_file_chars] = '\n';
    OPENSSL_cleanse(raw, sizeof raw);

    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    {
        FileDescriptor file{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR)};
        if (file.fd < 0) key_file_failure("cannot create", temporary, errno);
        bool written = ::write(file.fd, text, sizeof text) == static_cast<ssize_t>(sizeof text) &&
                       ::fsync(file.fd) == 0;
        int err = errno;
        OPENSSL_cleanse(text, sizeof text);
        if (!written) {
            ::unlink(temporary.c_str());
            key_file_failure("cannot write", temporary, err);
        }
    }
    int linked = ::link(temporary.c_str(), path.c_str());
    int err = errno;
    ::unlink(temporary.c_str());
    if (linked != 0 && err != EEXIST) key_file_failure("cannot create", path, err);
}

struct CipherContext {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
};

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Fetched once per process: OpenSSL 3 otherwise looks the cipher up in its providers on
// every EVP_aes_256_gcm() use, which showed on the warm path.
const EVP_CIPHER* aes_256_gcm() {
    static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (cipher == nullptr) fail(sqlstate::internal_error, "claudable: OpenSSL has no AES-256-GCM");
    return cipher;
}

}  // namespace

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

void wipe(std::string& secret) noexcept {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

void load_or_create_key(const std::string& path, SecretKey& key) {
    if (read_key_file(path, key)) return;
    create_key_file(path);
    if (!read_key_file(path, key))
        fail(sqlstate::config_file_error, "claudable: key file \"" + path + "\" vanished after it was created");
}

const SecretKey& key_for(const std::string& path) {
    static std::string cached_path;
    static std::unique_ptr<SecretKey> cached;
    if (!cached || cached_path != path) {
        auto fresh = std::make_unique<SecretKey>();
        load_or_create_key(path, *fresh);
        cached = std::move(fresh);
        cached_path = path;
    }
    return *cached;
}

std::string seal(const SecretKey& key, std::string_view plaintext, std::string_view context) {
    std::string box(1 + nonce_size + plaintext.size() + tag_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(box.data());
    out[0] = box_version;
    unsigned char* nonce = out + 1;
    unsigned char* cipher = nonce + nonce_size;
    if (RAND_bytes(nonce, nonce_size) != 1) fail(sqlstate::internal_error, "claudable: could not generate a nonce");

    CipherContext c;
    int length = 0;
    bool ok = c.ctx != nullptr &&
              EVP_EncryptInit_ex(c.ctx, aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
              EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce) == 1 &&
              EVP_EncryptUpdate(c.ctx, nullptr, &length, bytes(context), static_cast<int>(context.size())) == 1 &&
              EVP_EncryptUpdate(c.ctx, cipher, &length, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
              EVP_EncryptFinal_ex(c.ctx, cipher + length, &length) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, tag_size, cipher + plaintext.size()) == 1;
    if (!ok) fail(sqlstate::internal_error, "claudable: encryption failed");
    return box;
}

std::string open_sealed(const SecretKey& key, std::string_view box, std::string_view context) {
    const std::string hint = "The key file does not match the one the password was stored with; restore the original claudable.key_file.";
    if (box.size() < 1 + nonce_size + tag_size || static_cast<unsigned char>(box[0]) != box_version)
        fail(sqlstate::data_corrupted, "claudable: stored password has an unknown format", {}, hint);
    const unsigned char* nonce = bytes(box) + 1;
    const unsigned char* cipher = nonce + nonce_size;
    const std::size_t cipher_size = box.size() - 1 - nonce_size - tag_size;
    std::string plaintext(cipher_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plaintext.data());

    CipherContext c;
    int length = 0;
    bool ok = c.ctx != nullptr &&
              EVP_DecryptInit_ex(c.ctx, aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
              EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce) == 1 &&
              EVP_DecryptUpdate(c.ctx, nullptr, &length, bytes(context), static_cast<int>(context.size())) == 1 &&
              EVP_DecryptUpdate(c.ctx, out, &length, cipher, static_cast<int>(cipher_size)) == 1 &&
              EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, tag_size,
                                  const_cast<unsigned char*>(cipher + cipher_size)) == 1 &&
              EVP_DecryptFinal_ex(c.ctx, out + length, &length) == 1;
    if (!ok) {
        wipe(plaintext);
        fail(sqlstate::data_corrupted, "claudable: stored password could not be decrypted", {}, hint);
    }
    return plaintext;
}

}  // namespace claudable
