#include "claudable/secret.hpp"

#include <openssl/crypto.h>

namespace claudable {

Secret::~Secret() {
    if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

std::string mask_url(const std::string& url) {
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return url;
    const std::size_t authority = scheme_end + 3;
    const std::size_t authority_end = url.find_first_of("/?#", authority);
    const std::size_t at = url.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end);
    if (at == std::string::npos || at < authority) return url;
    const std::size_t colon = url.find(':', authority);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + password_mask + url.substr(at);
}

Secret password_secret(std::string password) { return Secret(std::move(password), password_mask); }

Secret url_secret(std::string url) {
    std::string masked = mask_url(url);
    return Secret(std::move(url), std::move(masked));
}

}  // namespace claudable
